import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { describe, expectTypeOf, it } from 'vitest'
import { monitor, type MonitorEvent } from '../../src/index.js'
import { getEventsByChannel } from '../../src/db.js'

describe('types', () => {
  it('monitor(client) keeps the client type', () => {
    const client = monitor(new Anthropic({ apiKey: 'x' }), { agentId: 'a' })
    expectTypeOf(client).toEqualTypeOf<Anthropic>()
    expectTypeOf(client.messages.create).toEqualTypeOf<Anthropic['messages']['create']>()
  })

  it('monitor(new OpenAI()) keeps the OpenAI client type, streams included', () => {
    const client = monitor(new OpenAI({ apiKey: 'x' }))
    expectTypeOf(client).toEqualTypeOf<OpenAI>()
    expectTypeOf(client.chat.completions.create).toEqualTypeOf<OpenAI['chat']['completions']['create']>()
    expectTypeOf(client.responses.create).toEqualTypeOf<OpenAI['responses']['create']>()
  })

  it('queries return events', () => {
    expectTypeOf(getEventsByChannel('LLM', { agentId: 'a' })).resolves.toEqualTypeOf<MonitorEvent[]>()
  })

  it('rejects options that do not exist', () => {
    // @ts-expect-error: not an option
    monitor(new Anthropic({ apiKey: 'x' }), { agentID: 'a' })
  })
})
