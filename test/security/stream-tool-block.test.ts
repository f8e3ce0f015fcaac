import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { MonitorBlockedError, monitor } from '../../src/index.js'
import { readLog, tempLog, wireFetch } from '../helpers.js'

// With blockDangerousResponses, a streamed tool call whose assembled arguments are dangerous never reaches
// the application whole: the chunk that completes it (`content_block_stop`) is not delivered, the reading
// loop throws instead, and the call is recorded with the alert. Text and harmless tool calls stream as usual.

function sse(events: Array<Record<string, unknown>>): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')
}

/** A tool call (`command`) followed by a text block, as the API streams it. */
const toolStream = (command: string) =>
  sse([
    { type: 'message_start', message: { id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_01', name: 'bash', input: {} } },
    { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"command": ' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(command) + '}' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'done' } },
    { type: 'content_block_stop', index: 1 },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } },
    { type: 'message_stop' },
  ])

const P = {
  model: 'claude-sonnet-4-5',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'clean the build dir' }],
  tools: [{ name: 'bash', description: 'runs a command', input_schema: { type: 'object' as const, properties: { command: { type: 'string' } } } }],
}

function monitored(command: string) {
  const file = tempLog()
  const wire = wireFetch(() => ({ stream: 'sse', body: toolStream(command), delayMs: 1 }))
  const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', fetch: wire.fetch, maxRetries: 0 }), { store: file, blockDangerousResponses: true })
  return { client, file }
}

/** A raw `stream: true` loop that runs each tool call when its block closes, as the SDK's docs show. */
async function runToolsAsTheyClose(client: Anthropic) {
  const ran: unknown[] = []
  let json = ''
  const seen: string[] = []
  const error = await (async () => {
    for await (const event of await client.messages.create({ ...P, stream: true })) {
      seen.push(event.type)
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') json += event.delta.partial_json
      if (event.type === 'content_block_stop' && json) {
        ran.push(JSON.parse(json))
        json = ''
      }
    }
  })().catch((e: unknown) => e)
  return { ran, seen, error }
}

describe('blockDangerousResponses stops a streamed tool call before the application holds it', () => {
  it('stream: true: the loop throws instead of delivering the content_block_stop that completes it', async () => {
    const { client, file } = monitored('rm -rf /')
    const { ran, seen, error } = await runToolsAsTheyClose(client)
    expect(error).toBeInstanceOf(MonitorBlockedError)
    expect(ran).toEqual([])
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta'])
    const closing = (await readLog(file)).filter((e) => e.channel === 'LLM' && e.event !== 'LLM_call_start')
    expect(closing).toHaveLength(1)
    expect(closing[0]!.event).toBe('LLM_call_finish')
    expect(closing[0]!.data).toMatchObject({ alert: 'dangerous', blocked_mid_stream: true })
    expect((closing[0]!.data.security as { matches: Array<{ target: string }> }).matches.map((m) => m.target)).toContain('tool_input')
    expect((error as MonitorBlockedError).event).toEqual(closing[0])
  })

  it('messages.stream(): no contentBlock, message or finalMessage carries it', async () => {
    const { client } = monitored('rm -rf /')
    const handed: unknown[] = []
    const stream = client.messages.stream(P)
    stream.on('contentBlock', (block) => handed.push(['contentBlock', block]))
    stream.on('message', (message) => handed.push(['message', message]))
    const error = await stream.finalMessage().catch((e: { cause?: unknown }) => e)
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(MonitorBlockedError)
    expect(handed).toEqual([])
  })

  it('a harmless tool call streams as from the bare client', async () => {
    const { client, file } = monitored('rm -rf ./build')
    const { ran, seen, error } = await runToolsAsTheyClose(client)
    expect(error).toBeUndefined()
    expect(ran).toEqual([{ command: 'rm -rf ./build' }])
    expect(seen.at(-1)).toBe('message_stop')
    const finish = (await readLog(file)).find((e) => e.event === 'LLM_call_finish')!
    expect(finish.data.alert).toBe('none')
    expect(finish.data.blocked_mid_stream).toBeUndefined()
  })

  it('without blockDangerousResponses, the stream is delivered whole and the call flagged', async () => {
    const file = tempLog()
    const wire = wireFetch(() => ({ stream: 'sse', body: toolStream('rm -rf /') }))
    const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', fetch: wire.fetch, maxRetries: 0 }), { store: file })
    const { ran, error } = await runToolsAsTheyClose(client)
    expect(error).toBeUndefined()
    expect(ran).toEqual([{ command: 'rm -rf /' }])
    expect((await readLog(file)).find((e) => e.event === 'LLM_call_finish')!.data.alert).toBe('dangerous')
  })
})
