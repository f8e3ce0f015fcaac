// 3. Log scaling: the cost of an append (the write plus its share of the flush) at event 1,000 and at
// event 1,000,000 of the default JSONL event log; events per second sustained; lowdb's stock
// `JSONFile` + `db.update` at 1,000 and 4,000 events for comparison, in the same run.
//
// Events go to the log's writer, `JsonlEventLog`, when the package exports it (lines serialised before
// the clock starts, as the recorder hands them over). Otherwise they go through `monitor()` with the
// cheapest client there is (an adapter whose call returns its argument; no rules, no redaction), and
// every figure then includes the recorder's work too (the envelope, one JSON.stringify per event).
// Two writers write to two files: one kept at 1,000 events, one filled to 1,000,000.
import { closeSync, fsyncSync, openSync, readFileSync, readSync, statSync, truncateSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import { Low } from 'lowdb'
import { JSONFile } from 'lowdb/node'
import { echoAdapter, echoClient } from './clients.mjs'
import { done, fmt, loadPackage, median, prose, report, tempDir } from './lib.mjs'

const { monitor, flush, JsonlEventLog } = await loadPackage()
const dir = tempDir('log')
const smallFile = join(dir, 'small.jsonl')
const bigFile = join(dir, 'big.jsonl')

// Realistic payloads: the request of an LLM call (~500 bytes of prose) and its token usage.
const PROMPTS = Array.from({ length: 32 }, (_, i) => prose(300 + i * 13, i))
const payload = (i) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length] }],
  usage: { input_tokens: 120 + (i % 50), output_tokens: 20 + (i % 9) },
})

/** A writer of `path`: `append(i)` adds one call's events (`perCall` of them); `flush()` puts them on disk. */
function writer(path) {
  if (typeof JsonlEventLog === 'function') {
    const log = new JsonlEventLog({ path })
    const lines = Array.from({ length: 64 }, (_, i) => {
      const event = { event: 'LLM_call_start', channel: 'LLM', level: 'info', agent_id: 'bench', call_id: `call-${i}`, timestamp: new Date().toISOString(), data: { method: 'messages.create', ...payload(i), stream: false, alert: 'none', security: { matches: [] } } }
      return [JSON.stringify(event), event]
    })
    return { via: 'JsonlEventLog', perCall: 1, append: (i) => log.write(...lines[i % 64]), flush: () => log.flush() }
  }
  const client = monitor(echoClient(), { agentId: 'bench', adapters: [echoAdapter], defaultRules: false, redact: false, store: path })
  return { via: 'monitor() + flush()', perCall: 2, append: (i) => client.events.append(payload(i)), flush }
}
const small = writer(smallFile)
const big = writer(bigFile)
console.log(`log       appending through ${big.via}`)

/** `events` events (a call is two: start and finish) through `client`, yielding to the event loop as an app does. */
async function append(w, events, from = 0) {
  for (let i = from; i < from + events / w.perCall; i++) {
    w.append(i)
    if (i % 500 === 499) await tick()
  }
}

// Events per second sustained, while filling the big log to 1,000,000 events.
const FILL = 1_000_000
const t0 = performance.now()
const chunkRates = []
for (let n = 0; n < FILL; n += 100_000) {
  const c0 = performance.now()
  await append(big, 100_000, n)
  await big.flush()
  chunkRates.push(100_000 / ((performance.now() - c0) / 1000))
}
const fillMs = performance.now() - t0
const lines = countLines(readFileSync(bigFile))
if (lines < FILL) throw new Error(`the big log holds ${lines} lines, expected ${FILL}`)
report('log', 'events/s sustained (to 1,000,000)', (FILL / fillMs) * 1000, `${fmt.int((FILL / fillMs) * 1000)} events/s (${fmt.int(FILL)} events in ${fmt.ms(fillMs)}, ${fmt.mb(statSync(bigFile).size)} on disk; per 100k: median ${fmt.int(median(chunkRates))}, slowest ${fmt.int(Math.min(...chunkRates))})`, ['>=', 100_000])

// The small log, at 1,000 events. Before each measured block both logs are truncated back to their
// 1,000 and 1,000,000 events, so that the two sides do the same file operations at two sizes.
await append(small, 1000)
await small.flush()
const smallSize = statSync(smallFile).size
const bigSize = statSync(bigFile).size
// Both files on disk before the clock runs: the 827 MB just written would otherwise still be flushed by
// the kernel while the big file is measured, and that write-back, not the append, would be timed.
for (const path of [bigFile, smallFile]) {
  const fd = openSync(path, 'r+')
  fsyncSync(fd)
  closeSync(fd)
}

const BLOCK = 1000
/** One block of BLOCK events and the flush that puts them on disk, in ms per event. */
async function block(w, from) {
  const start = performance.now()
  for (let i = from; i < from + BLOCK / w.perCall; i++) w.append(i)
  await w.flush()
  return (performance.now() - start) / BLOCK
}
const ROUNDS = 9
const at1k = []
const at1m = []
let seq = FILL
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ['small', 'big'] : ['big', 'small']
  for (const which of order) {
    const samples = []
    for (let b = 0; b < 5; b++) {
      // Each block appends at exactly event 1,000 or event 1,000,000: both files are cut back first.
      truncateSync(which === 'small' ? smallFile : bigFile, which === 'small' ? smallSize : bigSize)
      await tick()
      samples.push(await block(which === 'small' ? small : big, (seq += BLOCK)))
    }
    ;(which === 'small' ? at1k : at1m).push(median(samples))
  }
}
const ratios = at1m.map((x, i) => x / at1k[i])
const ratio = median(ratios)
report('log', 'append at event 1,000', median(at1k), `${fmt.us(median(at1k))} per event (write + its share of the flush)`)
report(
  'log',
  'append at event 1,000,000 vs 1,000',
  ratio,
  `${fmt.us(median(at1m))} vs ${fmt.us(median(at1k))} per event  ratio ${fmt.x(ratio)} (median of ${ROUNDS} interleaved rounds, range ${fmt.x(Math.min(...ratios))}–${fmt.x(Math.max(...ratios))})`,
  ['<=', 1.5],
)

// The file system's share, in the same run: the same bytes, written with one writeSync per block to the
// end of each file (cut back first, as above). No monitor code runs here.
{
  const bytes = Buffer.from(Array.from({ length: BLOCK }, (_, i) => `${JSON.stringify({ event: 'LLM_call_start', i, data: payload(i) })}\n`).join(''))
  const raw = { small: openSync(smallFile, 'a'), big: openSync(bigFile, 'a') }
  const rawAt = { small: [], big: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const which of r % 2 === 0 ? ['small', 'big'] : ['big', 'small']) {
      const samples = []
      for (let b = 0; b < 5; b++) {
        truncateSync(which === 'small' ? smallFile : bigFile, which === 'small' ? smallSize : bigSize)
        await tick()
        const start = performance.now()
        writeSync(raw[which], bytes)
        samples.push((performance.now() - start) / BLOCK)
      }
      rawAt[which].push(median(samples))
    }
  }
  closeSync(raw.small)
  closeSync(raw.big)
  const rawRatio = median(rawAt.big.map((x, i) => x / rawAt.small[i]))
  report('log', '  the file system alone, same bytes', rawRatio, `writeSync to the end of the 1,000,000-event file vs the 1,000-event one: ${fmt.us(median(rawAt.big))} vs ${fmt.us(median(rawAt.small))} per event  ratio ${fmt.x(rawRatio)} (no monitor code; median of ${ROUNDS} interleaved rounds)`)
}

// lowdb's stock JSONFile: every update rewrites the whole document.
const events = head(bigFile, 8 << 20).split('\n').slice(1, 4001).map((l) => JSON.parse(l))
const dbs = {}
for (const n of [1000, 4000]) {
  const db = new Low(new JSONFile(join(dir, `lowdb-${n}.json`)), { events: [] })
  db.data.events = events.slice(0, n)
  await db.write()
  dbs[n] = db
}
const lowdb = { 1000: [], 4000: [] }
for (let r = 0; r < 5; r++) {
  for (const n of r % 2 === 0 ? [1000, 4000] : [4000, 1000]) {
    const db = dbs[n]
    const samples = []
    for (let k = 0; k < 10; k++) {
      const event = events[(r * 10 + k) % events.length]
      const start = performance.now()
      await db.update(({ events }) => events.push(event))
      samples.push(performance.now() - start)
    }
    db.data.events.length = n
    lowdb[n].push(median(samples))
  }
}
const low1k = median(lowdb[1000])
const low4k = median(lowdb[4000])
report('log', 'lowdb JSONFile db.update at 1,000', low1k, `${fmt.us(low1k)} per event = ${fmt.int(low1k / median(at1k))}× the JSONL append`)
report('log', 'lowdb JSONFile db.update at 4,000', low4k, `${fmt.us(low4k)} per event  ratio to 1,000 ${fmt.x(median(lowdb[4000].map((x, i) => x / lowdb[1000][i])))} (median of 5 interleaved rounds)`)
done()

function countLines(buf) {
  let n = 0
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++
  return n
}

function head(file, bytes) {
  const fd = openSync(file, 'r')
  const buf = Buffer.alloc(bytes)
  const n = readSync(fd, buf, 0, bytes, 0)
  closeSync(fd)
  return buf.toString('utf8', 0, n)
}
