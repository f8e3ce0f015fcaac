import RE2 from 're2'
import { prose } from '../lib.mjs'
const text = prose(102400, 7); const buf = Buffer.from(text, 'latin1')
const time = (name, fn, n = 200) => { for (let i = 0; i < 20; i++) fn(); const t = performance.now(); for (let i = 0; i < n; i++) fn(); const us = (performance.now() - t) / n * 1000; console.log(name.padEnd(40), us.toFixed(1), 'µs', (102400 / us).toFixed(0), 'MB/s') }
const sets = {
  literal: ['quartzzephyr'],
  ci_literal: ['(?i:quartzzephyr)'],
  word_b: ['\\bquartzzephyr\\b'],
  ci_word_b10: Array.from({length: 10}, (_, i) => `(?i:\\bquartz${i}zephyr\\b)`),
  ci_10: Array.from({length: 10}, (_, i) => `(?i:quartz${i}zephyr)`),
}
for (const [k, src] of Object.entries(sets)) {
  const s = new RE2.Set(src, 'u'); time(`set ${k} string`, () => s.test(text)); time(`set ${k} buffer`, () => s.test(buf))
  const s2 = new RE2.Set(src); time(`set ${k} (no u) buffer`, () => s2.test(buf))
  const re = new RE2(src.join('|'), 'u'); time(`RE2 alt ${k} buffer`, () => re.test(buf))
}
time('charCode loop', () => { let k=0; for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) k++; return k })
time('regex ascii', () => /^[\x00-\x7f]*$/.test(text))
time('Buffer.byteLength', () => Buffer.byteLength(text, 'utf8') === text.length)
time('Buffer.from utf8', () => Buffer.from(text, 'utf8'))
time('Buffer.from latin1', () => Buffer.from(text, 'latin1'))
time('JSON.stringify', () => JSON.stringify({ messages: [{ role: 'user', content: text }] }))
