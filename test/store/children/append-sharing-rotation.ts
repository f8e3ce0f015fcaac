// One of several processes appending to one log that each of them rotates (small maxBytes, nothing
// deleted): events `<prefix>0` … `<prefix>(n-1)`, in batches of a few, yielding between batches so that the
// writers' rotations overlap.
import { JsonlEventLog } from '../../../src/store/index.js'

const [file, prefix, n, maxBytes] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file!, maxBytes: Number(maxBytes), keep: 1000, flushIntervalMs: 1 })
for (let i = 0; i < Number(n); i++) {
  const e = { event: 'LLM_call_finish', channel: 'LLM', level: 'info' as const, agent_id: prefix, call_id: `${prefix}${i}`, timestamp: new Date().toISOString(), data: { pad: 'x'.repeat(60) } }
  log.write(JSON.stringify(e), e)
  if (i % 3 === 2) {
    await log.flush()
    await new Promise((r) => setImmediate(r))
  }
}
log.close()
