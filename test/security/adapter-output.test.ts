import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { getMonitorHealth, MonitorBlockedError, monitor } from '../../src/index.js'
import type { Adapter, CallSpec, MonitorEvent, MonitorOptions } from '../../src/types.js'
import { collectMonitorWarnings, readLog, tempLog } from '../helpers.js'

// An adapter that gives the monitor something it cannot scan (a promise, a texts entry that is not
// { target, text }) must not turn scanning off silently: the call still goes on, its events say it was not
// (fully) scanned and why, the fault is reported naming the adapter and the call, and valid entries are
// still scanned.

const DANGER = 'Please run this on the build server for me: rm -rf / --no-preserve-root'

const warnings = collectMonitorWarnings()

/** A hand-written client (`chat.send`) monitored with an adapter whose `chat.send` reader is `spec`. */
function acme(spec: CallSpec, options: MonitorOptions = {}, answer: unknown = { text: 'ok' }) {
  const sent: unknown[] = []
  const adapter: Adapter = { name: 'acme', calls: { 'chat.send': spec } }
  const file = tempLog()
  const bare = {
    chat: {
      send: async (request: { prompt: string }) => {
        sent.push(request)
        return answer
      },
    },
  }
  return { client: monitor(bare, { adapters: [adapter], store: file, ...options }), sent, file }
}

const call = async (events: Promise<MonitorEvent[]>, name: string) => (await events).find((e) => e.event === name)!

describe('request() output the monitor cannot scan', () => {
  it('an async request(): sent as made, the start event marked unscanned, the fault reported and counted', async () => {
    const before = getMonitorHealth().faults.adapter ?? 0
    const { client, sent, file } = acme({
      request: (async (args: unknown[]) => ({ params: args[0], texts: [{ target: 'user', text: (args[0] as { prompt: string }).prompt }] })) as never,
    })
    expect(await client.chat.send({ prompt: DANGER })).toEqual({ text: 'ok' })
    expect(sent).toHaveLength(1)
    const start = await call(readLog(file), 'LLM_call_start')
    expect(start.level).toBe('warning')
    expect(start.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringMatching(/adapter 'acme', call 'chat\.send': request\(\) returned a promise/) })
    expect(getMonitorHealth().faults.adapter).toBe(before + 1)
    await new Promise((r) => setImmediate(r)) // warnings are emitted on the next tick
    expect(warnings.some((w) => /adapter 'acme', call 'chat\.send'/.test(w.message))).toBe(true)
  })

  it('texts with a null entry: the valid entries are still scanned (and block), the call marked unscanned', async () => {
    const { client, sent, file } = acme({
      request: (args) => ({ params: args[0], texts: [null as never, { target: 'user', text: (args[0] as { prompt: string }).prompt }] }),
    })
    await expect(client.chat.send({ prompt: DANGER })).rejects.toBeInstanceOf(MonitorBlockedError)
    expect(sent).toHaveLength(0)
    const blocked = await call(readLog(file), 'LLM_call_blocked')
    expect(blocked.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringContaining('texts[0] is null') })
  })

  it('an unknown target (a typo) is reported, not read as a target no rule applies to', async () => {
    const before = getMonitorHealth().faults.adapter ?? 0
    const { client, file } = acme({
      request: (args) => ({ params: args[0], texts: [{ target: 'User' as never, text: (args[0] as { prompt: string }).prompt }] }),
    })
    await client.chat.send({ prompt: DANGER })
    const start = await call(readLog(file), 'LLM_call_start')
    expect(start.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringContaining("texts[0] has target 'User', not one of system, user") })
    expect(getMonitorHealth().faults.adapter).toBe(before + 1)
  })

  it('a text that is not a string, and texts that is not an array', async () => {
    for (const texts of [[{ target: 'user', text: 42 }], 'hello']) {
      const { client, file } = acme({ request: (args) => ({ params: args[0], texts: texts as never }) })
      await client.chat.send({ prompt: 'hi' })
      const start = await call(readLog(file), 'LLM_call_start')
      expect(start.data.security).toMatchObject({ unscanned: true })
    }
  })

  it('valid texts are not marked', async () => {
    const { client, file } = acme({ request: (args) => ({ params: args[0], texts: [{ target: 'user', text: 'hello' }, { target: 'system', text: '' }] }) })
    await client.chat.send({ prompt: 'hi' })
    const start = await call(readLog(file), 'LLM_call_start')
    expect(start.level).toBe('info')
    expect(start.data.security).toEqual({ matches: [] })
  })
})

describe('response() output the monitor cannot scan', () => {
  it('an async response() with blockDangerousResponses: the finish event says the response was not scanned', async () => {
    const before = getMonitorHealth().faults.adapter ?? 0
    const { client, file } = acme(
      {
        request: (args) => ({ params: args[0], texts: [] }),
        response: (async (result: { cmd: string }) => ({ response: result, texts: [{ target: 'tool_input', text: result.cmd }] })) as never,
      },
      { blockDangerousResponses: true },
      { cmd: 'rm -rf /' },
    )
    // The call goes on (an adapter fault never breaks it), and the record says the response went unjudged.
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ cmd: 'rm -rf /' })
    const finish = await call(readLog(file), 'LLM_call_finish')
    expect(finish.level).toBe('warning')
    expect(finish.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringMatching(/adapter 'acme', call 'chat\.send': response\(\) returned a promise/) })
    expect(getMonitorHealth().faults.adapter).toBe(before + 1)
  })

  it('a response() that throws: the event names the adapter, the call and the error', async () => {
    const { client, file } = acme({
      request: (args) => ({ params: args[0], texts: [] }),
      response: () => {
        throw new Error('no such field')
      },
    })
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
    const finish = await call(readLog(file), 'LLM_call_finish')
    expect(finish.data.security).toEqual({ matches: [], unscanned: true, adapter_error: "adapter 'acme', call 'chat.send': response() threw: no such field (not scanned)" })
  })

  it('a response() whose texts hold an unknown target: the valid ones are still judged', async () => {
    const { client, file } = acme(
      {
        request: (args) => ({ params: args[0], texts: [] }),
        response: (result) => ({ response: result, texts: [{ target: 'tool-input' as never, text: 'x' }, { target: 'tool_input', text: (result as { cmd: string }).cmd }] }),
      },
      { blockDangerousResponses: true },
      { cmd: 'rm -rf /' },
    )
    await expect(client.chat.send({ prompt: 'hi' })).rejects.toBeInstanceOf(MonitorBlockedError)
    const finish = await call(readLog(file), 'LLM_call_finish')
    expect(finish.data).toMatchObject({ alert: 'dangerous', security: { unscanned: true, adapter_error: expect.stringContaining("texts[0] has target 'tool-input'") } })
  })
})

describe('adapter output whose reading fails', () => {
  const throwing = (field: string) => Object.defineProperty({}, field, { enumerable: true, get: () => { throw new TypeError(`${field} is lazy and broken`) } })

  it('a request() field whose getter throws: the call goes out as made, recorded start and finish, unscanned', async () => {
    for (const field of ['texts', 'method', 'stream', 'params']) {
      const { client, sent, file } = acme({ request: () => throwing(field) as never })
      expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
      expect(sent).toHaveLength(1)
      const events = await readLog(file)
      expect(events.filter((e) => e.channel === 'LLM').map((e) => e.event), field).toEqual(['LLM_call_start', 'LLM_call_finish'])
      expect(events[1]!.data.security, field).toMatchObject({ unscanned: true, adapter_error: expect.stringContaining(`${field} is lazy and broken`) })
    }
  })

  it('a response() field whose getter throws, or an array: the answer is returned, the finish event unscanned', async () => {
    for (const [name, info] of [['texts', throwing('texts')], ['usage', throwing('usage')], ['array', []]] as const) {
      const { client, file } = acme({ request: (args) => ({ params: args[0] }), response: () => info as never })
      expect(await client.chat.send({ prompt: 'hi' }), name).toEqual({ text: 'ok' })
      const finish = await call(readLog(file), 'LLM_call_finish')
      expect(finish.data.security, name).toMatchObject({ unscanned: true })
      // Nothing of the response was read: it was not judged, so it claims no alert.
      expect(finish.data, name).not.toHaveProperty('alert')
    }
  })

  it.each([
    ['data with a getter that throws', (r: unknown) => ({ response: r, data: { get region() { throw new Error('lazy region') } } })],
    ['a response whose model getter throws', () => ({ response: { text: 'ok', get model() { throw new Error('lazy model') } } })],
    ['a Proxy whose every read throws', () => new Proxy({}, { get() { throw new Error('proxy get') }, has: () => true })],
  ])('response() returning %s: the call goes on, and it is recorded', async (_name, response) => {
    const { client, file } = acme({ request: (args) => ({ params: args[0] }), response: response as never })
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
    const llm = (await readLog(file)).filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
  })

  it('a texts entry whose getter throws is reported, not taken for a clean scan', async () => {
    const broken = { target: 'user', get text(): string { throw new Error('lazy text') } }
    const { client, file } = acme({ request: (args) => ({ params: args[0], texts: [broken as never] }) })
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
    const start = await call(readLog(file), 'LLM_call_start')
    expect(start.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringContaining('texts[0] could not be read: lazy text') })
  })

  it('a request() that throws an object without prototype: the call goes on, recorded unscanned', async () => {
    const { client, file } = acme({ request: () => { throw Object.create(null) } })
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
    const start = await call(readLog(file), 'LLM_call_start')
    expect(start.data.security).toMatchObject({ unscanned: true, adapter_error: "adapter 'acme', call 'chat.send': request() threw: [object Object] (not scanned)" })
  })

  const revoked = <T extends object>(target: T): T => {
    const { proxy, revoke } = Proxy.revocable(target, {})
    revoke()
    return proxy
  }
  const lengthThrows = () => new Proxy([], { get: (t, k) => { if (k === 'length') throw new Error('boom length'); return Reflect.get(t, k) } })
  const indexThrows = () => Object.defineProperty([{ target: 'user', text: 'x' }], 0, { get: () => { throw new Error('boom index') } })
  it.each([
    ['request() texts: an entry whose read throws', { request: (a: unknown[]) => ({ params: a[0], texts: indexThrows() }) }, 'start'],
    ['request() texts: a target without prototype', { request: (a: unknown[]) => ({ params: a[0], texts: [{ target: Object.create(null), text: 'x' }] }) }, 'start'],
    ['request() texts: a Proxy whose length throws', { request: (a: unknown[]) => ({ params: a[0], texts: lengthThrows() }) }, 'start'],
    ['request() texts: a revoked Proxy', { request: (a: unknown[]) => ({ params: a[0], texts: revoked([]) }) }, 'start'],
    ['request() throws a Proxy that throws when read', { request: () => { throw new Proxy({}, { get() { throw new Error('x') } }) } }, 'start'],
    ['response() texts: a Proxy whose length throws', { request: (a: unknown[]) => ({ params: a[0] }), response: (r: unknown) => ({ response: r, texts: lengthThrows() }) }, 'finish'],
    ['response() returns a revoked Proxy', { request: (a: unknown[]) => ({ params: a[0] }), response: () => revoked({}) }, 'finish'],
    ['response() throws a revoked Proxy', { request: (a: unknown[]) => ({ params: a[0] }), response: () => { throw revoked({}) } }, 'finish'],
  ])('%s: the call goes on, and its event says it is unscanned', async (_name, spec, which) => {
    const { client, file } = acme(spec as CallSpec)
    expect(await client.chat.send({ prompt: 'hi' })).toEqual({ text: 'ok' })
    const event = await call(readLog(file), `LLM_call_${which}`)
    expect(event.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringMatching(/^adapter 'acme', call 'chat\.send': /) })
  })

  it('a client result whose then() throws is returned as the bare client returns it, and the call is recorded as failed', async () => {
    const broken = { then() { throw new Error('then-throws') } }
    const adapter: Adapter = { name: 'acme', calls: { 'chat.send': { request: (args) => ({ params: args[0] }) } } }
    const file = tempLog()
    const client = monitor({ chat: { send: (_request: { prompt: string }) => broken } }, { adapters: [adapter], store: file })
    expect(client.chat.send({ prompt: 'hi' })).toBe(broken)
    const llm = (await readLog(file)).filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_error'])
    expect(llm[1]!.data.error).toMatchObject({ message: 'then-throws' })
  })

  it('a secret quoted by a field that cannot be read is masked in the event, and in the warning', () => {
    const key = 'sk-ant-api03-' + 'B'.repeat(40) + 'AA'
    const result = { text: 'ok', get extra(): string { throw new Error(`vault refused key ${key}`) } }
    const { client, file } = acme({ request: (args) => ({ params: args[0] }), response: (r) => ({ response: r }) }, {}, result)
    return client.chat.send({ prompt: 'hi' }).then(async () => {
      await readLog(file)
      const log = readFileSync(file, 'utf8')
      expect(log).toContain('[unreadable: vault refused key [REDACTED:secrets.anthropic-api-key]]')
      expect(log).not.toContain(key)
      await new Promise((r) => setImmediate(r))
      for (const w of warnings) expect(w.message).not.toContain(key)
    })
  })

  it('a response with a getter that throws keeps the rest of its finish event: alert, matches, usage, and the other fields', async () => {
    const result = { tool: 'shell', args: 'rm -rf / --no-preserve-root', get debugInfo(): string { throw new Error('debug info not loaded') } }
    const { client, file } = acme(
      { request: (args) => ({ params: args[0] }), response: (r) => ({ response: r, usage: { input_tokens: 1, output_tokens: 2 }, texts: [{ target: 'tool_input', text: (r as typeof result).args }] }) },
      {},
      result,
    )
    await client.chat.send({ prompt: 'hi' })
    const finish = await call(readLog(file), 'LLM_call_finish')
    expect(finish.data).toMatchObject({
      method: 'chat.send',
      alert: 'dangerous',
      usage: { input_tokens: 1, output_tokens: 2 },
      response: { tool: 'shell', args: 'rm -rf / --no-preserve-root', debugInfo: '[unreadable: debug info not loaded]' },
    })
  })

  it('a client whose result is a Proxy that throws on fields it does not have: returned as the bare client returns it', async () => {
    const strict = new Proxy({ text: 'ok' }, { get: (t, k) => { if (!(k in t)) throw new Error(`no field ${String(k)}`); return Reflect.get(t, k) } })
    const adapter: Adapter = { name: 'acme', calls: { 'chat.send': { request: (args) => ({ params: args[0] }) } } }
    const file = tempLog()
    const client = monitor({ chat: { send: (_request: { prompt: string }) => strict } }, { adapters: [adapter], store: file })
    expect(client.chat.send({ prompt: 'hi' })).toBe(strict)
    expect((await readLog(file)).filter((e) => e.channel === 'LLM').map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
  })

  it("`data` cannot replace the monitor's own fields, and data that is not an object is left out", async () => {
    for (const data of [{ method: 'forged', duration_ms: -1, stop_reason: 'end_turn' }, 'ab']) {
      const { client, file } = acme({ request: (args) => ({ params: args[0] }), response: (r) => ({ response: r, data: data as never }) })
      await client.chat.send({ prompt: 'hi' })
      const finish = await call(readLog(file), 'LLM_call_finish')
      expect(finish.data.method).toBe('chat.send')
      expect(finish.data.duration_ms).toBeGreaterThanOrEqual(0)
      expect(finish.data).not.toHaveProperty('0')
      if (typeof data === 'object') expect(finish.data.stop_reason).toBe('end_turn')
    }
  })
})

describe('stream accumulators that fail', () => {
  /** A client whose `chat.stream` returns an async iterable of chunks; `stream` is the adapter's accumulator factory. */
  function streaming(stream: CallSpec['stream'], options: MonitorOptions = {}) {
    const file = tempLog()
    const chunks = ['a', 'b']
    const bare = {
      chat: {
        stream: async () => ({
          async *[Symbol.asyncIterator]() {
            yield* chunks
          },
        }),
      },
    }
    const adapter: Adapter = { name: 'acme', calls: { 'chat.stream': { request: (args) => ({ params: args[0], stream: true }), stream } } }
    return { client: monitor(bare, { adapters: [adapter], store: file, ...options }), file }
  }

  it.each([
    ['result() returns undefined', () => ({ push() {}, result: () => undefined as never })],
    ['result() returns the assembled response itself, not a ResponseInfo', () => ({ push() {}, result: () => ({ id: 'r1', text: 'rm -rf /' }) as never })],
    ['push() throws', () => ({ push() { throw new Error('push hiccup') }, result: () => ({ response: 'x' }) })],
    ['stream() returns null', () => null as never],
    ['stream() throws', () => { throw new Error('no stream today') }],
    ['no stream() reader at all', undefined],
  ])('%s: the user reads every chunk; one finish event, marked unscanned', async (_name, stream) => {
    const { client, file } = streaming(stream as CallSpec['stream'])
    const read: unknown[] = []
    for await (const chunk of (await client.chat.stream()) as AsyncIterable<unknown>) read.push(chunk)
    expect(read).toEqual(['a', 'b'])
    const llm = (await readLog(file)).filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(llm[1]!.data.security).toMatchObject({ unscanned: true, adapter_error: expect.stringMatching(/^adapter 'acme', call 'chat\.stream': /) })
  })
})
