import Anthropic from '@anthropic-ai/sdk'
import { describe, expectTypeOf, it } from 'vitest'
import { monitor, type MonitorEvent } from '../../src/index.js'
import { getEventsByChannel } from '../../src/db.js'

describe('types', () => {
  it('monitor(client) keeps the client type', () => {
    const client = monitor(new Anthropic({ apiKey: 'x' }), { agentId: 'a' })
    expectTypeOf(client).toEqualTypeOf<Anthropic>()
    expectTypeOf(client.messages.create).toEqualTypeOf<Anthropic['messages']['create']>()
  })

  it('queries return events', () => {
    expectTypeOf(getEventsByChannel('LLM', { agentId: 'a' })).resolves.toEqualTypeOf<MonitorEvent[]>()
  })

  it('rejects options that do not exist', () => {
    // @ts-expect-error: not an option
    monitor(new Anthropic({ apiKey: 'x' }), { agentID: 'a' })
  })
})
