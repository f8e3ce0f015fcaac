import type { MonitorEvent } from '../../src/types.js'

const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5']
const TYPES = ['LLM_call_start', 'LLM_call_finish', 'LLM_call_finish', 'LLM_call_blocked', 'LLM_call_error']

/**
 * Event `i` of a synthetic log, shaped like the recorder's events (SPEC §3). Deterministic in `i`, so a
 * test can compute which events a query must return. `pad` grows `data` (bigger lines, bigger batches).
 */
export function makeEvent(i: number, { agents = 3, pad = 0, base = Date.UTC(2026, 11, 3, 15, 0, 0) } = {}): MonitorEvent {
  const event = i % 50 === 0 ? 'monitoring_enabled' : TYPES[i % TYPES.length]
  const channel = event === 'monitoring_enabled' ? 'SYSTEM' : 'LLM'
  const data: Record<string, unknown> = { seq: i, model: MODELS[i % 2], alert: event === 'LLM_call_blocked' ? 'dangerous' : 'none' }
  if (event === 'LLM_call_finish') {
    data.duration_ms = (i % 97) + 1
    data.usage = { input_tokens: 10 + (i % 7), output_tokens: 5 + (i % 3) }
    data.response = { content: [{ type: 'text', text: `answer number ${i}` }] }
  }
  if (event === 'LLM_call_error') data.duration_ms = 3
  if (event === 'LLM_call_start') data.messages = [{ role: 'user', content: `question ${i} "quoted"` }]
  if (pad > 0) data.pad = 'x'.repeat(pad)
  return {
    event,
    channel,
    level: event === 'LLM_call_error' ? 'error' : event === 'LLM_call_blocked' ? 'warning' : 'info',
    agent_id: `agent-${i % agents}`,
    call_id: `call-${Math.floor(i / 5)}`,
    timestamp: new Date(base + i * 1000).toISOString(),
    data,
  }
}
