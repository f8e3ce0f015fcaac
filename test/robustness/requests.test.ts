import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MonitorBlockedError, monitor } from '../../src/index.js'
import { anthropicAdapter, openaiAdapter } from '../../src/adapters/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { fakeFetch } from '../helpers.js'

// Malformed request parameters and responses: what the client sends is still scanned and recorded, and
// credentials are masked at any depth.

const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }
const DANGEROUS = 'Please launch the missiles now'
// Own rule pack, so these tests do not depend on the shipped packs (which change).
const RULES = join(mkdtempSync(join(tmpdir(), 'cylestio-robust-')), 'rules.yaml')
writeFileSync(RULES, `rules:
  - id: test.missiles
    description: test rule
    severity: dangerous
    targets: [user, tool_definition]
    keywords: ['launch the missiles']
`)

function setup(answer: unknown = message) {
  const wire = fakeFetch(() => ({ body: answer }))
  const events: MonitorEvent[] = []
  const client = monitor(new Anthropic({ apiKey: 'k', fetch: wire.fetch, maxRetries: 0 }), {
    store: false,
    rules: RULES,
    defaultRules: false,
    onEvent: (e) => void events.push(e),
  })
  return { client, events, calls: wire.calls }
}

describe('malformed requests are still scanned and recorded', () => {
  it('a null entry in tools does not let a dangerous prompt through unscanned', async () => {
    const { client, calls, events } = setup()
    const request = { model: 'm', max_tokens: 5, tools: [null], messages: [{ role: 'user', content: DANGEROUS }] }
    // Sanity: the prompt is dangerous without the null tool.
    await expect(client.messages.create({ ...request, tools: [] } as never)).rejects.toBeInstanceOf(MonitorBlockedError)
    await expect(client.messages.create(request as never)).rejects.toBeInstanceOf(MonitorBlockedError)
    expect(calls).toHaveLength(0)
    expect(events.filter((e) => e.event === 'LLM_call_blocked')).toHaveLength(2)
  })

  it('an OpenAI request with a null message or tool is still read', () => {
    const read = openaiAdapter.calls['chat.completions.create']!.request
    const info = read([{ model: 'gpt', messages: [null, { role: 'user', content: DANGEROUS, tool_calls: 5 }], tools: [null, { type: 'function', function: { name: 'f', parameters: { n: 1n } } }] }], { scanHistory: false })
    expect(info.texts).toContainEqual({ target: 'user', text: DANGEROUS })
    expect(info.texts?.some((t) => t.target === 'tool_definition' && t.text.includes('"n":"1"'))).toBe(true)
    const responses = openaiAdapter.calls['responses.create']!.request([{ model: 'gpt', input: [null, { role: 'user', content: DANGEROUS }] }], { scanHistory: false })
    expect(responses.texts).toContainEqual({ target: 'user', text: DANGEROUS })
  })

  it('a tool schema with a cycle or a BigInt is scanned as far as it goes, not dropped with the whole request', () => {
    const schema: Record<string, unknown> = { type: 'object', description: DANGEROUS }
    schema.self = schema
    const info = anthropicAdapter.calls['messages.create']!.request([{ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 't', input_schema: schema }, { name: 'u', input_schema: { n: 2n } }] }], { scanHistory: false })
    expect(info.texts?.filter((t) => t.target === 'tool_definition').map((t) => t.text).join('\n')).toContain(DANGEROUS)
  })

  it('a call the adapter cannot read is still on record, marked unscanned', async () => {
    const wire = fakeFetch(() => ({ body: message }))
    const events: MonitorEvent[] = []
    const client = monitor(new Anthropic({ apiKey: 'k', fetch: wire.fetch }), {
      store: false,
      onEvent: (e) => void events.push(e),
      adapters: [{ ...anthropicAdapter, name: 'broken', calls: { 'messages.create': { ...anthropicAdapter.calls['messages.create']!, request: () => { throw new Error('adapter bug') } } } }],
    })
    const result = await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    expect(result.id).toBe('msg_1')
    const types = events.filter((e) => e.call_id).map((e) => e.event)
    expect(types).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(events[1]!.data.security).toMatchObject({ unscanned: true, adapter_error: "adapter 'broken', call 'messages.create': request() threw: adapter bug (not scanned)" })
  })

  it("the process warning for an adapter that throws names the adapter and the call", () => {
    const dist = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../../dist/index.js')).href
    const script = `
      import { monitor } from '${dist}'
      const adapter = { name: 'acme', calls: { 'chat.send': { request: () => { throw new Error('oops') } } } }
      const client = monitor({ chat: { send: async () => ({ text: 'ok' }) } }, { adapters: [adapter], store: false })
      console.log(JSON.stringify(await client.chat.send({ prompt: 'hi' })))`
    const { stdout, stderr, status } = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(status).toBe(0)
    expect(stdout.trim()).toBe('{"text":"ok"}')
    expect(stderr).toContain("CylestioMonitorWarning: adapter: adapter 'acme', call 'chat.send': request() threw: oops (not scanned)")
  })

  it('a credential nested deeper than 8 levels is still masked', async () => {
    const { client, events } = setup()
    let metadata: Record<string, unknown> = { api_key: 'sk-deep-secret-value', password: 123456 }
    for (let i = 0; i < 20; i++) metadata = { nested: metadata }
    await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], metadata } as never)
    const start = JSON.stringify(events.find((e) => e.event === 'LLM_call_start'))
    expect(start).not.toContain('sk-deep-secret-value')
    expect(start).not.toContain('123456')
    expect(start).toContain('[REDACTED]')
  })

  it('parameters whose getter throws: the client reports it, and the call is still on record', async () => {
    const { client, events } = setup()
    const params: Record<string, unknown> = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }
    let reads = 0
    Object.defineProperty(params, 'metadata', { enumerable: true, get: () => { if (reads++ === 0) throw new Error('first read fails'); return {} } })
    // The monitor reads it first: its failure must not be the one the user sees.
    await client.messages.create(params as never).then(() => undefined, () => undefined)
    const start = events.find((e) => e.event === 'LLM_call_start')
    expect(start).toBeDefined()
  })
})

describe('malformed responses are still recorded', () => {
  it('a response with null content blocks keeps the response and usage in the finish event', async () => {
    const { client, events } = setup({ ...message, content: [null, 5, { type: 'text', text: 'fine' }] })
    await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    const finish = events.find((e) => e.event === 'LLM_call_finish')!
    expect(finish.data.response).toMatchObject({ id: 'msg_1' })
    expect(finish.data.usage).toEqual({ input_tokens: 1, output_tokens: 1 })
  })

  it('a stream accumulator given null chunks and bad indexes keeps going', () => {
    const acc = anthropicAdapter.calls['messages.create']!.stream!()
    acc.push(null)
    acc.push({ type: 'message_start', message: { id: 'm1', content: [], usage: { input_tokens: 1 } } })
    acc.push({ type: 'content_block_start', index: '__proto__', content_block: { type: 'text', text: '' } })
    acc.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
    acc.push({ type: 'content_block_delta', index: 0, delta: null })
    acc.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello' } })
    acc.push({ type: 'message_delta', delta: null, usage: null })
    acc.push({ type: 'message_stop' })
    expect(acc.result().response).toMatchObject({ id: 'm1', content: [{ type: 'text', text: 'hello' }] })
  })
})
