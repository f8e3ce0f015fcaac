// A process that starts a call, never awaits it, and ends on its own once the answer is in: the call must still be closed.
import Anthropic from '@anthropic-ai/sdk'
import { monitor } from '../../../dist/index.js'

const [file, body] = process.argv.slice(2)
let answered = 0
const fetch = async () => {
  answered++
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_faf' } })
}
const client = monitor(new Anthropic({ apiKey: 'x', fetch, maxRetries: 0 }), { agentId: 'faf', store: file })
client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'warm up' }] }) // not awaited
setTimeout(() => {
  if (answered !== 1) process.exitCode = 1
}, 100)
