// 4. Memory: heap and RSS growth over 1,000,000 monitored calls, measured after gc() at call 10,000 and
// at call 1,000,000. Run with --expose-gc (bench/run.mjs does).
//
// Calls go through the real `@anthropic-ai/sdk` client with an in-process fetch, default rules and
// the default event log. `--fast` uses an Anthropic-shaped custom client through the package's own
// adapter instead (the same monitor path without the SDK's ~100 µs a call), for a quick check.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import Anthropic from '@anthropic-ai/sdk'
import { anthropicLike } from './clients.mjs'
import { inProcessFetch, params } from './fixtures.mjs'
import { done, fmt, gc, loadPackage, prose, report, tempDir } from './lib.mjs'

const CALLS = Number(process.env.BENCH_MEMORY_CALLS ?? 1_000_000)
const FIRST = 10_000
const fast = process.argv.includes('--fast')

const logFile = join(tempDir('memory'), 'cylestio-events.jsonl')
process.env.CYLESTIO_EVENTS_FILE = logFile
const { monitor, flush, anthropicAdapter } = await loadPackage()

let client
if (fast) {
  const like = anthropicLike(anthropicAdapter)
  client = monitor(like.client, { agentId: 'bench', adapters: [like.adapter] })
} else {
  client = monitor(new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 }), { agentId: 'bench' })
}
// Prompts vary (a fixed set, so the inputs themselves do not grow): ~200 bytes of prose each.
const bodies = Array.from({ length: 16 }, (_, i) => params(prose(150 + i * 8, i)))

async function measure() {
  await flush()
  await tick()
  gc()
  const { heapUsed, rss } = process.memoryUsage()
  return { heapUsed, rss }
}

const t0 = performance.now()
let first
for (let i = 1; i <= CALLS; i++) {
  await client.messages.create(bodies[i % bodies.length])
  if (i % 100_000 === 0) {
    // The log would reach gigabytes; the writer follows its path and opens a new file.
    await flush()
    rmSync(logFile, { force: true })
  }
  if (i === FIRST) first = await measure()
}
const last = await measure()
const seconds = (performance.now() - t0) / 1000
const path = fast ? 'custom Anthropic-shaped client (--fast)' : '@anthropic-ai/sdk, in-process fetch'
const heap = last.heapUsed - first.heapUsed
const rss = last.rss - first.rss
report('memory', `heap growth, calls 10k → ${CALLS / 1e6}M`, heap / 1048576, `${fmt.mb(heap)} (${fmt.mb(first.heapUsed)} → ${fmt.mb(last.heapUsed)}; ${path}; ${fmt.int(CALLS)} calls in ${seconds.toFixed(0)} s)`, ['<', 50])
report('memory', `RSS growth, calls 10k → ${CALLS / 1e6}M`, rss / 1048576, `${fmt.mb(rss)} (${fmt.mb(first.rss)} → ${fmt.mb(last.rss)})`, ['<', 50])
done()
