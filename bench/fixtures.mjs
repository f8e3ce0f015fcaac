// In-process stand-ins for the Anthropic API: a `fetch` that answers at once with a real message body
// (JSON) or a real SSE transcript of 20 text deltas, so that a call costs only the SDK and the monitor.

const MODEL = 'claude-sonnet-4-5'
const ANSWER = [
  'Compost', ' is', ' ready', ' when', ' it', ' is', ' dark,', ' crumbly', ' and', ' smells',
  ' of', ' earth;', ' turn', ' the', ' heap', ' every', ' few', ' weeks', ' to', ' help.',
]

export const message = {
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: MODEL,
  content: [{ type: 'text', text: ANSWER.join('') }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 312, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
}

const sse = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

export const sseBody = [
  sse('message_start', {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
  }),
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  sse('ping', { type: 'ping' }),
  ...ANSWER.map((text) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } }),
  sse('message_stop', { type: 'message_stop' }),
].join('')

const jsonBody = JSON.stringify(message)
const JSON_HEADERS = { 'content-type': 'application/json', 'request-id': 'req_bench' }
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'request-id': 'req_bench' }

/** The API, in process: a streamed request gets the SSE transcript, any other the JSON message. */
export async function inProcessFetch(_url, init) {
  const streamed = typeof init?.body === 'string' && init.body.includes('"stream":true')
  return streamed ? new Response(sseBody, { headers: SSE_HEADERS }) : new Response(jsonBody, { headers: JSON_HEADERS })
}

/** Request parameters of a call with `prompt` as the user turn. */
export const params = (prompt, stream = false) => ({
  model: MODEL,
  max_tokens: 1024,
  system: 'You are a helpful gardening assistant. Answer briefly.',
  messages: [{ role: 'user', content: prompt }],
  ...(stream ? { stream: true } : {}),
})
