// Acceptance 4: the log's directory is removed mid-run, then comes back; then a full device.
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { getMonitorHealth } from '../../../src/faults.js'
import { JsonlEventLog } from '../../../src/store/index.js'
import { makeEvent } from '../make-event.js'

const [dir] = process.argv.slice(2)
const log = new JsonlEventLog({ path: join(dir, 'events.jsonl') })
let seq = 0
const steps: Record<string, unknown>[] = []

async function append(n: number, label: string): Promise<void> {
  let threw = false
  try {
    for (let k = 0; k < n; k++) {
      const e = makeEvent(seq++)
      log.write(JSON.stringify(e), e)
    }
    await log.flush()
  } catch {
    threw = true
  }
  steps.push({ label, threw, ...getMonitorHealth() })
}

await append(100, 'healthy') // seq 0..99 on disk
rmSync(dir, { recursive: true })
await append(100, 'dir removed') // 100..199 dropped
await append(50, 'still removed') // 200..249 dropped
mkdirSync(dir)
await append(100, 'dir back') // 250..349 on disk

const full = new JsonlEventLog({ path: '/dev/full' })
for (let k = 0; k < 10; k++) full.write(JSON.stringify(makeEvent(k)), makeEvent(k))
let threw = false
try {
  await full.flush()
} catch {
  threw = true
}
steps.push({ label: '/dev/full', threw, ...getMonitorHealth() })
process.stdout.write(`${JSON.stringify(steps)}\n`)
