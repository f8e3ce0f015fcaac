// 1. Call overhead: a monitored `@anthropic-ai/sdk` client against the bare one, same in-process fetch,
// default rules, default event log (CYLESTIO_EVENTS_FILE pointed at a temp file). Plain and
// `stream: true` calls (20 text deltas, every chunk read), prompts of 1 KB and 100 KB of prose.
//
// One task iteration is a batch of calls followed by `flush()`, so the monitored side pays for its
// writes (the log is written off the call's path, on a timer the benchmark loop might otherwise never
// give a chance to run inside the timed window).
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import Anthropic from '@anthropic-ai/sdk'
import { inProcessFetch, params } from './fixtures.mjs'
import { done, fmt, interleaved, loadPackage, median, prose, ratioOf, report, tempDir } from './lib.mjs'

const logFile = join(tempDir('overhead'), 'cylestio-events.jsonl')
process.env.CYLESTIO_EVENTS_FILE = logFile
const { monitor, flush, getMonitorHealth } = await loadPackage()

const sdk = () => new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 })
const bare = sdk()
const monitored = monitor(sdk(), { agentId: 'bench' })

const only = process.argv[2] // e.g. `node bench/overhead.mjs "plain 1 KB"` while profiling
const CASES = [
  { name: 'plain 1 KB', bytes: 1024, stream: false, batch: 50, limit: 1.15 },
  { name: 'stream 1 KB', bytes: 1024, stream: true, batch: 50, limit: 1.15 },
  { name: 'plain 100 KB', bytes: 100 * 1024, stream: false, batch: 10, limit: 1.5 },
  { name: 'stream 100 KB', bytes: 100 * 1024, stream: true, batch: 10, limit: 1.5 },
]

for (const c of CASES) {
  if (only && c.name !== only) continue
  const body = params(prose(c.bytes, c.bytes), c.stream)
  const batch = (client) => async () => {
    for (let i = 0; i < c.batch; i++) {
      const result = await client.messages.create(body)
      if (c.stream) for await (const _chunk of result);
    }
    await flush()
  }
  const t = await interleaved(
    { bare: batch(bare), monitored: batch(monitored) },
    { rounds: 9, time: 500, warmupTime: 250, afterRound: () => rmSync(logFile, { force: true }) },
  )
  const r = ratioOf(t.monitored, t.bare)
  const per = (xs) => fmt.us(median(xs) / c.batch)
  report(
    'overhead',
    c.name,
    r.ratio,
    `bare ${per(t.bare)}  monitored ${per(t.monitored)} per call  ratio ${fmt.x(r.ratio)} (median of ${r.ratios.length} interleaved rounds, range ${fmt.x(r.min)}–${fmt.x(r.max)})`,
    ['<=', c.limit],
  )
}
const health = getMonitorHealth?.()
if (health && (health.droppedEvents > 0 || Object.keys(health.faults).length > 0)) console.log(`overhead  monitor health: ${JSON.stringify(health)}`)
done()
