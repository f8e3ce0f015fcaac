import Anthropic from '@anthropic-ai/sdk'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer, type DemoServer } from '../../src/demo/server.js'
import { getMonitorHealth, loadRules, monitor } from '../../src/index.js'
import { readLog, tempLog } from '../helpers.js'

/** Issue 4, acceptance 4: a secret in a prompt is flagged, and the log holds only its masked form, everywhere. */
const KEY = 'sk-ant-api03-' + 'Zx81fQ_Lm2Rk9TbVw4Yp7Ng3Hd6Jc0Ua5Se1Oi8Kq2Xv'

let server: DemoServer
beforeAll(async () => {
  server = await startDemoServer()
})
afterAll(() => server.close())

function client(file: string, options: Parameters<typeof monitor>[1] = {}) {
  return monitor(new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, maxRetries: 0 }), { store: file, ...options })
}

describe('secrets in prompts', () => {
  it('are flagged, and every event that carries the text holds only the masked form', async () => {
    const file = tempLog()
    const c = client(file)
    // The demo server echoes the start of the prompt in its answer, so the finish event carries the key too.
    await c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: `key ${KEY} ok?` }] })
    await c.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: `key ${KEY} ok?` }] }).finalMessage()
    await readLog(file)
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain(KEY)
    expect(text).not.toContain(KEY.slice(10))
    const events = await readLog(file)
    const starts = events.filter((e) => e.event === 'LLM_call_start')
    const finishes = events.filter((e) => e.event === 'LLM_call_finish')
    expect(starts).toHaveLength(2)
    expect(finishes).toHaveLength(2)
    for (const start of starts) {
      expect(start.data.alert).toBe('suspicious')
      const matches = (start.data.security as { matches: Array<{ rule_id: string; excerpt: string }> }).matches
      expect(matches.map((m) => m.rule_id)).toContain('secrets.anthropic-api-key')
      expect(JSON.stringify(start.data.messages)).toContain('[REDACTED:secrets.anthropic-api-key]')
    }
    for (const finish of finishes) expect(JSON.stringify(finish.data.response)).toContain('[REDACTED:secrets.anthropic-api-key]')
  })

  it('are masked in earlier turns too, which are not scanned again', async () => {
    const file = tempLog()
    const c = client(file)
    await c.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [
        { role: 'user', content: `my key is ${KEY}` },
        { role: 'assistant', content: 'Noted.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    })
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    // Only the newest turn is scanned for alerts: it is clean…
    expect(start.data.alert).toBe('none')
    // …but the history is still masked before it is stored.
    expect(JSON.stringify(start.data.messages)).not.toContain(KEY)
    expect((start.data.messages as Array<{ content: string }>)[0]!.content).toBe('my key is [REDACTED:secrets.anthropic-api-key]')
  })

  it('stay in clear with redact: false, and are masked by a custom rule set with no rule list', async () => {
    const file = tempLog()
    const faultsBefore = getMonitorHealth().faults.serialize ?? 0
    await client(file, { redact: false }).messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: `key ${KEY}` }],
    })
    await readLog(file)
    expect(readFileSync(file, 'utf8')).toContain(KEY)
    // Recorded by the normal path, not by the fallback for what cannot be serialised.
    expect(getMonitorHealth().faults.serialize ?? 0).toBe(faultsBefore)

    const packs = loadRules()
    const opaque = { size: packs.size, scan: packs.scan.bind(packs), redact: packs.redact.bind(packs) }
    const other = tempLog()
    await client(other, { rules: opaque }).messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: `key ${KEY}` }],
    })
    await readLog(other)
    expect(readFileSync(other, 'utf8')).not.toContain(KEY)
  })
})

describe('parameters that cannot be serialised as they are (a cycle, a BigInt)', () => {
  /** A hand-written client whose adapter records its whole request object, as a custom adapter does. */
  class Acme {
    chat = { send: async (_req: unknown) => ({ text: 'ok' }) }
  }
  const acme = {
    name: 'acme',
    calls: {
      'chat.send': {
        request: (args: unknown[]) => ({ model: 'm', params: args[0], texts: [{ target: 'user' as const, text: (args[0] as { prompt: string }).prompt }] }),
        response: (r: unknown) => ({ response: r, texts: [{ target: 'response' as const, text: (r as { text: string }).text }] }),
      },
    },
  }

  it('are masked as thoroughly as any others: credential fields, secrets in keys and values, BigInt cards', async () => {
    const file = tempLog()
    const c = monitor(new Acme(), { agentId: 'a', store: file, adapters: [acme] })
    const cyclic: Record<string, unknown> = {
      prompt: 'hello',
      password: 'hunter2-plain',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      contacts: { 'jane.doe@gmail.com': 1 },
      card: '4111111111111111',
    }
    cyclic.self = cyclic
    const big = { prompt: 'hello', password: 'hunter2-plain', headers: { authorization: 'Basic dXNlcjpwYXNz' }, card: 4111111111111111n, small: 12n }
    const faultsBefore = getMonitorHealth().faults.serialize ?? 0
    await c.chat.send(cyclic)
    await c.chat.send(big)
    // Both went through the fallback for what cannot be serialised.
    expect(getMonitorHealth().faults.serialize ?? 0).toBe(faultsBefore + 2)
    const events = await readLog(file)
    const text = readFileSync(file, 'utf8')
    for (const secret of ['hunter2-plain', 'dXNlcjpwYXNz', 'jane.doe@gmail.com', '4111111111111111']) expect(text).not.toContain(secret)
    const [first, second] = events.filter((e) => e.event === 'LLM_call_start').map((e) => e.data as Record<string, any>)
    expect(first!.password).toBe('[REDACTED]')
    expect(first!.headers.authorization).toBe('[REDACTED]')
    expect(Object.keys(first!.contacts)).toEqual(['[REDACTED:pii.email]'])
    expect(first!.card).toBe('[REDACTED:pii.credit-card]')
    expect(first!.self.self).toBe('[Circular]') // the params are spread into data: the cycle closes one level down
    expect(first!.prompt).toBe('hello')
    expect(second!.password).toBe('[REDACTED]')
    expect(second!.card).toBe('[REDACTED:pii.credit-card]')
    expect(second!.small).toBe('12')
  })
})
