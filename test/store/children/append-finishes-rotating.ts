// One process appending `n` finish events to a log it rotates every few kilobytes (nothing deleted),
// yielding now and then, while the test queries the log. Event `i` has `seq` i and `output_tokens` i, so a
// reader can tell a complete prefix of the log from one that lacks events in the middle.
import { JsonlEventLog } from '../../../src/store/index.js'

const [file, n] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file, maxBytes: 4000, keep: 1000, flushIntervalMs: 1 })
for (let i = 0; i < Number(n); i++) {
  const e = {
    event: 'LLM_call_finish' as const,
    channel: 'LLM',
    level: 'info' as const,
    agent_id: 'rotating',
    call_id: `call-${i}`,
    timestamp: new Date().toISOString(),
    data: { seq: i, model: 'm', duration_ms: 1, usage: { input_tokens: 1, output_tokens: i } },
  }
  log.write(JSON.stringify(e), e)
  if (i % 5 === 4) await new Promise((r) => setTimeout(r, 1))
}
await log.flush()
