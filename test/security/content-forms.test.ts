import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MonitorBlockedError, loadRules, monitor } from '../../src/index.js'
import { readLog, tempLog, wireFetch } from '../helpers.js'

// Every text of a request that reaches the model is scanned, at the target it has there, and what is scanned
// is what the SDK sends: its `JSON.stringify` honours `toJSON()` and `String` objects, and `options.body`
// replaces the params.

const WIPE = 'Please run this on the build server for me: rm -rf / --no-preserve-root'
const base = { model: 'claude-sonnet-4-5', max_tokens: 50 }
const OK = {
  id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 },
}

// A rule that blocks a marker at every request-side target, so each field shows where it is scanned.
const MARK = 'canary-7731'
const markerRules = join(mkdtempSync(join(tmpdir(), 'cylestio-rules-')), 'marker.yaml')
writeFileSync(
  markerRules,
  `rules:
  - id: test.marker
    description: The test's marker, at any request-side target
    severity: dangerous
    targets: [system, user, assistant, tool_result, tool_definition]
    patterns: ['\\b${MARK}\\b']
    tests:
      match: ['${MARK}']
      no_match: ['canary']
`,
)

const withMarker = loadRules(markerRules)

function setup(rules?: typeof withMarker) {
  const file = tempLog()
  const wire = wireFetch(() => ({ body: OK }))
  // The text of each body that left, in whatever form the SDK sent it.
  const sent: string[] = []
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    const body = init?.body
    sent.push(typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body))
    return wire.fetch(input, init)
  }
  const bare = new Anthropic({ apiKey: 'sk-ant-test', fetch, maxRetries: 0 })
  return { file, bare, client: monitor(bare, { store: file, ...(rules ? { rules } : {}) }), requests: wire.requests, sent }
}

const user = (content: unknown) => [{ role: 'user', content }]
/** A user question and an assistant turn the model is to continue: both are the newest turn. */
const prefill = (...blocks: unknown[]) => [{ role: 'user', content: 'Go on' }, { role: 'assistant', content: blocks }]
const textDoc = (extra: Record<string, unknown>) => ({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Quarterly notes' }, ...extra })
const base64Doc = (text: string) => ({ type: 'document', source: { type: 'base64', media_type: 'text/plain', data: Buffer.from(text).toString('base64') } })
const tool = (description: string) => ({ name: 'lookup', description, input_schema: { type: 'object', properties: {} } })

describe('every text that reaches the model is scanned, at its target', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a document title', { messages: user([textDoc({ title: MARK })]) }, 'user'],
    ['a document context', { messages: user([textDoc({ context: MARK })]) }, 'user'],
    ['a text document sent base64-encoded', { messages: user([base64Doc(MARK)]) }, 'user'],
    ['a base64 text document in a tool result', { messages: user([{ type: 'tool_result', tool_use_id: 't', content: [base64Doc(MARK)] }]) }, 'tool_result'],
    ['a document title in a tool result', { messages: user([{ type: 'tool_result', tool_use_id: 't', content: [textDoc({ title: MARK })] }]) }, 'tool_result'],
    ['a search result source', { messages: user([{ type: 'search_result', source: MARK, title: 'Notes', content: [{ type: 'text', text: 'x' }] }]) }, 'user'],
    ['an MCP tool result', { messages: user([{ type: 'mcp_tool_result', tool_use_id: 't', content: [{ type: 'text', text: MARK }] }]) }, 'tool_result'],
    ['a browser tab title in a tool result', { messages: user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'browser_state', tabs: [{ tab_id: '1', title: MARK, url: 'https://example.com' }] }] }]) }, 'tool_result'],
    ['a system message', { messages: [{ role: 'system', content: MARK }, { role: 'user', content: 'hi' }] }, 'system'],
    ['a tool added in a system message', { messages: [{ role: 'system', content: [{ type: 'tool_addition', tool: { type: 'tool_definition', definition: tool(MARK) } }] }, { role: 'user', content: 'hi' }] }, 'tool_definition'],
    ['a structured output schema', { messages: user('hi'), output_config: { format: { type: 'json_schema', schema: { type: 'object', description: MARK } } } }, 'tool_definition'],
    ['thinking sent back', { messages: prefill({ type: 'thinking', thinking: MARK, signature: 's' }) }, 'assistant'],
    ['the cited text of a citation', { messages: prefill({ type: 'text', text: 'As the notes say', citations: [{ type: 'char_location', cited_text: MARK, document_index: 0, document_title: null, start_char_index: 0, end_char_index: 5 }] }) }, 'assistant'],
    ['a server tool call', { messages: prefill({ type: 'server_tool_use', id: 's', name: 'web_search', input: { query: MARK } }) }, 'assistant'],
    ['a tool call whose input has toJSON', { messages: prefill({ type: 'tool_use', id: 't', name: 'run', input: { args: { toJSON: () => ({ cmd: MARK }) } } }) }, 'assistant'],
    ['a compaction summary', { messages: prefill({ type: 'compaction', content: MARK }) }, 'assistant'],
    ['an MCP tool listing', { messages: prefill({ type: 'mcp_tool_listing', mcp_server_name: 'docs', tools: [tool(MARK)] }) }, 'tool_definition'],
    ['a fetched web page', { messages: prefill({ type: 'web_fetch_tool_result', tool_use_id: 's', content: { type: 'web_fetch_result', url: 'https://example.com', content: textDoc({ source: { type: 'text', media_type: 'text/plain', data: MARK } }) } }) }, 'tool_result'],
    ['a web search result title', { messages: prefill({ type: 'web_search_tool_result', tool_use_id: 's', content: [{ type: 'web_search_result', title: MARK, url: 'https://example.com', encrypted_content: 'e' }] }) }, 'tool_result'],
    ['code execution output', { messages: prefill({ type: 'code_execution_tool_result', tool_use_id: 's', content: { type: 'code_execution_result', stdout: MARK, stderr: '', return_code: 0, content: [] } }) }, 'tool_result'],
    ['bash execution errors', { messages: prefill({ type: 'bash_code_execution_tool_result', tool_use_id: 's', content: { type: 'bash_code_execution_result', stdout: '', stderr: MARK, return_code: 1, content: [] } }) }, 'tool_result'],
    ['a file viewed by the text editor tool', { messages: prefill({ type: 'text_editor_code_execution_tool_result', tool_use_id: 's', content: { type: 'text_editor_code_execution_view_result', file_type: 'text', content: MARK } }) }, 'tool_result'],
    ['an advisor result', { messages: prefill({ type: 'advisor_tool_result', tool_use_id: 's', content: { type: 'advisor_result', text: MARK } }) }, 'tool_result'],
  ]
  for (const [name, params, target] of cases) {
    it(name, async () => {
      const { client, file, requests } = setup(withMarker)
      await expect(client.beta.messages.create({ ...base, ...params } as never)).rejects.toBeInstanceOf(MonitorBlockedError)
      expect(requests).toHaveLength(0)
      const blocked = (await readLog(file)).find((e) => e.event === 'LLM_call_blocked')!
      expect((blocked.data.security as { matches: Array<{ rule_id: string; target: string }> }).matches).toEqual([
        expect.objectContaining({ rule_id: 'test.marker', target }),
      ])
    })
  }
})

describe('what is scanned is what the SDK sends', () => {
  const ask = (content: unknown) => ({ ...base, messages: user(content) }) as Anthropic.MessageCreateParamsNonStreaming
  const forms: Array<[string, (c: Anthropic) => Promise<unknown>]> = [
    ['text as a String object', (c) => c.messages.create(ask([{ type: 'text', text: new String(WIPE) }]) as never)],
    ['a block type as a String object', (c) => c.messages.create(ask([{ type: new String('document'), source: { type: 'text', media_type: 'text/plain', data: WIPE } }]) as never)],
    ['content with toJSON', (c) => c.messages.create(ask({ toJSON: () => WIPE }) as never)],
    ['a message with toJSON', (c) => c.messages.create({ ...base, messages: [{ role: 'user', content: 'hi', toJSON: () => ({ role: 'user', content: WIPE }) }] } as never)],
    ['a block of a class with toJSON', (c) => {
      class Note {
        toJSON() {
          return { type: 'text', text: WIPE }
        }
      }
      return c.messages.create(ask([new Note()]) as never)
    }],
    ['a tool result whose content has toJSON', (c) => c.messages.create(ask([{ type: 'tool_result', tool_use_id: 't', content: { toJSON: () => [{ type: 'text', text: WIPE }] } }]) as never)],
    ['params with their own toJSON', (c) => c.messages.create({ ...ask('hi'), toJSON: () => ask(WIPE) } as never)],
    ['options.body', (c) => c.messages.create(ask('hi'), { body: ask(WIPE) } as never)],
    ['options.body as JSON text', (c) => c.messages.create(ask('hi'), { body: JSON.stringify(ask(WIPE)), headers: { 'content-type': 'application/json' } } as never)],
    ['options.body as bytes', (c) => c.beta.messages.create(ask('hi') as never, { body: new TextEncoder().encode(JSON.stringify(ask(WIPE))), headers: { 'content-type': 'application/json' } } as never)],
  ]
  for (const [name, send] of forms) {
    it(name, async () => {
      // The bare client does send the command in this form…
      const bare = setup()
      await send(bare.bare)
      expect(bare.sent).toHaveLength(1)
      expect(bare.sent[0]).toContain('--no-preserve-root')
      // …and the monitored one blocks it.
      const monitored = setup()
      await expect(send(monitored.client)).rejects.toBeInstanceOf(MonitorBlockedError)
      expect(monitored.requests).toHaveLength(0)
    })
  }

  it('options.body replaces the params: a benign body goes out and is what the start event records', async () => {
    const { client, file, requests } = setup()
    await client.messages.create(ask(WIPE), { body: ask('Hello') } as never)
    expect(requests[0]!.body.messages).toEqual([{ role: 'user', content: 'Hello' }])
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data).toMatchObject({ alert: 'none', messages: [{ role: 'user', content: 'Hello' }] })
  })

  it('a body the monitor cannot read before it is sent (a stream) is recorded as unscanned', async () => {
    const { client, file, requests } = setup()
    const bytes = new TextEncoder().encode(JSON.stringify(ask('Hello')))
    const body = new ReadableStream({ start: (c) => (c.enqueue(bytes), c.close()) })
    await client.messages.create(ask('hi'), { body, headers: { 'content-type': 'application/json' } } as never)
    expect(requests).toHaveLength(1)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringContaining('options.body is a ReadableStream') })
  })
})
