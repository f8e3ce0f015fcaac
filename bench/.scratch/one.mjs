import Anthropic from '@anthropic-ai/sdk'
import { join } from 'node:path'
import { inProcessFetch, params } from '../fixtures.mjs'
import { loadPackage, prose, tempDir } from '../lib.mjs'
process.env.CYLESTIO_EVENTS_FILE = join(tempDir('one'), 'ev.jsonl')
const { monitor, flush } = await loadPackage()
const [which, bytes = '1024', stream = ''] = process.argv.slice(2)
const sdk = new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 })
const client = which === 'monitored' ? monitor(sdk) : sdk
const body = params(prose(Number(bytes), 1), stream === 'stream')
const N = Number(process.env.N ?? 20000)
for (let w = 0; w < 2; w++) {
  const t = performance.now()
  for (let i = 0; i < N; i++) { const r = await client.messages.create(body); if (stream) for await (const _ of r); if (i % 50 === 49) await flush() }
  console.log(which, bytes, stream, w ? 'measured' : 'warmup', ((performance.now() - t) / N * 1000).toFixed(1), 'µs/call')
}
