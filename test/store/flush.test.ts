import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { flush, getMonitorHealth, monitor } from '../../src/index.js'
import { getAgentStats, getEventsByChannel } from '../../src/store/index.js'
import { fakeFetch, tempLog } from '../helpers.js'

// A custom sink whose flush() never settles must not freeze flush() for ever, nor any query.

const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }
const params = { model: 'm', max_tokens: 5, messages: [{ role: 'user' as const, content: 'hi' }] }
const client = (options: Parameters<typeof monitor>[1]) => monitor(new Anthropic({ apiKey: 'k', fetch: fakeFetch(() => ({ body: message })).fetch, maxRetries: 0 }), options)

/** `p`, or 'pending' when it has not settled after `ms`. */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))])

describe('a sink whose flush() never settles', () => {
  it('does not hold up queries of a JSONL log, which see that log\'s events at once', async () => {
    await client({ store: { write() {}, flush: () => new Promise<void>(() => {}) } }).messages.create(params)
    const file = tempLog()
    await client({ store: file, agentId: 'q' }).messages.create(params)
    // Queued, not yet written (the log writes in batches): the query writes it first.
    const llm = await Promise.race([getEventsByChannel('LLM', { file }), new Promise<never>((_, fail) => setTimeout(() => fail(new Error('query hung')), 1000))])
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(await within(getAgentStats({ file }), 1000)).toBe('settled')
  })

  it('holds flush() for 5 s at most, then is reported as timed out', async () => {
    const before = getMonitorHealth().faults.sink ?? 0
    await client({ store: { write() {}, flush: () => new Promise<void>(() => {}) } }).messages.create(params)
    const started = Date.now()
    expect(await within(flush(), 8000)).toBe('settled')
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900)
    expect(getMonitorHealth().faults.sink ?? 0).toBeGreaterThan(before)
  }, 15_000)
})
