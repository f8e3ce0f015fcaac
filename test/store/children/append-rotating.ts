// Appends events c0 … c(n-1) to a log that rotates every batch or two (maxBytes small, many
// kept), pausing between batches for times that cycle from a few ms to more than a poll of `events --follow`:
// several rotations between two polls, and about one per poll. Each event's id is also its agent (a
// column of the table `events` prints).
import { JsonlEventLog } from '../../../src/store/index.js'
import type { MonitorEvent } from '../../../src/types.js'

const [file, n, maxBytes, keep] = process.argv.slice(2)
const log = new JsonlEventLog({ path: file, maxBytes: Number(maxBytes), keep: Number(keep), flushIntervalMs: 1000 })
const pauses = [15, 1, 10, 5, 15, 3, 15, 10, 200, 15, 2, 210]
for (let i = 0; i < Number(n); i++) {
  const e: MonitorEvent = { event: 'e', channel: 'LLM', level: 'info', agent_id: `c${i}`, call_id: `c${i}`, timestamp: new Date().toISOString(), data: { pad: 'x'.repeat(100) } }
  log.write(JSON.stringify(e), e)
  if (i % 20 === 19) {
    await log.flush()
    await new Promise((r) => setTimeout(r, pauses[(i / 20) % pauses.length | 0]))
  }
}
await log.flush()
