import { inspect } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import { APIPromise } from '@anthropic-ai/sdk/core/api-promise'
import { expect } from 'vitest'
import type { MonitorEvent } from '../../src/types.js'
import { fixture, wireFetch } from '../helpers.js'
import type { Subject } from './subjects.js'

/**
 * The transparency suite for `@anthropic-ai/sdk`: every case runs the same scenario on a bare client and on
 * a wrapped one (real SDK, a `fetch` answering with real JSON bodies and SSE transcripts) and asserts the
 * same results — values, errors, chunks in order — and, where the case is about recording, the events.
 */
export type TransparencyCase = (subject: Subject) => Promise<void>

const MODEL = 'claude-sonnet-4-5'

function lastUserText(body: any): string {
  const m = body?.messages?.at(-1)
  return typeof m?.content === 'string' ? m.content : (m?.content ?? []).map((b: any) => b.text ?? '').join(' ')
}

/** Routes a request to the fixture the real API would answer it with. */
function anthropicWire(url: URL, body: any) {
  const path = url.pathname
  if (path === '/v1/messages') {
    const prompt = lastUserText(body)
    if (prompt.includes('overloaded')) {
      return { status: 529, body: JSON.parse(fixture('anthropic/error-overloaded.json')), headers: { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' } }
    }
    if (body.stream) {
      const name = prompt.includes('all blocks') ? 'stream-all-blocks' : prompt.includes('fail mid-stream') ? 'stream-error' : 'stream-text'
      let sse = fixture(`anthropic/${name}.sse`)
      // The connection closed by the service after the text's deltas: no content_block_stop, message_delta or message_stop.
      if (prompt.includes('cut short')) sse = sse.slice(0, sse.indexOf('event: content_block_stop'))
      return { stream: 'sse' as const, body: sse, delayMs: prompt.includes('slowly') ? 3 : 0 }
    }
    return { body: JSON.parse(fixture(prompt.includes('json') ? 'anthropic/message-json.json' : 'anthropic/message-cache.json')) }
  }
  if (path === '/v1/messages/count_tokens') return { body: JSON.parse(fixture('anthropic/count-tokens.json')) }
  if (path.startsWith('/v1/messages/batches')) {
    const batch = JSON.parse(fixture('anthropic/batch.json'))
    if (path.endsWith('/results')) return { stream: 'jsonl' as const, body: fixture('anthropic/batch-results.jsonl') }
    if (path.endsWith('/cancel')) return { body: { ...batch, processing_status: 'canceling' } }
    if (path === '/v1/messages/batches') {
      return body ? { body: batch } : { body: { data: [batch], has_more: false, first_id: batch.id, last_id: batch.id } }
    }
    if (url.searchParams.size === 0 && body === undefined && /\/batches\/[^/]+$/.test(path)) return { body: batch }
    return { body: { id: batch.id, type: 'message_batch_deleted' } }
  }
  if (path === '/v1/models') {
    return { body: JSON.parse(fixture(url.searchParams.get('after_id') ? 'anthropic/models-page-2.json' : 'anthropic/models-page-1.json')) }
  }
  return { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } } }
}

/** A real Anthropic client whose `fetch` answers from the fixtures. */
export function anthropicClient() {
  const wire = wireFetch((url, body, init) => {
    if (init?.method === 'DELETE') return { body: { id: 'msgbatch_013Zva2CMHLNnXjNJJKqJ2EF', type: 'message_batch_deleted' } }
    return anthropicWire(url, body)
  })
  const client = new Anthropic({ apiKey: 'sk-ant-api03-secret-key-0123456789', fetch: wire.fetch, maxRetries: 0 })
  return { client, wire }
}

/** A bare client and a wrapped one, each with its own wire (so each request count is its own). */
function pair(subject: Subject) {
  const bare = anthropicClient()
  const raw = anthropicClient()
  return { bare: bare.client, bareWire: bare.wire, raw: raw.client, client: subject.wrap(raw.client), wire: raw.wire }
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content }],
  ...extra,
})

const askStream = <E extends Record<string, unknown>>(content: string, extra?: E) => ({ ...ask(content, extra), stream: true as const })

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a location',
  input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] },
}

/** What running `fn` gives: its value, or the error it threw (compared by class, name and message). */
async function outcome<T>(fn: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() }
  } catch (error) {
    return { ok: false, error }
  }
}

function sameOutcome(a: Awaited<ReturnType<typeof outcome>>, b: Awaited<ReturnType<typeof outcome>>): void {
  expect(a.ok).toBe(b.ok)
  if (!a.ok && !b.ok) {
    expect(Object.getPrototypeOf(a.error)).toBe(Object.getPrototypeOf(b.error))
    expect((a.error as Error).message).toBe((b.error as Error).message)
  } else if (a.ok && b.ok) expect(a.value).toEqual(b.value)
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

const byCall = (events: MonitorEvent[]) => {
  const calls = new Map<string, MonitorEvent[]>()
  for (const e of events) calls.set(e.call_id!, [...(calls.get(e.call_id!) ?? []), e])
  return [...calls.values()]
}
const closing = (events: MonitorEvent[]) => events.filter((e) => e.event === 'LLM_call_finish' || e.event === 'LLM_call_error')
const json = (v: unknown) => JSON.parse(JSON.stringify(v))

/** Exactly one call recorded: its start, and one closing event. */
async function oneCall(subject: Subject, method: string): Promise<{ start: MonitorEvent; end: MonitorEvent }> {
  const events = await subject.events()
  expect(events.map((e) => e.event)).toHaveLength(2)
  const [start, end] = events as [MonitorEvent, MonitorEvent]
  expect(start.event).toBe('LLM_call_start')
  expect(start.data.method).toBe(method)
  expect(end.call_id).toBe(start.call_id)
  return { start, end }
}

export const anthropicCases: Record<string, TransparencyCase> = {
  async 'messages.create returns the same message, recorded once with its request id'(subject) {
    const { bare, client } = pair(subject)
    const expected = await bare.messages.create(ask('Summarise the contract'))
    const actual = await client.messages.create(ask('Summarise the contract'))
    expect(actual).toEqual(expected)
    expect(actual._request_id).toBe(expected._request_id)
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.event).toBe('LLM_call_finish')
    expect(end.data.response).toEqual(json(actual))
    expect(end.data.request_id).toBe('req_011CWire')
  },

  async 'messages.create stream: true yields the same chunks in order; the finish event has the assembled message'(subject) {
    const { bare, client } = pair(subject)
    const expected = await collect(await bare.messages.create(askStream('Hello')))
    const actual = await collect(await client.messages.create(askStream('Hello')))
    expect(actual).toEqual(expected)
    const { start, end } = await oneCall(subject, 'messages.create')
    expect(start.data.stream).toBe(true)
    expect(end.data.response).toMatchObject({ content: [{ type: 'text', text: 'Hello! How can I help you today?' }], stop_reason: 'end_turn' })
    expect(end.data.usage).toMatchObject({ input_tokens: 25, output_tokens: 12 })
    expect(end.data.partial).toBeUndefined()
  },

  async 'messages.stream(): same events, finalMessage() and finalText(); recorded once, as messages.stream'(subject) {
    const { bare, client, wire } = pair(subject)
    const run = async (c: Anthropic) => {
      const stream = c.messages.stream(ask('Hello'))
      const seen: string[] = []
      stream.on('streamEvent', (e) => seen.push(e.type))
      stream.on('text', (t) => seen.push(`text:${t}`))
      const message = await stream.finalMessage()
      return { seen, message, text: await stream.finalText() }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    expect(wire.requests).toHaveLength(1)
    const { end } = await oneCall(subject, 'messages.stream')
    // The message as the API sent it (the helper adds `parsed_output` on its side).
    const { parsed_output: _helperField, ...wireMessage } = actual.message as typeof actual.message & { parsed_output?: unknown }
    expect(end.data.response).toEqual(json(wireMessage))
  },

  async 'messages.stream().abort(): the same abort error; exactly one closing event, flagged partial'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const stream = c.messages.stream(ask('Hello, slowly'))
      let aborted = false
      stream.on('abort', () => (aborted = true))
      stream.on('text', () => stream.abort())
      const result = await outcome(() => stream.finalMessage())
      return { result, aborted, flag: stream.aborted }
    }
    const expected = await run(bare)
    const actual = await run(client)
    sameOutcome(actual.result, expected.result)
    expect(actual.result.ok).toBe(false)
    expect(actual.aborted).toBe(expected.aborted)
    expect(actual.flag).toBe(true)
    const events = await subject.events()
    expect(closing(events)).toHaveLength(1)
    expect(closing(events)[0]!.data).toMatchObject({ method: 'messages.stream', partial: true })
  },

  async 'messages.countTokens gives the same count and is not recorded as a generation'(subject) {
    const { bare, client } = pair(subject)
    const expected = await bare.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
    const actual = await client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
    expect(actual).toEqual(expected)
    expect(actual.input_tokens).toBe(2095)
    expect(await subject.events()).toEqual([])
  },

  async 'messages.batches.* (create, retrieve, list, cancel, delete, results) pass through unrecorded'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const created = await c.messages.batches.create({ requests: [{ custom_id: 'req-1', params: ask('Hello again') }] })
      const retrieved = await c.messages.batches.retrieve(created.id)
      const listed = []
      for await (const b of c.messages.batches.list()) listed.push(b)
      const canceled = await c.messages.batches.cancel(created.id)
      const deleted = await c.messages.batches.delete(created.id)
      const results = await collect(await c.messages.batches.results(created.id))
      return { created, retrieved, listed, canceled, deleted, results }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    expect(actual.results.map((r) => r.custom_id)).toEqual(['req-1', 'req-2'])
    expect(actual.canceled.processing_status).toBe('canceling')
    expect(await subject.events()).toEqual([])
  },

  async 'models.list(): for await iterates every page; .data is defined on the awaited page'(subject) {
    const { bare, client } = pair(subject)
    const ids = async (c: Anthropic) => (await collect(c.models.list({ limit: 2 }))).map((m) => m.id)
    expect(await ids(client)).toEqual(await ids(bare))
    expect(await ids(client)).toEqual(['claude-opus-4-5-20251101', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'])
    const page = await client.models.list({ limit: 2 })
    expect(page.data.map((m) => m.id)).toEqual((await bare.models.list({ limit: 2 })).data.map((m) => m.id))
    expect(page.hasNextPage()).toBe(true)
    expect((await page.getNextPage()).data).toHaveLength(1)
  },

  async 'beta.messages: create, stream() and parse() behave as bare, each recorded once under its own name'(subject) {
    const { bare, client, wire, bareWire } = pair(subject)
    const run = async (c: Anthropic) => {
      const created = await c.beta.messages.create(ask('Summarise the contract', { betas: ['context-1m-2025-08-07'] }))
      const streamed = await c.beta.messages.stream(ask('Hello')).finalMessage()
      const parsed = await c.beta.messages.parse(
        ask('What is 2+2? Answer in json', {
          output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { answer: { type: 'number' } } } } },
        }),
      )
      return { created, streamed, parsed, parsedOutput: parsed.parsed_output }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    expect(actual.parsedOutput).toEqual({ answer: 4 })
    expect(wire.requests).toHaveLength(3)
    expect(wire.requests.map((r) => r.url)).toEqual(bareWire.requests.map((r) => r.url))
    const starts = (await subject.events()).filter((e) => e.event === 'LLM_call_start')
    expect(starts.map((e) => e.data.method)).toEqual(['beta.messages.create', 'beta.messages.stream', 'beta.messages.parse'])
    expect(closing(await subject.events())).toHaveLength(3)
  },

  async 'a create made inside a stream event handler is recorded as its own call'(subject) {
    const { bare, client, wire } = pair(subject)
    const run = async (c: Anthropic) => {
      const stream = c.messages.stream(ask('Hello'))
      let inner: Promise<Anthropic.Message> | undefined
      stream.on('text', () => (inner ??= c.messages.create(ask('Summarise the contract'))))
      const outer = await stream.finalMessage()
      return { outer, inner: await inner }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    expect(wire.requests).toHaveLength(2)
    const calls = byCall(await subject.events())
    expect(calls).toHaveLength(2)
    expect(calls.map((c) => c.map((e) => e.event))).toEqual([
      ['LLM_call_start', 'LLM_call_finish'],
      ['LLM_call_start', 'LLM_call_finish'],
    ].map((x) => x).sort())
    expect(calls.map((c) => c[0]!.data.method).sort()).toEqual(['messages.create', 'messages.stream'])
  },

  async 'stream assembly: every block and delta type, unknown types kept, usage merged from message_start and message_delta'(subject) {
    const { bare, client } = pair(subject)
    const params = askStream('Weather in Paris? (all blocks)', { tools: [WEATHER_TOOL] })
    const expected = await collect(await bare.messages.create(params))
    const actual = await collect(await client.messages.create(params))
    expect(actual).toEqual(expected)
    const { end } = await oneCall(subject, 'messages.create')
    const response = end.data.response as { content: any[]; stop_reason: string }
    expect(response.stop_reason).toBe('tool_use')
    expect(response.content.map((b) => b.type)).toEqual(['thinking', 'server_tool_use', 'web_search_tool_result', 'text', 'tool_use', 'hologram'])
    expect(response.content[0]).toEqual({
      type: 'thinking',
      thinking: 'The user wants the weather in Paris. I should search first, then call the tool.',
      signature: expect.stringMatching(/^EqQBCgIYAhIM/),
    })
    expect(response.content[1]).toMatchObject({ name: 'web_search', input: { query: 'weather Paris today' } })
    expect(response.content[2].content[0]).toMatchObject({ type: 'web_search_result', url: 'https://weather.example.com/paris' })
    expect(response.content[3]).toEqual({
      type: 'text',
      text: 'It is 18°C and sunny in Paris. Let me get the detailed forecast.',
      citations: [expect.objectContaining({ type: 'web_search_result_location', cited_text: 'Paris: sunny, 18°C, light wind from the west.' })],
    })
    expect(response.content[4]).toMatchObject({ type: 'tool_use', input: { location: 'Paris, France', unit: 'celsius', days: 3 } })
    expect(response.content[5]).toMatchObject({ type: 'hologram', id: 'holo_01', unknown_deltas: [{ type: 'hologram_delta', frame: 'AAEC' }] })
    expect(end.data.usage).toEqual({
      input_tokens: 2679,
      cache_creation_input_tokens: 1824,
      cache_read_input_tokens: 4096,
      cache_creation: { ephemeral_5m_input_tokens: 1024, ephemeral_1h_input_tokens: 800 },
      output_tokens: 187,
      service_tier: 'standard',
      server_tool_use: { web_search_requests: 1 },
    })
  },

  async 'time to first token is recorded for streams, between 0 and the duration'(subject) {
    const { client } = pair(subject)
    await collect(await client.messages.create(askStream('Hello, slowly')))
    const { end } = await oneCall(subject, 'messages.create')
    const ttft = end.data.time_to_first_token_ms as number
    expect(ttft).toBeGreaterThan(0)
    expect(ttft).toBeLessThanOrEqual(end.data.duration_ms as number)
  },

  async 'an abandoned stream (break) gives the same chunks and exactly one closing event, partial'(subject) {
    const { bare, client } = pair(subject)
    const firstDelta = async (c: Anthropic) => {
      const seen: unknown[] = []
      const stream = await c.messages.create(askStream('Hello'))
      for await (const event of stream) {
        seen.push(event)
        if (event.type === 'content_block_delta') break
      }
      return { seen, aborted: stream.controller.signal.aborted }
    }
    expect(await firstDelta(client)).toEqual(await firstDelta(bare))
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.event).toBe('LLM_call_finish')
    expect(end.data).toMatchObject({ partial: true, response: { content: [{ type: 'text', text: 'Hello' }] } })
  },

  async 'an abandoned stream (iterator.return()) gives the same results and one closing event, partial'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const it = (await c.messages.create(askStream('Hello')))[Symbol.asyncIterator]()
      const first = await it.next()
      return { first, ret: await it.return!(), after: await it.next() }
    }
    expect(await run(client)).toEqual(await run(bare))
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.data.partial).toBe(true)
  },

  async 'an abandoned stream (controller.abort()) ends the same way; one closing event, partial'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const stream = await c.messages.create(askStream('Hello, slowly'))
      const seen: string[] = []
      const result = await outcome(async () => {
        for await (const event of stream) {
          seen.push(event.type)
          if (event.type === 'content_block_start') stream.controller.abort()
        }
      })
      return { seen, result }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual.seen).toEqual(expected.seen)
    sameOutcome(actual.result, expected.result)
    const events = await subject.events()
    expect(closing(events)).toHaveLength(1)
    expect(closing(events)[0]!.data.partial).toBe(true)
  },

  async 'a stream aborted before it is read ends the same way and still gets one closing event, partial'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const stream = await c.messages.create(askStream('Hello'))
      stream.controller.abort()
      return { aborted: stream.controller.signal.aborted, after: await outcome(() => collect(stream)) }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual.aborted).toBe(expected.aborted)
    sameOutcome(actual.after, expected.after)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const events = await subject.events()
    expect(closing(events)).toHaveLength(1)
    expect(closing(events)[0]!.data.partial).toBe(true)
  },

  async 'an error mid-stream is rethrown the same; one LLM_call_error with the partial response'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const seen: unknown[] = []
      const result = await outcome(async () => {
        for await (const event of await c.messages.create(askStream('Please fail mid-stream'))) seen.push(event)
      })
      return { seen, result }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual.seen).toEqual(expected.seen)
    sameOutcome(actual.result, expected.result)
    expect(actual.result.ok).toBe(false)
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.event).toBe('LLM_call_error')
    expect(end.data.error).toMatchObject({ type: 'overloaded_error' })
    expect(end.data.partial_response).toMatchObject({ content: [{ type: 'text', text: 'Partial answer' }] })
  },

  async 'a stream the service cuts short (no message_stop) reads the same; one LLM_call_error with what arrived, judged'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const chunks = await outcome(async () => collect(await c.messages.create(askStream('Hello, cut short'))))
      const helper = await outcome(() => c.messages.stream(ask('Hello, cut short')).finalMessage())
      return { chunks, helper }
    }
    const expected = await run(bare)
    const actual = await run(client)
    sameOutcome(actual.chunks, expected.chunks)
    expect(actual.chunks.ok).toBe(true) // the SDK's stream ends without an error…
    sameOutcome(actual.helper, expected.helper)
    expect(actual.helper.ok).toBe(false) // …its helper throws: no message was produced
    const ends = closing(await subject.events())
    expect(ends.map((e) => [e.event, e.level, e.data.method])).toEqual([
      ['LLM_call_error', 'error', 'messages.create'],
      ['LLM_call_error', 'error', 'messages.stream'],
    ])
    for (const end of ends) {
      expect(end.data.error).toEqual({ name: 'IncompleteStream', message: 'the stream ended before the end of its response' })
      expect(end.data.partial_response).toMatchObject({ content: [{ type: 'text', text: 'Hello! How can I help you today?' }] })
      expect(end.data).toMatchObject({ alert: 'none', security: { matches: [] } })
      expect(end.data.partial).toBeUndefined()
      expect(end.data.response).toBeUndefined()
    }
  },

  async 'tee(), toReadableStream() and controller keep working on a stream: true result'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const [left, right] = (await c.messages.create(askStream('Hello'))).tee()
      const teed = { left: await collect(left), right: await collect(right) }
      const stream = await c.messages.create(askStream('Hello'))
      const controller = stream.controller instanceof AbortController
      const text = await new Response(stream.toReadableStream()).text()
      return { teed, text, controller }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    expect(actual.teed.left).toHaveLength(9)
    expect(actual.controller).toBe(true)
    const ends = closing(await subject.events())
    expect(ends).toHaveLength(2)
    expect(ends.every((e) => e.event === 'LLM_call_finish' && e.data.partial === undefined)).toBe(true)
  },

  async 'withResponse() and asResponse() work on plain and streaming calls, each call closed once'(subject) {
    const { bare, client } = pair(subject)
    const run = async (c: Anthropic) => {
      const plain = await c.messages.create(ask('Summarise the contract')).withResponse()
      const streamed = await c.messages.create(askStream('Hello')).withResponse()
      const chunks = await collect(streamed.data)
      const raw = await c.messages.create(ask('Summarise the contract')).asResponse()
      const rawStream = await c.messages.create(askStream('Hello')).asResponse()
      return {
        plain: { data: plain.data, status: plain.response.status, request_id: plain.request_id },
        streamed: { status: streamed.response.status, request_id: streamed.request_id, chunks },
        raw: { status: raw.status, body: await raw.json() },
        rawStream: { type: rawStream.headers.get('content-type'), body: await rawStream.text() },
      }
    }
    const expected = await run(bare)
    const actual = await run(client)
    expect(actual).toEqual(expected)
    const calls = byCall(await subject.events())
    expect(calls).toHaveLength(4)
    expect(calls.every((c) => c.length === 2 && c[1]!.event === 'LLM_call_finish')).toBe(true)
    expect(calls[1]![1]!.data.response).toMatchObject({ content: [{ text: 'Hello! How can I help you today?' }] })
    expect(calls[2]![1]!.data).toMatchObject({ raw_response: true, status: 200 })
  },

  async 'buildURL() and withOptions({ timeout }) reach private fields; the clone is monitored too'(subject) {
    const { bare, client, raw } = pair(subject)
    expect(client.buildURL('/v1/files', null)).toBe(bare.buildURL('/v1/files', null))
    expect(client.buildURL('/v1/files', { limit: 5 })).toBe('https://api.anthropic.com/v1/files?limit=5')
    const clone = client.withOptions({ timeout: 5 })
    expect(clone).toBeInstanceOf(Anthropic)
    expect(clone.timeout).toBe(5)
    expect(clone).not.toBe(raw)
    expect(clone.buildURL('/v1/files', null)).toBe(bare.buildURL('/v1/files', null))
    const message = await clone.messages.create(ask('Summarise the contract'), { timeout: 60_000 })
    expect(message).toEqual(await bare.messages.create(ask('Summarise the contract')))
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.event).toBe('LLM_call_finish')
  },

  async "the promise returned is the SDK's own APIPromise, with every helper on it"(subject) {
    const { client } = pair(subject)
    const promise = client.messages.create(ask('Summarise the contract'))
    expect(promise).toBeInstanceOf(APIPromise)
    expect(Object.getPrototypeOf(promise)).toBe(APIPromise.prototype)
    expect(typeof promise.withResponse).toBe('function')
    expect(typeof promise.asResponse).toBe('function')
    expect(Object.keys(promise)).not.toContain('asResponse')
    const { data, request_id } = await promise.withResponse()
    expect(data.id).toBe('msg_01Aq9w938a90dw8q')
    expect(request_id).toBe('req_011CWire')
  },

  async 'stream: true with tools: the tool input in the finish event is the parsed object'(subject) {
    const { client } = pair(subject)
    await collect(await client.messages.create(askStream('Weather in Paris? (all blocks)', { tools: [WEATHER_TOOL] })))
    const { end } = await oneCall(subject, 'messages.create')
    const tool = (end.data.response as { content: any[] }).content.find((b) => b.type === 'tool_use')
    expect(tool.input).toEqual({ location: 'Paris, France', unit: 'celsius', days: 3 })
  },

  async 'usage keeps input, cache creation (with its breakdown) and cache read tokens as sent'(subject) {
    const { client } = pair(subject)
    const message = await client.messages.create(ask('Summarise the contract'))
    await collect(await client.messages.create(askStream('Weather (all blocks)')))
    const [plain, streamed] = closing(await subject.events())
    expect(plain!.data.usage).toEqual(json(message.usage))
    expect(plain!.data.usage).toEqual({
      input_tokens: 12,
      cache_creation_input_tokens: 1824,
      cache_read_input_tokens: 20480,
      cache_creation: { ephemeral_5m_input_tokens: 1024, ephemeral_1h_input_tokens: 800 },
      output_tokens: 21,
      service_tier: 'standard',
    })
    expect(streamed!.data.usage).toMatchObject({
      input_tokens: 2679,
      cache_creation_input_tokens: 1824,
      cache_read_input_tokens: 4096,
      cache_creation: { ephemeral_5m_input_tokens: 1024, ephemeral_1h_input_tokens: 800 },
      output_tokens: 187,
    })
  },

  async 'secrets in structured parameters and request headers never reach the event log in clear'(subject) {
    const { client, wire } = pair(subject)
    await client.beta.messages.create(
      ask('Summarise the contract', {
        betas: ['mcp-client-2025-04-04'],
        mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'contracts', authorization_token: 'mcp-tok-5f2a9c81e7' }],
      }),
      { headers: { 'x-internal-auth': 'Bearer hdr-secret-77aa31' } },
    )
    // The secrets did go to the API: the monitor masks its record, not the request.
    expect(wire.requests[0]!.body.mcp_servers[0].authorization_token).toBe('mcp-tok-5f2a9c81e7')
    expect(wire.requests[0]!.headers.get('x-internal-auth')).toBe('Bearer hdr-secret-77aa31')
    const log = await subject.logText()
    expect(log).toContain('"mcp_servers"')
    for (const secret of ['mcp-tok-5f2a9c81e7', 'hdr-secret-77aa31', 'sk-ant-api03-secret-key-0123456789']) expect(log).not.toContain(secret)
  },

  async 'identity: one resource object, one layer; toStringTag, util.inspect and JSON.stringify as on the bare client'(subject) {
    const { raw, client } = pair(subject)
    expect(client.messages).toBe(client.messages)
    expect(client.beta.messages).toBe(client.beta.messages)
    expect(client.messages.create).toBe(client.messages.create)
    expect(subject.wrap(client)).toBe(client)
    expect(client).toBeInstanceOf(Anthropic)
    expect(Object.prototype.toString.call(client)).toBe(Object.prototype.toString.call(raw))
    expect(Object.prototype.toString.call(client.messages)).toBe(Object.prototype.toString.call(raw.messages))
    expect(inspect(client, { depth: 1 })).toBe(inspect(raw, { depth: 1 }))
    // The client's graph is circular (`messages._client`): both throw the same TypeError. (V8 names the
    // constructors along the cycle in its message, and it cannot see through a proxy to name them.)
    const [viaProxy, direct] = [await outcome(() => JSON.stringify(client)), await outcome(() => JSON.stringify(raw))]
    expect(viaProxy.ok).toBe(direct.ok)
    if (!viaProxy.ok && !direct.ok) {
      expect(viaProxy.error).toBeInstanceOf(TypeError)
      expect((viaProxy.error as Error).message.split('\n')[0]).toBe((direct.error as Error).message.split('\n')[0])
    }
    expect(Object.keys(client)).toEqual(Object.keys(raw))
  },

  async 'SDK errors are rethrown unchanged: the same instance the SDK threw, the same class as bare'(subject) {
    const { bare, raw } = pair(subject)
    let thrownBySdk: unknown
    const create = raw.messages.create.bind(raw.messages)
    raw.messages.create = ((...args: Parameters<typeof create>) => {
      const p = create(...args)
      p.catch((e: unknown) => (thrownBySdk = e))
      return p
    }) as typeof raw.messages.create
    const client = subject.wrap(raw)
    const expected = await outcome(() => bare.messages.create(ask('Are you overloaded?')))
    const actual = await outcome(() => client.messages.create(ask('Are you overloaded?')))
    sameOutcome(actual, expected)
    expect(actual.ok).toBe(false)
    expect((actual as { error: unknown }).error).toBe(thrownBySdk)
    expect((actual as { error: { status: number } }).error.status).toBe(529)
    const { end } = await oneCall(subject, 'messages.create')
    expect(end.data.error).toMatchObject({ status: 529, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy', type: 'overloaded_error' })
  },
}
