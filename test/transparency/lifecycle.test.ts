import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { flush, getMonitorHealth, MonitorBlockedError, monitor } from '../../src/index.js'
import type { Adapter, MonitorEvent } from '../../src/types.js'
import { fixture, readLog, tempLog, wireFetch } from '../helpers.js'

// Each call gets exactly one closing event, whatever the application does with it: never awaits it, reads
// its stream twice at once, or gets a stream the monitor cannot watch.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const run = promisify(execFile)
const MESSAGE = fixture('anthropic/message-cache.json')
const ask = (content: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content }] })

/** A real client answering with a real message body (or the SSE transcript, for `stream: true`), `delayMs` between pieces. */
function client(body: () => string = () => MESSAGE, delayMs = 0) {
  const wire = wireFetch((_url, request) =>
    request?.stream ? { stream: 'sse', body: fixture('anthropic/stream-text.sse'), delayMs } : { body: body() },
  )
  return { bare: new Anthropic({ apiKey: 'sk-ant-test', fetch: wire.fetch, maxRetries: 0 }), wire }
}

const llm = (events: MonitorEvent[]) => events.filter((e) => e.channel === 'LLM')
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 5))
}

describe('a call nobody awaits (fire and forget)', () => {
  it('is closed when the process ends: status and request id, its body left unread', async () => {
    const file = tempLog()
    await run(process.execPath, [join(root, 'test', 'monitor', 'children', 'fire-and-forget.mjs'), file, MESSAGE], { cwd: root })
    const events = llm(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MonitorEvent))
    expect(events.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(events[1]!.call_id).toBe(events[0]!.call_id)
    expect(events[1]!.data).toMatchObject({ response_unread: true, status: 200, request_id: 'req_faf', response: null })
    expect(events[1]!.data).not.toHaveProperty('alert') // its body was never read, so never judged
    expect(events[1]!.data.duration_ms).toEqual(expect.any(Number))
  })

  it('is closed by flush(); a late await still gets the message, and the call keeps its one closing event', async () => {
    const file = tempLog()
    const { bare, wire } = client()
    const expected = await new Anthropic({ apiKey: 'x', fetch: client().wire.fetch, maxRetries: 0 }).messages.create(ask('hi'))
    const m = monitor(bare, { store: file })
    const promise = m.messages.create(ask('hi'))
    await until(() => wire.requests.length === 1)
    await new Promise((r) => setTimeout(r, 20)) // the answer is in; nobody has asked for it
    await flush()
    const closed = llm(await readLog(file))
    expect(closed.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(closed[1]!.data).toMatchObject({ response_unread: true, status: 200, request_id: 'req_011CWire', response: null })
    // The body was left to the application: it reads it as from the bare client.
    expect(await promise).toEqual(expected)
    expect(llm(await readLog(file)).map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
  })

  it('a dangerous response awaited after the call was closed unread is still blocked', async () => {
    const toolMessage = { ...JSON.parse(MESSAGE), content: [{ type: 'tool_use', id: 'tu_1', name: 'bash', input: { command: 'rm -rf /' } }], stop_reason: 'tool_use' }
    const { bare, wire } = client(() => JSON.stringify(toolMessage))
    const m = monitor(bare, { store: tempLog(), blockDangerousResponses: true })
    const promise = m.messages.create(ask('clean up'))
    await until(() => wire.requests.length === 1)
    await new Promise((r) => setTimeout(r, 20))
    await flush()
    await expect(promise).rejects.toBeInstanceOf(MonitorBlockedError)
  })

  it('a call awaited a while after its answer arrived is recorded with its response', async () => {
    const file = tempLog()
    const { bare, wire } = client()
    const m = monitor(bare, { store: file })
    const promise = m.messages.create(ask('hi'))
    await until(() => wire.requests.length === 1)
    await new Promise((r) => setTimeout(r, 50))
    const message = await promise
    const finish = llm(await readLog(file)).filter((e) => e.event === 'LLM_call_finish')
    expect(finish).toHaveLength(1)
    expect(finish[0]!.data.response).toEqual(JSON.parse(JSON.stringify(message)))
    expect(finish[0]!.data.response_unread).toBeUndefined()
  })
})

describe('two loops over one stream at once', () => {
  it('the second fails as on the bare client; the call is closed by the first, with its response', async () => {
    const read = async (c: Anthropic) => {
      const stream = await c.messages.create({ ...ask('hi'), stream: true })
      const loop = async () => {
        const types: string[] = []
        for await (const event of stream) types.push(event.type)
        return types
      }
      const first = loop()
      const second = await loop().then(String, (e: Error) => `${e.constructor.name}: ${e.message}`)
      return { first: await first, second }
    }
    const file = tempLog()
    const expected = await read(client(undefined, 2).bare)
    expect(await read(monitor(client(undefined, 2).bare, { store: file }))).toEqual(expected)
    expect(expected.second).toMatch(/consumed stream/)
    const events = llm(await readLog(file))
    expect(events.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(events[1]!.data.partial).toBeUndefined()
    expect((events[1]!.data.response as { content: unknown[] }).content.length).toBeGreaterThan(0)
  })
})

describe('a streamed result the monitor cannot watch', () => {
  it('a frozen async iterable reaches the application as it is; the call is closed unscanned and the fault counted', async () => {
    const adapter: Adapter = {
      name: 'frozen',
      calls: {
        'chat.stream': {
          request: (args) => ({ params: args[0], texts: [], stream: true }),
          stream: () => ({ push: () => true, result: () => ({ response: 'assembled' }) }),
        },
      },
    }
    const frozenStream = () =>
      Object.freeze({
        async *[Symbol.asyncIterator]() {
          yield 'a'
          yield 'b'
        },
      })
    const file = tempLog()
    const before = getMonitorHealth().faults.stream ?? 0
    const c = monitor({ chat: { stream: async (_request: unknown) => frozenStream() } }, { adapters: [adapter], store: file })
    const chunks: unknown[] = []
    for await (const chunk of await c.chat.stream({ prompt: 'hi' })) chunks.push(chunk)
    expect(chunks).toEqual(['a', 'b'])
    expect(getMonitorHealth().faults.stream).toBe(before + 1)
    const events = llm(await readLog(file))
    expect(events.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(events[1]!.data).toMatchObject({ stream_unwatched: true, response: null, security: { unscanned: true } })
  })
})

describe('a stream aborted before it is read', () => {
  const adapter: Adapter = {
    name: 'aborting',
    calls: {
      'chat.stream': {
        request: (args) => ({ params: args[0], texts: [], stream: true }),
        stream: () => ({ push: () => true, result: () => ({ response: 'assembled' }) }),
      },
    },
  }
  /** A stream with its own controller, as the SDKs' streams have; `frozen`: one whose methods cannot be replaced. */
  const streamWith = (controller: AbortController) => ({
    controller,
    async *[Symbol.asyncIterator]() {
      yield 'a'
    },
  })

  for (const frozen of [false, true]) {
    it(`gets one closing event, partial, when its ${frozen ? 'frozen ' : ''}controller aborts it; abort() behaves as the bare one`, async () => {
      const file = tempLog()
      const controller = new AbortController()
      if (frozen) Object.freeze(controller)
      const c = monitor({ chat: { stream: async (_request: unknown) => streamWith(controller) } }, { adapters: [adapter], store: file })
      const stream = await c.chat.stream({ prompt: 'hi' })
      expect(stream.controller).toBe(controller)
      expect(Object.keys(controller)).toEqual([])
      const reason = new Error('stop')
      expect(stream.controller.abort(reason)).toBeUndefined()
      expect(controller.signal.aborted).toBe(true)
      expect(controller.signal.reason).toBe(reason)
      stream.controller.abort() // a second abort changes nothing, and closes nothing twice
      await new Promise((resolve) => setTimeout(resolve, 10))
      const events = llm(await readLog(file))
      expect(events.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
      expect(events[1]!.data.partial).toBe(true)
    })
  }
})
