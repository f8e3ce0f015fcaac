import RE2 from 're2'
import { randomUUID } from 'node:crypto'
import { prose, loadPackage } from '../lib.mjs'
import { message, params } from '../fixtures.mjs'
const { loadRules } = await loadPackage()
const rs = loadRules()
const t1k = prose(1024, 3)
const time = (name, fn, n = 20000) => { for (let i = 0; i < 2000; i++) fn(); const t = performance.now(); for (let i = 0; i < n; i++) fn(); console.log(name.padEnd(44), ((performance.now() - t) / n * 1000).toFixed(2), 'µs') }
const p = params(t1k)
const startEvent = { event: 'LLM_call_start', channel: 'LLM', level: 'info', agent_id: 'bench', call_id: randomUUID(), timestamp: new Date().toISOString(), data: { method: 'messages.create', ...p, stream: false, alert: 'none', security: { matches: [] } } }
const finishEvent = { event: 'LLM_call_finish', channel: 'LLM', level: 'info', agent_id: 'bench', call_id: randomUUID(), timestamp: new Date().toISOString(), data: { method: 'messages.create', model: 'x', duration_ms: 1.234, request_id: 'req', stop_reason: 'end_turn', response: message, usage: message.usage, alert: 'none', security: { matches: [] } } }
const l1 = JSON.stringify(startEvent), l2 = JSON.stringify(finishEvent)
console.log('line sizes', l1.length, l2.length)
time('scan user 1KB', () => rs.scan(t1k, { target: 'user' }))
time('scan system (55 B)', () => rs.scan(p.system, { target: 'system' }))
time('scan response (100 B)', () => rs.scan(message.content[0].text, { target: 'response' }))
time('redact start line', () => rs.redact(l1))
time('redact finish line', () => rs.redact(l2))
time('JSON.stringify start', () => JSON.stringify(startEvent))
time('JSON.stringify finish', () => JSON.stringify(finishEvent))
time('randomUUID', () => randomUUID())
time('new Date().toISOString()', () => new Date().toISOString())
const s = new RE2.Set(['(?i:\\bquartz\\b)'], 'u'); time('RE2.Set 1-rule test on 10 chars', () => s.test('hello worl'))
time('RE2.Set 1-rule test on 1KB string', () => s.test(t1k))
const b = Buffer.from(t1k); time('RE2.Set 1-rule test on 1KB buffer', () => s.test(b))
time('Buffer.from 1KB', () => Buffer.from(t1k, 'latin1'))
