// 5. Queries over a 1,000,000-event log: `getEventsByChannel` and `getAgentStats` from `cylestio-monitor/db`,
// each under 3 s, holding after the query about what it returns. Run with --expose-gc.
//
// The log is written through the store by monitored calls: ten agents, two models, the package's own
// Anthropic adapter reading an Anthropic-shaped client (no SDK cost), default rules, 1% failed calls,
// 1% suspicious and 0.5% blocked ones.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import { anthropicLike, mixedCall } from './clients.mjs'
import { done, fmt, gc, loadDb, loadPackage, report, tempDir } from './lib.mjs'

const EVENTS = Number(process.env.BENCH_QUERY_EVENTS ?? 1_000_000)
const AGENTS = 10
const file = join(tempDir('queries'), 'cylestio-events.jsonl')
const { monitor, flush, anthropicAdapter } = await loadPackage()
const { getEventsByChannel, getAgentStats } = await loadDb()

const like = anthropicLike(anthropicAdapter)
const clients = Array.from({ length: AGENTS }, (_, a) =>
  monitor(like.client, { agentId: `agent-${a}`, adapters: [like.adapter], store: file }),
)
const t0 = performance.now()
let events = AGENTS // one monitoring_enabled event per client
for (let i = 0; events < EVENTS; i++) {
  try {
    await clients[i % AGENTS].messages.create(mixedCall(i))
    events += 2
  } catch (error) {
    events += error.name === 'MonitorBlockedError' ? 1 : 2
  }
  if (i % 1000 === 999) await tick()
}
await flush()
console.log(`queries   log of ${fmt.int(events)} events, ${fmt.mb(statSync(file).size)}, written in ${fmt.ms(performance.now() - t0)}`)

/** Runs `query` (after a warm-up on the same file), reporting its time and the heap it holds. */
async function measure(figure, query) {
  await warmUp(query)
  const before = await heapAfterGc()
  const start = performance.now()
  const result = await query()
  const ms = performance.now() - start
  const held = (await heapAfterGc()) - before
  // What the results alone take: a copy of them, measured the same way while the original is held.
  const copy = structuredClone(result)
  const size = (await heapAfterGc()) - before - held
  report('queries', figure, ms, `${fmt.ms(ms)}, ${fmt.int(result.length)} results`, ['<', 3000])
  // "Holds only what it returns": the heap held may exceed a copy of the results by a small constant.
  const slackMb = 16
  const limit = Math.max(size, 0) / 1048576 + slackMb
  report('queries', `  heap held after it`, held / 1048576, `${fmt.mb(held)}; a copy of the results alone ${fmt.mb(size)} (limit: that + ${slackMb} MB)`, ['<=', Number(limit.toFixed(1))])
  return copy.length
}

// Its own frame, so that nothing of the warm-up's result is left on the stack when the heap is read.
async function warmUp(query) {
  await query()
}

async function heapAfterGc() {
  await tick()
  gc()
  return process.memoryUsage().heapUsed
}

await measure("getEventsByChannel('SYSTEM')", () => getEventsByChannel('SYSTEM', { file }))
await measure("getEventsByChannel('LLM', agent)", () => getEventsByChannel('LLM', { file, agentId: 'agent-3' }))
await measure("getEventsByChannel('LLM', limit 100)", () => getEventsByChannel('LLM', { file, limit: 100 }))
await measure('getAgentStats()', () => getAgentStats({ file }))
done()
