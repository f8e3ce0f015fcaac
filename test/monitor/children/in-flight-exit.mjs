// A process that exits (process.exit, or an uncaught exception) while its calls wait for their response.
import Anthropic from '@anthropic-ai/sdk'
import { monitor } from '../../../dist/index.js'

const [file, how] = process.argv.slice(2)
const slowFetch = () => new Promise(() => {}) // the response never arrives before the exit
const client = monitor(new Anthropic({ apiKey: 'x', fetch: slowFetch, maxRetries: 0 }), { agentId: 'in-flight', store: file })
const ask = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
client.messages.create(ask).catch(() => {})
client.messages.create({ ...ask, stream: true }).catch(() => {})
setTimeout(() => {
  if (how === 'throw') throw new Error('the application crashed')
  process.exit(0)
}, 50)
