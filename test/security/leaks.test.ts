import Anthropic from '@anthropic-ai/sdk'
import { readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { MonitorBlockedError, monitor } from '../../src/index.js'
import { fakeFetch, readLog, tempLog } from '../helpers.js'

const KEY = 'sk-ant-api03-' + 'Zx81fQ_Lm2Rk9TbVw4Yp7Ng3Hd6Jc0Ua5Se1Oi8Kq2Xv'
const AWS = 'AKIA' + 'QX7PLM2R9TBVW4YN'
const EMAIL = 'jane.doe' + '@acme-corp.io'
const CARD = '4111111111111111' // valid Luhn
const SECRETS = [KEY, KEY.slice(13), AWS, EMAIL, CARD]

function message(content: unknown[]) {
  return {
    id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content,
    stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 },
  }
}

function setup(reply: unknown = message([{ type: 'text', text: 'ok' }]), options: Parameters<typeof monitor>[1] = {}) {
  const file = tempLog()
  const events: unknown[] = []
  const { fetch, calls } = fakeFetch(() => ({ body: reply }))
  const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', fetch, maxRetries: 0 }), { store: file, onEvent: (e) => events.push(e), ...options })
  return { file, client, events, calls }
}

async function expectNoSecret(file: string, events: unknown[]) {
  await readLog(file)
  const text = readFileSync(file, 'utf8')
  const pushed = JSON.stringify(events)
  expect(text.length).toBeGreaterThan(0)
  for (const s of SECRETS) {
    expect(text).not.toContain(s)
    expect(pushed).not.toContain(s)
  }
}

const base = { model: 'claude-sonnet-4-5', max_tokens: 50 }

describe('secrets never reach the event log in clear', () => {
  it('newest turn, earlier turns, system, tools, tool_result, document blocks', async () => {
    const { file, client, events } = setup()
    await client.messages.create({
      ...base,
      system: [{ type: 'text', text: `system key ${KEY}` }],
      tools: [{ name: 'lookup', description: `contact ${EMAIL}`, input_schema: { type: 'object', properties: { k: { type: 'string', description: AWS } } } }],
      messages: [
        { role: 'user', content: `old ${CARD}` },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'tu_1', name: 'lookup', input: { key: AWS, note: KEY } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: `found ${EMAIL} ${KEY}` }] },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: `card ${CARD}` } },
            { type: 'text', text: `my key is ${KEY}` },
          ],
        },
      ],
    })
    await expectNoSecret(file, events)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(JSON.stringify(start.data)).toContain('[REDACTED:secrets.anthropic-api-key]')
  })

  it('response text and tool_use input', async () => {
    const { file, client, events } = setup(message([
      { type: 'text', text: `Your key: ${KEY}` },
      { type: 'tool_use', id: 'tu_2', name: 'send', input: { to: EMAIL, aws: AWS, card: `${CARD}` } },
    ]))
    const res = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'hi' }] })
    expect((res.content[0] as { text: string }).text).toContain(KEY) // the application still gets the real answer
    await expectNoSecret(file, events)
  })

  it('an API error whose message echoes the prompt', async () => {
    const file = tempLog()
    const events: unknown[] = []
    const { fetch } = fakeFetch(() => ({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: `bad input: ${KEY} ${EMAIL}` } } }))
    const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', fetch, maxRetries: 0 }), { store: file, onEvent: (e) => events.push(e) })
    await expect(client.messages.create({ ...base, messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(Anthropic.BadRequestError)
    await expectNoSecret(file, events)
    expect((await readLog(file)).map((e) => e.event)).toEqual(['monitoring_enabled', 'LLM_call_start', 'LLM_call_error'])
  })

  it('a blocked request: its event, message and matches hold no secret', async () => {
    const { file, client, events, calls } = setup()
    const err = await client.messages
      .create({ ...base, messages: [{ role: 'user', content: `${KEY} ${EMAIL} now run rm -rf / --no-preserve-root ${AWS}` }] })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MonitorBlockedError)
    expect(calls).toHaveLength(0)
    const blocked = err as MonitorBlockedError
    const dump = `${blocked.message} ${JSON.stringify(blocked.event)} ${JSON.stringify(blocked.matches)}`
    for (const s of SECRETS) expect(dump).not.toContain(s)
    await expectNoSecret(file, events)
  })

  it('a secret used as an object key (e.g. a map of users in tool input) is masked', async () => {
    const { file, client, events } = setup(message([{ type: 'tool_use', id: 'tu_3', name: 'notify', input: { recipients: { [EMAIL]: 'primary' } } }]))
    await client.messages.create({
      ...base,
      metadata: { user_id: 'u1' },
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'ok' }] }],
      tools: [{ name: 'notify', input_schema: { type: 'object', properties: { [KEY]: { type: 'string' } } } }],
    } as never)
    await expectNoSecret(file, events)
  })

  it('a card number held as a number (tool input, request field) is masked', async () => {
    const { file, client, events } = setup(message([{ type: 'tool_use', id: 'tu_4', name: 'pay', input: { card_number: Number(CARD), amount: 12 } }]))
    await client.messages.create({ ...base, messages: [{ role: 'user', content: 'pay my bill' }] })
    await expectNoSecret(file, events)
    const finish = (await readLog(file)).find((e) => e.event === 'LLM_call_finish')!
    const input = ((finish.data.response as { content: Array<{ input: Record<string, unknown> }> }).content[0]!.input)
    expect(input.amount).toBe(12)
    expect(String(input.card_number)).toContain('REDACTED')
  })

  it('a number in a credential-named field is masked', async () => {
    const { file, client } = setup(message([{ type: 'tool_use', id: 'tu_5', name: 'login', input: { password: 918273645, user: 'bob' } }]))
    await client.messages.create({ ...base, messages: [{ role: 'user', content: 'log in' }] })
    const finish = (await readLog(file)).find((e) => e.event === 'LLM_call_finish')!
    const input = ((finish.data.response as { content: Array<{ input: Record<string, unknown> }> }).content[0]!.input)
    expect(input).toEqual({ password: '[REDACTED]', user: 'bob' })
  })

  it('a Unicode-obfuscated key (zero-width space, fullwidth letters) is masked', async () => {
    const { file, client, events } = setup()
    const zw = `sk-ant-api03-\u200b${KEY.slice(13)}`
    const wide = `ｓｋ-ant-api03-${KEY.slice(13)}`
    await client.messages.create({ ...base, messages: [{ role: 'user', content: `a ${zw} b ${wide}` }] })
    await expectNoSecret(file, events)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data.alert).toBe('suspicious')
    expect(JSON.stringify(start.data.messages)).toContain('REDACTED')
  })

  it('an object with toJSON() in the request parameters is checked as serialised', async () => {
    const { file, client, events } = setup()
    const note = { toJSON: () => `owner ${EMAIL} key ${KEY}` }
    await client.messages.create({ ...base, metadata: { user_id: note }, messages: [{ role: 'user', content: 'hi' }] } as never)
    await expectNoSecret(file, events)
  })

  it('String objects (new String(…)) in the request and the response are masked as the strings JSON writes', async () => {
    const { client, file, events } = setup(message([{ type: 'text', text: new String(`stored ${KEY} for you`) }]))
    await client.messages.create({
      ...base,
      metadata: { user_id: new String(EMAIL) },
      messages: [{ role: 'user', content: new String(`my key is ${KEY}, card ${CARD}`) }],
    } as never)
    await expectNoSecret(file, events)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data.messages).toEqual([{ role: 'user', content: 'my key is [REDACTED:secrets.anthropic-api-key], card [REDACTED:pii.credit-card]' }])
    expect(start.data.metadata).toEqual({ user_id: '[REDACTED:pii.email]' })
  })

  it('boxed values are masked as JSON writes them: their own toString or toJSON, a subclass, another realm', async () => {
    const { client, file, events } = setup()
    class Note extends String {
      override toString(): string {
        return `owner ${EMAIL}`
      }
    }
    const metadata = {
      overridden: Object.assign(new String('benign'), { toString: () => `key ${KEY}` }),
      subclass: new Note('benign'),
      withToJSON: Object.assign(new String('benign'), { toJSON: () => `aws ${AWS}` }),
      otherRealm: runInNewContext(`new String(${JSON.stringify(`key ${KEY}`)})`) as unknown,
      card: runInNewContext(`new Number(${CARD})`) as unknown,
    }
    await client.messages.create({ ...base, metadata, messages: [{ role: 'user', content: 'hi' }] } as never)
    await expectNoSecret(file, events)
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data.metadata).toEqual({
      overridden: 'key [REDACTED:secrets.anthropic-api-key]',
      subclass: 'owner [REDACTED:pii.email]',
      withToJSON: 'aws [REDACTED:secrets.aws-access-key-id]',
      otherRealm: 'key [REDACTED:secrets.anthropic-api-key]',
      card: '[REDACTED:pii.credit-card]',
    })
  })

  it('a card hidden among many non-Luhn digit runs in one tool_result is still masked', async () => {
    const { file, client, events } = setup()
    const luhn = (d: string) => [...d].reverse().reduce((sum, c, i) => sum + (i % 2 ? ((+c * 2) % 10) + Math.floor((+c * 2) / 10) : +c), 0) % 10 === 0
    const ids: string[] = []
    for (let n = 4000000000000000; ids.length < 300; n += 7) if (!luhn(String(n))) ids.push(String(n))
    expect(luhn(CARD)).toBe(true)
    const rows = ids.map((id) => `order ${id}`).join('\n')
    await client.messages.create({
      ...base,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: `${rows}\ncard on file ${CARD}` }] }],
    })
    await expectNoSecret(file, events)
  })

  it('a secret split across two text blocks: each half alone is not a secret (documented behaviour)', async () => {
    const { file, client } = setup()
    await client.messages.create({
      ...base,
      messages: [{ role: 'user', content: [{ type: 'text', text: KEY.slice(0, 20) }, { type: 'text', text: KEY.slice(20) }] }],
    })
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    // The blocks are scanned joined with a newline, which a key cannot span: neither half is flagged.
    expect(start.data.alert).toBe('none')
  })
})
