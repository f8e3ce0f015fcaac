import Anthropic from '@anthropic-ai/sdk'
import { readFileSync } from 'node:fs'
import { JSONFile } from 'lowdb/node'
import { Low } from 'lowdb'
import { describe, expect, it } from 'vitest'
import { flush, MonitorBlockedError, monitor } from '../../src/index.js'
import type { EventSink, MonitorEvent } from '../../src/types.js'
import { fakeFetch, readLog, tempLog } from '../helpers.js'

// SPEC §3 and §6: what onEvent, a custom sink, a lowdb document and MonitorBlockedError get is the event
// as recorded (secrets masked), and it shares nothing with the caller's request or response objects.

const KEY = 'sk-ant-api03-' + 'A'.repeat(93) + 'AA'
const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }

function client(options: Parameters<typeof monitor>[1]) {
  const wire = fakeFetch(() => ({ body: message }))
  return { client: monitor(new Anthropic({ apiKey: 'k', fetch: wire.fetch, maxRetries: 0 }), options), calls: wire.calls }
}

/** The agent loop every chat app runs: the reply and the next turn (here with a key) go into the same array. */
function continueConversation(messages: Array<{ role: string; content: unknown }>, reply: Anthropic.Message): void {
  messages.push({ role: 'assistant', content: reply.content })
  messages.push({ role: 'user', content: `here is the key: ${KEY}` })
  reply.content.push({ type: 'text', text: 'changed after the call', citations: null })
}

describe('events handed out are copies of what was recorded', () => {
  it('onEvent: a buffered event does not change when the app changes its objects afterwards', async () => {
    const file = tempLog()
    const buffered: MonitorEvent[] = []
    const { client: c } = client({ store: file, onEvent: (e) => void buffered.push(e) })
    const messages: Array<{ role: string; content: unknown }> = [{ role: 'user', content: 'list my keys' }]
    const reply = await c.messages.create({ model: 'm', max_tokens: 5, messages: messages as Anthropic.MessageParam[] })
    continueConversation(messages, reply)
    const disk = await readLog(file)
    expect(buffered).toEqual(disk)
    const start = buffered.find((e) => e.event === 'LLM_call_start')!
    expect(start.data.messages).toEqual([{ role: 'user', content: 'list my keys' }])
    expect(JSON.stringify(buffered)).not.toContain(KEY)
    expect((buffered.find((e) => e.event === 'LLM_call_finish')!.data.response as Anthropic.Message).content).toHaveLength(1)
  })

  it('onEvent: changing the event changes neither what is sent, the caller\'s params, nor what create() returns', async () => {
    const { client: c, calls } = client({
      store: false,
      onEvent: (e) => {
        if (Array.isArray(e.data.messages)) for (const m of e.data.messages as Array<{ content: string }>) m.content = '[masked for SIEM]'
        if (e.data.response) (e.data.response as { content: unknown[] }).content = []
      },
    })
    const params = { model: 'm', max_tokens: 5, messages: [{ role: 'user' as const, content: 'what is 2+2' }] }
    const reply = await c.messages.create(params)
    expect(calls[0]!.body.messages).toEqual([{ role: 'user', content: 'what is 2+2' }])
    expect(params.messages).toEqual([{ role: 'user', content: 'what is 2+2' }])
    expect(reply.content).toEqual(message.content)
  })

  it('a custom sink gets its own copy, equal to the line, that later changes do not reach', async () => {
    const got: Array<{ line: string; event: MonitorEvent }> = []
    const sink: EventSink = { write: (line, event) => void got.push({ line, event }), flush: async () => {} }
    const seen: MonitorEvent[] = []
    const { client: c } = client({ store: sink, onEvent: (e) => void seen.push(e) })
    const messages: Array<{ role: string; content: unknown }> = [{ role: 'user', content: 'list my keys' }]
    const reply = await c.messages.create({ model: 'm', max_tokens: 5, messages: messages as Anthropic.MessageParam[] })
    continueConversation(messages, reply)
    expect(got.map((g) => g.event.event)).toEqual(['monitoring_enabled', 'LLM_call_start', 'LLM_call_finish'])
    for (const [i, { line, event }] of got.entries()) {
      expect(event).toEqual(JSON.parse(line))
      expect(event).not.toBe(seen[i]) // onEvent has a copy of its own
      expect(event).toEqual(seen[i])
    }
    expect(JSON.stringify(got.map((g) => g.event))).not.toContain(KEY)
  })

  it('a lowdb document stores what was recorded, not what the objects hold when it is written', async () => {
    const file = tempLog('events.json')
    const db = new Low<{ events: MonitorEvent[] }>(new JSONFile(file), { events: [] })
    await db.read()
    const { client: c } = client({ store: db })
    const messages: Array<{ role: string; content: unknown }> = [{ role: 'user', content: 'list my keys' }]
    const reply = await c.messages.create({ model: 'm', max_tokens: 5, messages: messages as Anthropic.MessageParam[] })
    continueConversation(messages, reply) // before the sink's batched write
    await flush()
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain(KEY)
    const start = (JSON.parse(text) as { events: MonitorEvent[] }).events.find((e) => e.event === 'LLM_call_start')!
    expect(start.data.messages).toEqual([{ role: 'user', content: 'list my keys' }])
  })

  it('MonitorBlockedError carries the event as recorded, not the caller\'s objects', async () => {
    const file = tempLog()
    const { client: c } = client({ store: file })
    const messages: Array<{ role: string; content: unknown }> = [{ role: 'user', content: 'please run rm -rf / --no-preserve-root on the build server' }]
    const error = await c.messages.create({ model: 'm', max_tokens: 5, messages: messages as Anthropic.MessageParam[] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MonitorBlockedError)
    messages.push({ role: 'user', content: `here is the key: ${KEY}` })
    const { event } = error as MonitorBlockedError
    const blocked = (await readLog(file)).find((e) => e.event === 'LLM_call_blocked')
    expect(event).toEqual(blocked)
    expect(event.data.messages).toHaveLength(1)
  })
})
