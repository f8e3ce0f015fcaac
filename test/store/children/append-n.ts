// Acceptance 3: one of several processes appending `n` events to one file, yielding now and then so
// that the processes' batches interleave.
import { JsonlEventLog } from '../../../src/store/index.js'
import { makeEvent } from '../make-event.js'

const [file, writer, n] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file, flushIntervalMs: 1, maxBatchEvents: 150 })
for (let i = 0; i < Number(n); i++) {
  const e = { ...makeEvent(i, { pad: 400 }), agent_id: `writer-${writer}` }
  log.write(JSON.stringify(e), e)
  if (i % 97 === 0) await new Promise((r) => setTimeout(r, 0))
}
await log.flush()
