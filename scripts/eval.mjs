#!/usr/bin/env node
// Detection and false-positive rates of the built-in rule packs on the prompt corpus, per kind, plus
// scan throughput. Measures the shipped build: run `npm run build` first.
//
//   node scripts/eval.mjs [corpus.jsonl] [--verbose]
//
// The corpus is offensive on purpose: this script prints ids and rule ids, never the texts.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ENGINE = '../dist/index.js' // the built package
const { loadRules } = await import(ENGINE)

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const verbose = args.includes('--verbose')
const corpusPath = resolve(args.find((a) => !a.startsWith('--')) ?? resolve(root, '../shared/eval/prompts-tune.jsonl'))

/** Acceptance per kind (issue 4): minimum share flagged / blocked, or maximum for benign kinds. */
const ACCEPTANCE = {
  'jailbreak-in-the-wild': { flagged: 0.85 },
  'jailbreak-dan': { flagged: 0.9 },
  'jailbreak-template-aim': { flagged: 0.9 },
  'jailbreak-template-random-search': { flagged: 0.9 },
  'system-prompt-extraction': { flagged: 0.85 },
}
function acceptanceOf(kind, expect) {
  if (ACCEPTANCE[kind]) return ACCEPTANCE[kind]
  if (kind.startsWith('tool-')) return { blocked: 0.9 }
  if (expect === 'none') return { maxFlagged: 0.01, maxBlocked: 0.003 }
  return undefined
}

if (!existsSync(corpusPath)) {
  console.error(`npm run eval: no corpus at ${corpusPath}.\nIt lives in the project's shared folder beside the repository (../shared/eval/prompts-tune.jsonl); pass another path as the argument.`)
  process.exit(2)
}
const rows = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
const rules = loadRules()

const kinds = new Map()
let scanned = 0
let elapsed = 0
for (const row of rows) {
  const t0 = process.hrtime.bigint()
  const result = rules.scan(row.text, { target: row.target })
  elapsed += Number(process.hrtime.bigint() - t0)
  scanned += Buffer.byteLength(row.text)
  let k = kinds.get(row.kind)
  if (!k) kinds.set(row.kind, (k = { expect: row.expect, target: row.target, n: 0, flagged: 0, blocked: 0, misses: [], hits: [] }))
  k.n++
  if (result.alert !== 'none') k.flagged++
  if (result.alert === 'dangerous') k.blocked++
  const rulesFired = result.matches.map((m) => m.rule_id).join(',')
  if (row.expect === 'none' && result.alert !== 'none') k.hits.push(`${row.id} (${rulesFired})`)
  if ((row.expect === 'flag' && result.alert === 'none') || (row.expect === 'block' && result.alert !== 'dangerous')) {
    k.misses.push(row.id)
  }
}

const pct = (x) => `${(100 * x).toFixed(1)}%`.padStart(7)
let failed = 0
console.log(`corpus: ${corpusPath} (${rows.length} rows), rules: ${rules.size}\n`)
console.log(`${'kind'.padEnd(34)}${'target'.padEnd(12)}${'n'.padStart(5)}${'flagged'.padStart(9)}${'blocked'.padStart(9)}  acceptance`)
for (const [kind, k] of [...kinds].sort(([a], [b]) => a.localeCompare(b))) {
  const flagged = k.flagged / k.n
  const blocked = k.blocked / k.n
  const acc = acceptanceOf(kind, k.expect)
  let verdict = k.expect === 'info' ? 'info (reported only)' : ''
  if (acc) {
    const ok =
      (acc.flagged === undefined || flagged >= acc.flagged) &&
      (acc.blocked === undefined || blocked >= acc.blocked) &&
      (acc.maxFlagged === undefined || flagged <= acc.maxFlagged) &&
      (acc.maxBlocked === undefined || blocked <= acc.maxBlocked)
    const want = [
      acc.flagged !== undefined && `flagged ≥ ${pct(acc.flagged).trim()}`,
      acc.blocked !== undefined && `blocked ≥ ${pct(acc.blocked).trim()}`,
      acc.maxFlagged !== undefined && `flagged ≤ ${pct(acc.maxFlagged).trim()}, blocked ≤ ${pct(acc.maxBlocked).trim()}`,
    ].filter(Boolean)
    verdict = `${ok ? 'PASS' : 'FAIL'}  (${want.join(', ')})`
    if (!ok) failed++
  }
  console.log(`${kind.padEnd(34)}${k.target.padEnd(12)}${String(k.n).padStart(5)}${pct(flagged).padStart(9)}${pct(blocked).padStart(9)}  ${verdict}`)
  if (k.hits.length > 0) console.log(`    false positives: ${k.hits.join('; ')}`)
  if (verbose && k.misses.length > 0) console.log(`    missed: ${k.misses.join(' ')}`)
}

// Throughput: per row as above (small texts, per-call overhead included), and on one large text.
const bulk = rows.filter((r) => r.expect === 'none').map((r) => r.text).join('\n\n')
let big = bulk
while (big.length < 1_000_000) big += `\n\n${bulk}`
const bigBytes = Buffer.byteLength(big)
rules.scan(big, { target: 'user' })
const times = []
for (let i = 0; i < 7; i++) {
  const t0 = process.hrtime.bigint()
  rules.scan(big, { target: 'user' })
  times.push(Number(process.hrtime.bigint() - t0))
}
times.sort((a, b) => a - b)
const mbps = (bytes, ns) => (bytes / 1e6 / (ns / 1e9)).toFixed(1)
console.log(`\nthroughput: ${mbps(scanned, elapsed)} MB/s over the corpus rows (${(scanned / 1e6).toFixed(2)} MB, one scan per row)`)
console.log(`            ${mbps(bigBytes, times[3])} MB/s on one ${(bigBytes / 1e6).toFixed(1)} MB text of benign rows at target user (median of 7)`)
console.log(`\n${failed === 0 ? 'all acceptance targets met' : `${failed} kind(s) FAIL their acceptance target`}`)
process.exitCode = failed === 0 ? 0 : 1
