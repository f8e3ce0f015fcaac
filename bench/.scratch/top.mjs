import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const filter = process.argv[3] ?? ''
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = prof.timeDeltas
let total = 0
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]); const d = dt[i] ?? 0; total += d
  const f = n.callFrame
  const key = `${f.functionName || '(anon)'}  ${f.url.replace(/.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + d)
}
const rows = [...self].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 25))
for (const [k, v] of rows) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`)
console.log('total', (total / 1000).toFixed(0), 'ms')
