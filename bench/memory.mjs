// 4. Memory: heap and RSS growth over 1,000,000 monitored calls, measured after gc() at call 10,000 and
// at the last call. Run with --expose-gc (bench/run.mjs does).
//
// By default the calls go through an Anthropic-shaped custom client read by the package's own
// `anthropicAdapter` (the monitor's full path: proxy, adapter, rules, recorder, event log) without the
// SDK's ~250 µs a call, which would make 1,000,000 calls take over four minutes. `--sdk` runs the real
// `@anthropic-ai/sdk` client with an in-process fetch instead (run.mjs does so for 200,000 calls, as a
// cross-check). `--calls=N` changes the number of calls. Default rules, default event log.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import Anthropic from '@anthropic-ai/sdk'
import { anthropicLike } from './clients.mjs'
import { inProcessFetch, params } from './fixtures.mjs'
import { done, fmt, gc, loadPackage, prose, report, tempDir } from './lib.mjs'

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const CALLS = Number(arg('calls') ?? 1_000_000)
const FIRST = 10_000
const sdk = process.argv.includes('--sdk')

const logFile = join(tempDir('memory'), 'cylestio-events.jsonl')
process.env.CYLESTIO_EVENTS_FILE = logFile
const { monitor, flush, anthropicAdapter } = await loadPackage()

let client
if (sdk) {
  client = monitor(new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 }), { agentId: 'bench' })
} else {
  const like = anthropicLike(anthropicAdapter)
  client = monitor(like.client, { agentId: 'bench', adapters: [like.adapter] })
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
const path = sdk ? '@anthropic-ai/sdk, in-process fetch' : 'Anthropic-shaped custom client'
const heap = last.heapUsed - first.heapUsed
const rss = last.rss - first.rss
const calls = `${sdk ? 'SDK' : 'custom'}, calls 10k → ${CALLS >= 1e6 ? `${CALLS / 1e6}M` : `${CALLS / 1e3}k`}`
report('memory', `heap growth, ${calls}`, heap / 1048576, `${fmt.mb(heap)} (${fmt.mb(first.heapUsed)} → ${fmt.mb(last.heapUsed)}; ${path}; ${fmt.int(CALLS)} calls in ${seconds.toFixed(0)} s)`, sdk ? undefined : ['<', 50])
report('memory', `RSS growth, ${calls}`, rss / 1048576, `${fmt.mb(rss)} (${fmt.mb(first.rss)} → ${fmt.mb(last.rss)})`, sdk ? undefined : ['<', 50])
done()
