// A process that reads a call only as a raw response (`.asResponse()`) and exits at once: the call must still be closed.
import Anthropic from '@anthropic-ai/sdk'
import { monitor } from '../../../dist/index.js'

const [file, body] = process.argv.slice(2)
const fetch = async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_raw' } })
const client = monitor(new Anthropic({ apiKey: 'x', fetch, maxRetries: 0 }), { agentId: 'raw', store: file })
const response = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).asResponse()
process.exit(response.status === 200 ? 0 : 1)
