import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer, type DemoServer } from '../../src/demo/server.js'
import { getAgentStats, getEventsByChannel, getEventsByType, monitor } from '../../src/index.js'
import { tempLog } from '../helpers.js'

/** The README's quick start, as a user writes it: query right after the call, no flush(). */
let server: DemoServer
beforeAll(async () => {
  server = await startDemoServer()
})
afterAll(() => server.close())

describe('the quick start', () => {
  it('queries see the events this process just recorded, without a flush()', async () => {
    const file = tempLog()
    const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, maxRetries: 0 }), { agentId: 'my_agent', store: file })
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }] })
    const llm = await getEventsByChannel('LLM', { agentId: 'my_agent', file })
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Again' }] })
    expect(await getEventsByType('LLM_call_finish', { file, limit: 1 })).toHaveLength(1)
    const [stats] = await getAgentStats({ agentId: 'my_agent', file })
    expect(stats).toMatchObject({ agent_id: 'my_agent', model: 'claude-sonnet-4-5', calls: 2, blocked: 0, errors: 0 })
  })
})
