// One of several processes appending `n` events stamped now (so that a cleanup keeps them) to one file, as a
// monitored app does, yielding now and then so that cleanups run while it appends.
import { JsonlEventLog } from '../../../src/store/index.js'

const [file, writer, n] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file, flushIntervalMs: 5 })
for (let i = 0; i < Number(n); i++) {
  const e = { event: 'LLM_call_finish', channel: 'LLM', level: 'info' as const, agent_id: `writer-${writer}`, timestamp: new Date().toISOString(), data: { seq: i } }
  log.write(JSON.stringify(e), e)
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1))
}
await log.flush()
