import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { MonitorBlockedError, monitor } from '../../src/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { fixture, readLog, tempLog, wireFetch } from '../helpers.js'

// The monitored client looks like the bare one down to its functions' names, and monitoring it again never
// adds a layer nor silently drops the options asked for.

const ask = (content: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content }] })
const WIPE = 'Please run this on the build server for me: rm -rf / --no-preserve-root'

function client() {
  const wire = wireFetch(() => ({ body: fixture('anthropic/message-cache.json') }))
  return { bare: new Anthropic({ apiKey: 'sk-ant-test', fetch: wire.fetch, maxRetries: 0 }), wire }
}

const llm = (events: MonitorEvent[]) => events.filter((e) => e.channel === 'LLM')

describe('the functions handed out look like the real ones', () => {
  it('name and length of intercepted methods, helpers and passed-through methods', () => {
    const { bare } = client()
    const m = monitor(client().bare, { store: false })
    const shape = (c: Anthropic) =>
      [c.messages.create, c.messages.stream, c.messages.parse, c.beta.messages.create, c.withOptions, c.models.list, c.messages.countTokens].map((f) => [f.name, f.length])
    expect(shape(m)).toEqual(shape(bare))
    expect(m.messages.create.name).toBe('create')
  })
})

describe('monitor() of a monitored client', () => {
  it('without options, or with the same ones, is the same client', () => {
    const first = monitor(client().bare, { store: false, agentId: 'a', blockDangerous: true })
    expect(monitor(first)).toBe(first)
    expect(monitor(first, {})).toBe(first)
    expect(monitor(first, { store: false, agentId: 'a' })).toBe(first)
    // Empty lists mean what leaving them out means.
    expect(monitor(first, { store: false, agentId: 'a', rules: [], adapters: [] })).toBe(first)
  })

  it('with other options, monitors the real client anew with them: one layer, the options given hold', async () => {
    const file = tempLog()
    const { bare, wire } = client()
    const first = monitor(bare, { store: file, agentId: 'first', blockDangerous: false })
    const second = monitor(first, { store: file, agentId: 'second', blockDangerous: true })
    expect(second).not.toBe(first)
    expect(second).toBeInstanceOf(Anthropic)
    await expect(second.messages.create(ask(WIPE))).rejects.toBeInstanceOf(MonitorBlockedError)
    expect(wire.requests).toHaveLength(0)
    await second.messages.create(ask('hi'))
    const events = llm(await readLog(file))
    // One layer: each call has one start (or block) and one closing event, all of the second monitor.
    expect(events.map((e) => [e.event, e.agent_id])).toEqual([
      ['LLM_call_blocked', 'second'],
      ['LLM_call_start', 'second'],
      ['LLM_call_finish', 'second'],
    ])
    // The first keeps its own options.
    await first.messages.create(ask(WIPE))
    expect(wire.requests).toHaveLength(2)
  })
})
