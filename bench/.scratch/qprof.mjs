import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { setImmediate as tick } from 'node:timers/promises'
import { anthropicLike, mixedCall } from '../clients.mjs'
import { loadDb, loadPackage } from '../lib.mjs'
const file = '/tmp/qprof/cylestio-events.jsonl'
const { monitor, flush, anthropicAdapter } = await loadPackage()
const { getEventsByChannel, getAgentStats } = await loadDb()
if (!existsSync(file)) {
  const like = anthropicLike(anthropicAdapter)
  const clients = Array.from({ length: 10 }, (_, a) => monitor(like.client, { agentId: `agent-${a}`, adapters: [like.adapter], store: file }))
  for (let i = 0; i < 150000; i++) { try { await clients[i % 10].messages.create(mixedCall(i)) } catch {} if (i % 1000 === 999) await tick() }
  await flush()
}
const { Session } = await import('node:inspector/promises')
const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start')
let t = performance.now(); await getEventsByChannel('SYSTEM', { file }); console.log('SYSTEM', (performance.now() - t).toFixed(0), 'ms')
t = performance.now(); await getAgentStats({ file }); console.log('stats', (performance.now() - t).toFixed(0), 'ms')
const { profile } = await s.post('Profiler.stop')
const { writeFileSync } = await import('node:fs'); writeFileSync('/tmp/prof/q.cpuprofile', JSON.stringify(profile))
