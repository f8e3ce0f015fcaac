// Acceptance 1: appends 200,000 events through JsonlEventLog and measures each block of 10,000
// (write() calls plus the flush that puts them on disk) and the heap after GC. Run with --expose-gc.
import { JsonlEventLog } from '../../../src/store/index.js'
import { makeEvent } from '../make-event.js'

const [file, warmupFile] = process.argv.slice(2)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')
const BLOCK = 10_000
const BLOCKS = 20

/** Wall time and CPU time (user + system: all the store's work runs on this thread) of one block, in ms. */
async function block(log: JsonlEventLog, first: number): Promise<{ wall: number; cpu: number }> {
  // Serialising is the recorder's work, not the store's: lines are made before the clock starts.
  const events = Array.from({ length: BLOCK }, (_, k) => makeEvent(first + k))
  const lines = events.map((e) => JSON.stringify(e))
  gc!()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let k = 0; k < BLOCK; k++) log.write(lines[k], events[k])
  await log.flush()
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  const cpu = process.cpuUsage(cpu0)
  return { wall, cpu: (cpu.user + cpu.system) / 1e3 }
}

// Warm the JIT on another file, so that the first measured block is not paying for compilation.
const warm = new JsonlEventLog({ path: warmupFile })
for (let b = 0; b < 3; b++) await block(warm, b * BLOCK)
warm.close()

const log = new JsonlEventLog({ path: file })
const wall: number[] = []
const cpu: number[] = []
let heapAfterFirst = 0
for (let b = 0; b < BLOCKS; b++) {
  const t = await block(log, b * BLOCK)
  wall.push(t.wall)
  cpu.push(t.cpu)
  if (b === 0) {
    gc()
    heapAfterFirst = process.memoryUsage().heapUsed
  }
}
gc()
const heapAfterLast = process.memoryUsage().heapUsed
process.stdout.write(`${JSON.stringify({ wall, cpu, heapAfterFirst, heapAfterLast })}\n`)
