// 2. Rule scaling: scan time of a 100 KB text with 10, 100 and 1,000 rules (ratio to 10), and the
// throughput of the default packs.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { done, fmt, interleaved, loadPackage, median, prose, ratioOf, report, tempDir } from './lib.mjs'

const { loadRules } = await loadPackage()
const dir = tempDir('rules')
const TEXT_BYTES = 100 * 1024
const text = prose(TEXT_BYTES, 7)

// Distinct rules, half keyword rules and half pattern rules, none of which occurs in the prose: the
// common case, where the scan finds nothing and its cost is the RE2 set pass.
const WORDS = ['quartz', 'zephyr', 'vortex', 'glyph', 'jinx', 'kumquat', 'fjord', 'bivouac', 'sphinx', 'wyvern', 'oxbow', 'quokka', 'zircon', 'lynx', 'pyx', 'vexil', 'jackdaw', 'knapsack', 'xylem', 'quince']
const word = (i) => `${WORDS[i % WORDS.length]}${WORDS[Math.floor(i / WORDS.length) % WORDS.length]}${i}`

function rulesFile(n) {
  const lines = ['rules:']
  for (let i = 0; i < n; i++) {
    lines.push(`  - id: bench.rule-${i}`, `    description: Generated rule ${i}`, '    severity: suspicious', '    targets: [user]')
    if (i % 2 === 0) lines.push(`    keywords: ['${word(i)} token', '${word(i + n)}']`)
    else lines.push(`    patterns: ['\\b${word(i)}[-_ ]?(id|key|code)\\s*[:=]\\s*\\d{${(i % 5) + 3}}']`)
  }
  const file = join(dir, `rules-${n}.yaml`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

const sets = Object.fromEntries([10, 100, 1000].map((n) => [n, loadRules([rulesFile(n)], { defaultRules: false })]))
for (const [n, set] of Object.entries(sets)) {
  if (set.size !== Number(n)) throw new Error(`expected ${n} rules, loaded ${set.size}`)
  if (set.scan(text, { target: 'user' }).matches.length !== 0) throw new Error(`generated rules fire on the prose (${n})`)
}
const packs = loadRules()

const scan = (set) => () => set.scan(text, { target: 'user' })
const t = await interleaved({ 10: scan(sets[10]), 100: scan(sets[100]), 1000: scan(sets[1000]), packs: scan(packs) }, { rounds: 7, time: 300 })
const rounds = `median of ${t[10].length} interleaved rounds`

for (const n of [100, 1000]) {
  const r = ratioOf(t[n], t[10])
  const check = n === 1000 ? ['<=', 2.0] : undefined
  report('rules', `${fmt.int(n)} rules vs 10, 100 KB`, r.ratio, `${fmt.us(median(t[n]))} vs ${fmt.us(median(t[10]))}  ratio ${fmt.x(r.ratio)} (${rounds}, range ${fmt.x(r.min)}–${fmt.x(r.max)})`, check)
}
const packMs = median(t.packs)
const mbs = TEXT_BYTES / 1048576 / (packMs / 1000)
report('rules', `default packs (${packs.size} rules), 100 KB`, mbs, `${fmt.us(packMs)} per scan = ${mbs.toFixed(0)} MB/s (${rounds})`, ['>=', 100])
done()
