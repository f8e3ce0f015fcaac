import Anthropic from '@anthropic-ai/sdk'
import { loadPackage, prose } from '../lib.mjs'
import { inProcessFetch, params } from '../fixtures.mjs'
process.env.CYLESTIO_EVENTS_FILE = '/tmp/try1.jsonl'
const { monitor, loadRules, flush } = await loadPackage()
const rules = loadRules()
for (const n of [1024, 102400]) console.log(n, JSON.stringify(rules.scan(prose(n), { target: 'user' })).slice(0,300))
const bare = new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 })
const mon = monitor(new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 }))
const p = prose(1024)
let m = await mon.messages.create(params(p)); console.log(m.content[0].text)
const s = await mon.messages.create(params(p, true)); let n=0; for await (const c of s) n++; console.log('chunks', n)
for (const [name, c] of [['bare', bare], ['mon', mon], ['bare', bare], ['mon', mon]]) {
  for (const stream of [false, true]) {
  const t0 = performance.now(); const N = 3000
  for (let i = 0; i < N; i++) { const r = await c.messages.create(params(p, stream)); if (stream) for await (const _ of r) {} }
  console.log(name, stream, ((performance.now() - t0) / N * 1000).toFixed(1), 'us')
  }
}
await flush()
