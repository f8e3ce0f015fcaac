import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An Anthropic-compatible HTTP server on 127.0.0.1, for the demo and the tests: `POST /v1/messages` answers
 * with Messages API JSON, or with an SSE stream shaped like the API's (message_start, content blocks with
 * their deltas, message_delta with usage, message_stop); `GET /v1/models` pages; a model named
 * `demo-rate-limited` gets HTTP 429, `demo-overloaded` 529.
 */

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: any
}

export interface DemoServer {
  url: string
  /** Every request the server received, in order. */
  requests: ReceivedRequest[]
  close(): Promise<void>
}

export const DEMO_USAGE = {
  input_tokens: 21,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: 0,
}

/** The answer the demo server gives to a prompt: deterministic, so tests can compare. */
export function demoAnswer(prompt: string): string {
  if (/weather/i.test(prompt)) return "I'll look that up for you."
  if (/joke/i.test(prompt)) return 'Why did the model cross the road? To minimise its loss on the other side.'
  return `Hello! You asked: "${prompt.slice(0, 60)}". Here is a short, helpful answer.`
}

export function lastUserText(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : []
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]
    if (m?.role !== 'user') continue
    if (typeof m.content === 'string') return m.content
    if (Array.isArray(m.content)) return m.content.map((b: any) => (b?.type === 'text' ? b.text : '')).join(' ')
  }
  return ''
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`

/** The content blocks of the demo's answer: a tool call when the request offers tools, else text. */
export function demoContent(body: any): any[] {
  const prompt = lastUserText(body)
  const text = demoAnswer(prompt)
  if (Array.isArray(body?.tools) && body.tools.length > 0) {
    return [
      { type: 'text', text },
      { type: 'tool_use', id: id('toolu'), name: body.tools[0].name, input: { location: 'Paris, France', unit: 'celsius' } },
    ]
  }
  return [{ type: 'text', text }]
}

export function demoMessage(body: any): any {
  const content = demoContent(body)
  const output = Math.max(1, Math.ceil(JSON.stringify(content).length / 4))
  return {
    id: id('msg'),
    type: 'message',
    role: 'assistant',
    model: body?.model ?? 'claude-sonnet-4-5',
    content,
    stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { ...DEMO_USAGE, input_tokens: Math.max(1, Math.ceil(JSON.stringify(body?.messages ?? '').length / 4)), output_tokens: output },
  }
}

/** Splits a message into the SSE events the API sends for it. */
export function sseEvents(message: any): Array<{ event: string; data: any }> {
  const events: Array<{ event: string; data: any }> = []
  const { content, usage, stop_reason, stop_sequence, ...rest } = message
  events.push({
    event: 'message_start',
    data: { type: 'message_start', message: { ...rest, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } },
  })
  content.forEach((block: any, index: number) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } })
      for (const piece of block.text.match(/.{1,12}/gs) ?? []) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } } })
      }
    } else if (block.type === 'tool_use') {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      })
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } } })
      for (const piece of JSON.stringify(block.input).match(/.{1,10}/gs) ?? []) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } } })
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } })
  })
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason, stop_sequence }, usage: { output_tokens: usage.output_tokens } } })
  events.push({ event: 'message_stop', data: { type: 'message_stop' } })
  return events
}

export function sseBody(events: Array<{ event: string; data: any }>): string {
  return events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join('')
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...headers })
  res.end(JSON.stringify(body))
}

const MODELS = ['claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5'].map((m) => ({
  type: 'model',
  id: m,
  display_name: m,
  created_at: '2025-11-01T00:00:00Z',
}))

async function handle(req: IncomingMessage, res: ServerResponse, requests: ReceivedRequest[]): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const raw = req.method === 'POST' ? await readBody(req) : ''
  const body = raw ? JSON.parse(raw) : undefined
  requests.push({ method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body })

  if (req.method === 'GET' && url.pathname === '/v1/models') {
    // One model a page, so `for await` has to follow the cursor.
    const after = url.searchParams.get('after_id')
    const start = after ? MODELS.findIndex((m) => m.id === after) + 1 : 0
    const data = MODELS.slice(start, start + 1)
    sendJson(res, 200, { data, has_more: start + 1 < MODELS.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null })
    return
  }
  if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
    sendJson(res, 200, { input_tokens: Math.ceil(JSON.stringify(body?.messages ?? '').length / 4) })
    return
  }
  if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `No route ${req.method} ${url.pathname}` } })
    return
  }
  if (body?.model === 'demo-rate-limited') {
    sendJson(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }, { 'retry-after': '0' })
    return
  }
  if (body?.model === 'demo-overloaded') {
    sendJson(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
    return
  }
  const message = demoMessage(body)
  if (body?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': id('req') })
    for (const e of sseEvents(message)) res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`)
    res.end()
    return
  }
  sendJson(res, 200, message)
}

/** Starts the server on a free port of 127.0.0.1. */
export function startDemoServer(): Promise<DemoServer> {
  const requests: ReceivedRequest[] = []
  const server: Server = createServer((req, res) => {
    handle(req, res, requests).catch((error: unknown) => {
      sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(error) } })
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
