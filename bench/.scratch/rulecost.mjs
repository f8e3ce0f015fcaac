import RE2 from 're2'
import { prose, loadPackage } from '../lib.mjs'
const { loadRules } = await loadPackage()
const text = prose(102400, 7); const buf = Buffer.from(text, 'latin1')
const rs = loadRules()
const time = (fn, n = 50) => { for (let i = 0; i < 5; i++) fn(); const t = performance.now(); for (let i = 0; i < n; i++) fn(); return (performance.now() - t) / n * 1000 }
const user = rs.rules.filter(r => r.targets.includes('user'))
console.log('user rules', user.length, 'all', rs.size)
const all = new RE2.Set(user.map(r => r.source), 'u')
console.log('set of user rules, buffer', time(() => all.test(buf)).toFixed(0), 'µs; scan()', time(() => rs.scan(text, { target: 'user' })).toFixed(0), 'µs; redact()', time(() => rs.redact(text)).toFixed(0), 'µs')
const rows = user.map(r => { const s = new RE2.Set([r.source], 'u'); return [time(() => s.test(buf), 20), r.id, r.source.slice(0, 100)] }).sort((a, b) => b[0] - a[0])
for (const [us, id, src] of rows.slice(0, 12)) console.log(us.toFixed(0).padStart(6), 'µs', id.padEnd(40), src)
const without = (ids) => { const s = new RE2.Set(user.filter(r => !ids.includes(r.id)).map(r => r.source), 'u'); return time(() => s.test(buf)).toFixed(0) }
console.log('set without top 3:', without(rows.slice(0,3).map(r => r[1])), 'µs; without top 6:', without(rows.slice(0,6).map(r => r[1])), 'µs')
const red = rs.rules.filter(r => r.redact); const rset = new RE2.Set(red.map(r => r.source), 'u'); console.log('redact rules', red.length, 'set test', time(() => rset.test(buf)).toFixed(0), 'µs')
