import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const owners = new Map(); const fnOwn = new Map(); let total = 0
const own = (url) => url.includes('/dist/') ? 'monitor(dist)' : url.includes('@anthropic-ai') ? 'sdk' : url.includes('tinybench') ? 'tinybench' : url.includes('/bench/') ? 'bench' : null
for (let i = 0; i < prof.samples.length; i++) {
  const d = prof.timeDeltas[i] ?? 0; total += d
  let id = prof.samples[i], o = null, fn = null
  while (id !== undefined) { const f = byId.get(id).callFrame; o = own(f.url); if (o) { fn = `${f.functionName||'(anon)'}:${f.lineNumber+1}`; break } id = parent.get(id) }
  o ??= byId.get(prof.samples[i]).callFrame.functionName || 'other'
  owners.set(o, (owners.get(o) ?? 0) + d)
  if (o === 'monitor(dist)') fnOwn.set(fn, (fnOwn.get(fn) ?? 0) + d)
}
for (const [k, v] of [...owners].sort((a, b) => b[1] - a[1])) console.log(`${(v/1000).toFixed(0).padStart(7)} ms ${(100*v/total).toFixed(1).padStart(5)}%  ${k}`)
console.log('-- monitor frames incl. native/internal work they called:')
for (const [k, v] of [...fnOwn].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${(v/1000).toFixed(0).padStart(7)} ms ${(100*v/total).toFixed(1).padStart(5)}%  ${k}`)
