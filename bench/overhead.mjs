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
const { monitor, flush, getMonitorHealth, loadRules } = await loadPackage()

const sdk = () => new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 })
const bare = sdk()
const monitored = monitor(sdk(), { agentId: 'bench' })
const rules = loadRules()

/**
 * The events a monitored call records (start and finish), taken from a call like the benchmark's: the
 * `floor` task serialises them and scans the prompt, the least the monitor must do per call.
 */
async function eventsOf(body, stream) {
  const events = []
  const probe = monitor(sdk(), { agentId: 'bench', store: false, onEvent: (e) => events.push(e) })
  const result = await probe.messages.create(body)
  if (stream) for await (const _chunk of result);
  const pick = (name) => events.find((e) => e.event === name)
  return [pick('LLM_call_start'), pick('LLM_call_finish')]
}

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
  const [start, finish] = await eventsOf(body, c.stream)
  const prompt = body.messages[0].content
  // One RE2 pass over the prompt and one JSON.stringify of each event, for the same batch of calls.
  const floor = () => {
    for (let i = 0; i < c.batch; i++) {
      rules.scan(prompt, { target: 'user' })
      JSON.stringify(start)
      JSON.stringify(finish)
    }
  }
  const t = await interleaved(
    { bare: batch(bare), monitored: batch(monitored), floor },
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
  const f = ratioOf(t.floor, t.bare)
  report(
    'overhead',
    `${c.name}: floor`,
    f.ratio,
    `one scan of the prompt + one JSON.stringify of each event: ${per(t.floor)} per call = ${(f.ratio * 100).toFixed(0)} % of the bare call (the limit leaves ${Math.round((c.limit - 1) * 100)} %)`,
  )
}
const health = getMonitorHealth?.()
if (health && (health.droppedEvents > 0 || Object.keys(health.faults).length > 0)) console.log(`overhead  monitor health: ${JSON.stringify(health)}`)
done()
