// Shared helpers of the benchmarks: loading the built package, realistic inputs, interleaved
// measurement (tinybench per round, medians across rounds) and the one-line report format.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'

/** The built package. `BENCH_DIST` points at another build (e.g. a snapshot taken before a change). */
export const DIST = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : fileURLToPath(new URL('../dist/', import.meta.url))

export const loadPackage = () => import(pathToFileURL(join(DIST, 'index.js')).href)
export const loadDb = () => import(pathToFileURL(join(DIST, 'db.js')).href)

/** A temp directory removed when the process exits. */
export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `cylestio-bench-${name}-`))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Ordinary prose (a field guide to kitchen gardens): what the rules scan in a real prompt.
const SENTENCES = [
  'The kitchen garden was laid out in four square beds separated by narrow gravel paths.',
  'Each spring the soil is turned over and enriched with compost from the heap behind the shed.',
  'Tomatoes need a sheltered, sunny position and regular watering once the first trusses have set.',
  'Beans climb the hazel poles that were cut from the copse at the end of the winter.',
  'A row of marigolds along the edge of the bed keeps some of the aphids away from the lettuce.',
  'In a dry summer the water butts run low, so the gardener waters early in the morning.',
  'Onions and garlic are lifted in late summer and left to dry on racks in the greenhouse.',
  'The apple trees against the south wall were trained as espaliers more than fifty years ago.',
  'Slugs are the main enemy of young seedlings, especially after a warm night of rain.',
  'Seed potatoes are chitted on a cool windowsill before they are planted out in April.',
  'Crop rotation means that no family of vegetables grows in the same bed two years running.',
  'The old greenhouse has a brick base, a timber frame and a vine that fills the whole roof.',
  'Herbs such as thyme, sage and rosemary prefer poor, well drained soil and plenty of light.',
  'By October the last of the squash are brought in and stored in a frost free room.',
  'Leaf mould made from fallen beech leaves is one of the best materials for a seed compost.',
  'A notebook records what was sown, when it came up and how well each variety cropped.',
]

/** `bytes` characters of benign English prose (ASCII, so one byte each), deterministic in `seed`. */
export function prose(bytes, seed = 1) {
  let out = ''
  let i = seed
  while (out.length < bytes) {
    out += `${SENTENCES[i % SENTENCES.length]} `
    i = (i * 7 + 3) % 1009
    if (i % 5 === 0) out += '\n\n'
  }
  return out.slice(0, bytes)
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Measures `variants` ({ name: fn }) in `rounds` rounds; each round is one tinybench run of every
 * variant for `time` ms, in alternating order (ABAB…, then BABA…), so a slow phase of the machine hits
 * every variant alike. Returns, per variant, the median latency (ms) of each round. `afterRound` runs
 * between rounds, outside the timed window (e.g. to truncate a log that would fill the disk).
 */
export async function interleaved(variants, { rounds = 7, time = 400, warmupTime = 200, iterations = 16, afterRound } = {}) {
  const names = Object.keys(variants)
  const perRound = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse()
    const bench = new Bench({ time, warmupTime, warmupIterations: 4, iterations, throws: true })
    for (const n of order) bench.add(n, variants[n])
    await bench.run()
    for (const task of bench.tasks) perRound[task.name].push(task.result.latency.p50)
    await afterRound?.()
  }
  return perRound
}

/** Per-round ratios a[i] / b[i] and their median: the ratio holds even when the machine's speed drifts. */
export function ratioOf(a, b) {
  const ratios = a.map((x, i) => x / b[i])
  return { ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios }
}

export const fmt = {
  us: (ms) => `${(ms * 1000).toFixed(1)} µs`,
  ms: (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`,
  x: (r) => `${r.toFixed(2)}×`,
  mb: (bytes) => `${(bytes / 1048576).toFixed(1)} MB`,
  int: (n) => Math.round(n).toLocaleString('en-US'),
}

/**
 * Prints one figure as one line and records it for the summary: `check` is [op, threshold] with op
 * '<=', '<' or '>='; figures without a check are informational.
 */
export function report(bench, figure, value, text, check) {
  let verdict = ''
  let pass = null
  if (check) {
    const [op, limit] = check
    pass = op === '<=' ? value <= limit : op === '<' ? value < limit : value >= limit
    verdict = `  [${op} ${limit}] ${pass ? 'PASS' : 'FAIL'}`
  }
  console.log(`${bench.padEnd(9)} ${figure.padEnd(34)} ${text}${verdict}`)
  results.push({ bench, figure, text, check: check ? `${check[0]} ${check[1]}` : '', pass })
}

const results = []

/** Hands the figures to `run.mjs` (one JSON line it reads back), after the human-readable lines. */
export function done() {
  console.log(`@@results ${JSON.stringify(results)}`)
}

/** A gc() that exists: benchmarks that read the heap are run with --expose-gc by run.mjs. */
export function gc() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (bench/run.mjs does)')
  globalThis.gc()
  globalThis.gc()
}
