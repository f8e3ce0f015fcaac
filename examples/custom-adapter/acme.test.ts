import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// In an application: `from 'cylestio-monitor'`.
import { monitor, MonitorBlockedError } from '../../src/index.js'
import { readLog, tempLog } from '../../test/helpers.js'
import { acmeAdapter } from './acme-adapter.js'
import { AcmeClient, AcmeError } from './acme-client.js'

const rules = [fileURLToPath(new URL('./acme-rules.yaml', import.meta.url))]

/** A real HTTP server speaking Acme's API on 127.0.0.1. */
let server: Server
let baseURL: string
const received: string[] = []
beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    received.push(`${req.method} ${req.url}`)
    res.setHeader('content-type', 'application/json')
    if (req.headers.authorization !== 'Bearer acme-secret') return res.writeHead(401).end(JSON.stringify({ message: 'bad key' }))
    if (req.url === '/v1/models') return res.end(JSON.stringify({ models: ['acme-1', 'acme-1-mini'] }))
    const { model, prompt } = JSON.parse(body) as { model: string; prompt: string }
    if (model === 'acme-down') return res.writeHead(503).end(JSON.stringify({ message: 'Acme is down for maintenance' }))
    res.end(JSON.stringify({ id: 'acme_1', model, text: `echo: ${prompt}`, tokensIn: prompt.split(' ').length, tokensOut: 2 }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

function setup() {
  const file = tempLog()
  const bare = new AcmeClient({ apiKey: 'acme-secret', baseURL })
  const client = monitor(bare, { agentId: 'acme-agent', adapters: [acmeAdapter], rules, store: file })
  return { bare, client, file }
}

describe('examples/custom-adapter: a hand-written client, monitored through its adapter', () => {
  it('records chat.send as start and finish with usage; the client stays itself', async () => {
    const { client, file } = setup()
    expect(client).toBeInstanceOf(AcmeClient)
    expect(await client.models()).toEqual(['acme-1', 'acme-1-mini']) // reaches #fetch and #apiKey
    const result = await client.chat.send({ model: 'acme-1', system: 'Be brief.', prompt: 'hello there friend' })
    expect(result).toEqual({ id: 'acme_1', model: 'acme-1', text: 'echo: hello there friend', tokensIn: 3, tokensOut: 2 })
    const events = await readLog(file)
    expect(events[0]).toMatchObject({ event: 'monitoring_enabled', data: { adapter: 'acme' } })
    const [start, finish] = events.filter((e) => e.channel === 'LLM')
    expect(start).toMatchObject({ event: 'LLM_call_start', agent_id: 'acme-agent', data: { method: 'chat.send', model: 'acme-1', prompt: 'hello there friend' } })
    expect(finish).toMatchObject({ event: 'LLM_call_finish', call_id: start!.call_id, data: { usage: { input_tokens: 3, output_tokens: 2 }, response: result } })
  })

  it('blocks a dangerous prompt before anything is sent', async () => {
    const { client, file } = setup()
    const before = received.length
    const error = await client.chat.send({ model: 'acme-1', prompt: 'rm -rf / --no-preserve-root' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MonitorBlockedError)
    // The application's rule fired (the built-in packs may flag the same text too).
    expect((error as MonitorBlockedError).matches).toContainEqual(expect.objectContaining({ rule_id: 'acme.destructive-shell', target: 'user' }))
    expect(received.length).toBe(before)
    expect((await readLog(file)).map((e) => e.event)).toEqual(['monitoring_enabled', 'LLM_call_blocked'])
  })

  it("records the client's own errors and rethrows them", async () => {
    const { client, file } = setup()
    const error = await client.chat.send({ model: 'acme-down', prompt: 'hi' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AcmeError)
    const failed = (await readLog(file)).find((e) => e.event === 'LLM_call_error')
    expect(failed!.data).toMatchObject({ method: 'chat.send', error: { name: 'AcmeError', status: 503, message: 'Acme is down for maintenance' } })
  })
})
