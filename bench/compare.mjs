// Two (or more) builds of the package side by side, in the same interleaved rounds, against the bare SDK
// client: for a before/after figure of a change that holds on a noisy machine (separate runs do not).
//
//   cp -r dist /tmp/dist-before      # before the change (the copy must sit where node_modules is found,
//                                    # e.g. inside the repository: `cp -r dist .dist-before`)
//   npm run build                    # after it
//   node bench/compare.mjs .dist-before dist              # plain 1 KB calls
//   node bench/compare.mjs --stream .dist-before dist     # stream: true (20 deltas)
//
// Each build monitors its own client (default rules, default event log in a temp file); one task
// iteration is 50 calls and a flush of every build's log, as in overhead.mjs.
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import Anthropic from '@anthropic-ai/sdk'
import { inProcessFetch, params } from './fixtures.mjs'
import { fmt, interleaved, median, prose, ratioOf, tempDir } from './lib.mjs'

const args = process.argv.slice(2)
const stream = args.includes('--stream')
const builds = args.filter((a) => !a.startsWith('--'))
if (builds.length === 0) {
  console.error('usage: node bench/compare.mjs [--stream] <dist> [<dist> …]')
  process.exit(2)
}
const logFile = join(tempDir('compare'), 'cylestio-events.jsonl')
process.env.CYLESTIO_EVENTS_FILE = logFile
const sdk = () => new Anthropic({ apiKey: 'x', fetch: inProcessFetch, maxRetries: 0 })
const clients = { bare: sdk() }
const flushes = []
for (const dir of builds) {
  const pkg = await import(pathToFileURL(join(resolve(dir), 'index.js')).href)
  clients[dir] = pkg.monitor(sdk(), { agentId: 'bench' })
  flushes.push(pkg.flush)
}
const BATCH = 50
const body = params(prose(1024, 1024), stream)
const batch = (client) => async () => {
  for (let i = 0; i < BATCH; i++) {
    const result = await client.messages.create(body)
    if (stream) for await (const _chunk of result);
  }
  for (const flush of flushes) await flush()
}
const t = await interleaved(Object.fromEntries(Object.entries(clients).map(([name, c]) => [name, batch(c)])), {
  rounds: 9,
  time: 500,
  warmupTime: 250,
  afterRound: () => rmSync(logFile, { force: true }),
})
console.log(`compare  1 KB ${stream ? 'stream' : 'plain'} calls, median of ${t.bare.length} interleaved rounds`)
for (const name of Object.keys(clients)) {
  const r = ratioOf(t[name], t.bare)
  console.log(`compare  ${name.padEnd(24)} ${fmt.us(median(t[name]) / BATCH)} per call  ratio to bare ${fmt.x(r.ratio)} (range ${fmt.x(r.min)}–${fmt.x(r.max)})`)
}
