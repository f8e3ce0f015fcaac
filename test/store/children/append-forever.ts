// Acceptance 2: appends until killed. After each flush() it reports how many events are on disk.
import { JsonlEventLog } from '../../../src/store/index.js'
import { makeEvent } from '../make-event.js'

const [file] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file, flushIntervalMs: 5, maxBatchEvents: 200 })
let n = 0
for (let round = 0; ; round++) {
  const count = 1 + ((round * 37) % 300)
  for (let k = 0; k < count; k++) {
    const e = makeEvent(n++, { pad: 1500 })
    log.write(JSON.stringify(e), e)
  }
  if (round % 2 === 0) {
    await log.flush()
    process.stdout.write(`flushed ${n}\n`)
  } else {
    await new Promise((r) => setImmediate(r))
  }
}
