import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { monitor, MonitorBlockedError, type Adapter } from '../../src/index.js'
import { readLog, tempLog } from '../helpers.js'

/** A client we did not write for: its own method names, its own result shape. */
class AcmeClient {
  #secret = 'acme-key'
  sent: string[] = []
  chat = {
    send: async (req: { model: string; prompt: string }) => {
      this.sent.push(req.prompt)
      return { text: `echo: ${req.prompt}`, tokensIn: req.prompt.length, tokensOut: 7, key: this.#secret.length }
    },
  }
  ping(): string {
    return `pong ${this.#secret.length}`
  }
}

const acme: Adapter = {
  name: 'acme',
  calls: {
    'chat.send': {
      request: (args) => {
        const req = args[0] as { model: string; prompt: string }
        return { model: req.model, params: req, texts: [{ target: 'user', text: req.prompt }] }
      },
      response: (result) => {
        const r = result as { text: string; tokensIn: number; tokensOut: number }
        return {
          response: r,
          usage: { input_tokens: r.tokensIn, output_tokens: r.tokensOut },
          texts: [{ target: 'response', text: r.text }],
        }
      },
    },
  },
}

describe('a custom client through an adapter', () => {
  it('records start and finish with usage, and passes other methods through', async () => {
    const file = tempLog()
    const bare = new AcmeClient()
    const client = monitor(bare, { agentId: 'acme-agent', adapters: [acme], store: file })
    expect(client).toBeInstanceOf(AcmeClient)
    expect(client.ping()).toBe('pong 8')
    const result = await client.chat.send({ model: 'acme-1', prompt: 'hello there' })
    expect(result.text).toBe('echo: hello there')
    const events = (await readLog(file)).filter((e) => e.channel === 'LLM')
    expect(events.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(events[0]!.data).toMatchObject({ method: 'chat.send', model: 'acme-1', prompt: 'hello there', alert: 'none' })
    expect(events[1]!.data).toMatchObject({ usage: { input_tokens: 11, output_tokens: 7 }, response: { text: 'echo: hello there' } })
  })

  it("keeps the adapter's extra fields in the finish event in their order, one named __proto__ as a field", async () => {
    const file = tempLog()
    const withData: Adapter = {
      ...acme,
      calls: {
        'chat.send': {
          ...acme.calls['chat.send']!,
          response: (result) => ({
            response: result,
            // JSON.parse makes `__proto__` an own field, as a service's JSON would.
            data: JSON.parse('{"region":"eu-west","__proto__":{"polluted":true},"method":"not this one","duration_ms":-1}') as Record<string, unknown>,
          }),
        },
      },
    }
    const client = monitor(new AcmeClient(), { adapters: [withData], store: file })
    await client.chat.send({ model: 'acme-1', prompt: 'hello there' })
    const finish = (await readLog(file)).find((e) => e.event === 'LLM_call_finish')!
    // The monitor's own fields win over the adapter's; the adapter's come first, as it gave them.
    expect(Object.keys(finish.data).slice(0, 4)).toEqual(['region', '__proto__', 'method', 'duration_ms'])
    expect(finish.data.method).toBe('chat.send')
    expect(finish.data.duration_ms).toBeGreaterThanOrEqual(0)
    expect(Object.getOwnPropertyDescriptor(finish.data, '__proto__')?.value).toEqual({ polluted: true })
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it("records the monitor's own fields whatever the adapter's data or the request's parameters hold (toJSON, __proto__, method)", async () => {
    const file = tempLog()
    const odd: Adapter = {
      name: 'odd',
      calls: {
        'chat.send': {
          request: (args) => ({ model: 'acme-1', params: args[0], texts: [{ target: 'user', text: 'hello there' }] }),
          response: (result) => ({
            // A sibling key that is masked (an address) must not make `__proto__` vanish.
            response: JSON.parse('{"__proto__":{"plan":"gold"},"alice.jones@gmail.com":"vip"}') as unknown,
            usage: { input_tokens: 1, output_tokens: 2 },
            texts: [{ target: 'response', text: String((result as { text: string }).text) }],
            data: { region: 'eu-west', toJSON: () => ({ replaced: true }) },
          }),
        },
      },
    }
    const client = monitor(new AcmeClient(), { adapters: [odd], store: file })
    // A parameter named like a field of the monitor's (a client's own HTTP method), and one named __proto__.
    const params = JSON.parse('{"model":"acme-1","prompt":"hello there","method":"POST","__proto__":{"tier":1}}') as { model: string; prompt: string }
    await client.chat.send(params)
    const [start, finish] = (await readLog(file)).filter((e) => e.channel === 'LLM')
    expect(start!.data).toMatchObject({ method: 'chat.send', model: 'acme-1', prompt: 'hello there', stream: false, alert: 'none', shadowed_params: { method: 'POST' } })
    expect(Object.getOwnPropertyDescriptor(start!.data, '__proto__')?.value).toEqual({ tier: 1 })
    expect(finish!.data).toMatchObject({ region: 'eu-west', method: 'chat.send', model: 'acme-1', usage: { input_tokens: 1, output_tokens: 2 }, alert: 'none' })
    expect(finish!.data).not.toHaveProperty('replaced')
    expect(finish!.data.duration_ms).toBeGreaterThanOrEqual(0)
    const response = finish!.data.response as Record<string, unknown>
    expect(Object.keys(response)).toEqual(['__proto__', '[REDACTED:pii.email]'])
    expect(Object.getOwnPropertyDescriptor(response, '__proto__')?.value).toEqual({ plan: 'gold' })
  })

  it("a toJSON among the parameters an adapter gives does not stand for the start event's data", async () => {
    const file = tempLog()
    const client = monitor(new AcmeClient(), { adapters: [acme], store: file })
    await client.chat.send({ model: 'acme-1', prompt: 'hello there', toJSON: () => ({ replaced: true }) } as never)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data).toEqual({ method: 'chat.send', model: 'acme-1', prompt: 'hello there', stream: false, alert: 'none', security: { matches: [] } })
  })

  it("a redaction rule anchored to a whole value (^…$) masks a field that holds just that value", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cylestio-anchored-'))
    const rules = join(dir, 'badge-field.yaml')
    writeFileSync(rules, `rules:
  - id: acme.badge-field
    description: a field that is a badge number and nothing else
    severity: suspicious
    targets: [user, response]
    redact: true
    patterns: ['^EMP-\\d{6}$']
`)
    const file = tempLog()
    const withRecord: Adapter = {
      ...acme,
      calls: { 'chat.send': { ...acme.calls['chat.send']!, response: (result) => ({ response: { status: 'found', record: { name: 'J. Doe', badge: 'EMP-123456' }, text: (result as { text: string }).text } }) } },
    }
    const client = monitor(new AcmeClient(), { adapters: [withRecord], store: file, rules })
    await client.chat.send({ model: 'acme-1', prompt: 'look up J. Doe' })
    const finish = (await readLog(file)).find((e) => e.event === 'LLM_call_finish')!
    expect(finish.data.response).toEqual({ status: 'found', record: { name: 'J. Doe', badge: '[REDACTED:acme.badge-field]' }, text: 'echo: look up J. Doe' })
    expect(readFileSync(file, 'utf8')).not.toContain('EMP-123456')
  })

  it('blocks a dangerous prompt before the client sees it', async () => {
    const bare = new AcmeClient()
    const client = monitor(bare, { adapters: [acme], store: false })
    await expect(client.chat.send({ model: 'acme-1', prompt: 'rm -rf / --no-preserve-root' })).rejects.toBeInstanceOf(MonitorBlockedError)
    expect(bare.sent).toEqual([])
  })

  it('fails monitor() clearly when no adapter knows the client', () => {
    expect(() => monitor(new AcmeClient(), { store: false })).toThrow(/no adapter recognises this client \(AcmeClient\)/)
  })

  it('rejects unknown options by name', () => {
    expect(() => monitor(new AcmeClient(), { adapters: [acme], store: false, agentID: 'x' } as never)).toThrow(/unknown option 'agentID'/)
  })
})
