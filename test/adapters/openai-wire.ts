import OpenAI from 'openai'
import { fixture, wireFetch } from '../helpers.js'

/** Routes an OpenAI request to the fixture the real API would answer it with. */
function openaiWire(url: URL, body: any) {
  const text = JSON.stringify(body ?? {})
  if (text.includes('overloaded')) {
    return { status: 429, body: JSON.parse(fixture('openai/error-rate-limit.json')), headers: { 'x-request-id': 'req_ratelimited' } }
  }
  if (url.pathname === '/v1/chat/completions') {
    return body.stream ? { stream: 'sse' as const, body: fixture('openai/chat-stream-tools.sse') } : { body: JSON.parse(fixture('openai/chat-completion.json')) }
  }
  if (url.pathname === '/v1/responses') {
    return body.stream ? { stream: 'sse' as const, body: fixture('openai/response-stream.sse') } : { body: JSON.parse(fixture('openai/response.json')) }
  }
  return { status: 404, body: { error: { message: `no route ${url.pathname}`, type: 'invalid_request_error', param: null, code: null } } }
}

/** A real OpenAI client whose `fetch` answers from the fixtures. */
export function openaiClient() {
  const wire = wireFetch((url, body) => openaiWire(url, body), { 'x-request-id': 'req_wire' })
  const client = new OpenAI({ apiKey: 'sk-proj-test-0123456789', fetch: wire.fetch, maxRetries: 0 })
  return { client, wire }
}
