// A process that asks for a stream, never reads it, and exits: its call must still be closed.
import Anthropic from '@anthropic-ai/sdk'
import { monitor } from '../../../dist/index.js'

const [file, sse] = process.argv.slice(2)
const fetch = async () => new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream', 'request-id': 'req_unread' } })
const client = monitor(new Anthropic({ apiKey: 'x', fetch, maxRetries: 0 }), { agentId: 'unread', store: file })
await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] })
process.exit(0)
