import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { acmeAdapter } from '../../examples/custom-adapter/acme-adapter.js'
import { AcmeClient, AcmeError } from '../../examples/custom-adapter/acme-client.js'
import { wireFetch } from '../helpers.js'
import { anthropicClient } from '../transparency/anthropic-cases.js'
import { adapterConformance } from './conformance.js'
import { openaiClient } from './openai-wire.js'

adapterConformance<Anthropic>('anthropic (built-in)', {
  adapter: 'anthropic',
  make: () => {
    const { client, wire } = anthropicClient()
    return { client, sent: () => wire.requests.length }
  },
  method: 'messages.create',
  model: 'claude-sonnet-4-5',
  ask: (c, prompt) => c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: prompt }] }),
  fail: (c) => c.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'overloaded?' }] }),
  errorClass: Anthropic.APIError,
  errorStatus: 529,
  usage: { input_tokens: 12, output_tokens: 21, cache_read_input_tokens: 20480, cache_creation_input_tokens: 1824 },
  passThrough: async (c) => (await c.models.list()).data.map((m) => m.id),
})

adapterConformance<OpenAI>('openai (built-in)', {
  adapter: 'openai',
  make: () => {
    const { client, wire } = openaiClient()
    return { client, sent: () => wire.requests.length }
  },
  method: 'chat.completions.create',
  model: 'gpt-4o',
  ask: (c, prompt) => c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt }] }),
  fail: (c) => c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'overloaded?' }] }),
  errorClass: OpenAI.RateLimitError,
  errorStatus: 429,
  usage: { prompt_tokens: 1117, completion_tokens: 8, input_tokens: 1117, output_tokens: 8, prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 } },
  passThrough: (c) => c.buildURL('/models', { limit: 3 }),
})

adapterConformance<AcmeClient>('acme (examples/custom-adapter)', {
  adapter: 'acme',
  adapters: [acmeAdapter],
  make: () => {
    const wire = wireFetch((url, body) => {
      if (url.pathname === '/v1/models') return { body: { models: ['acme-1', 'acme-1-mini'] } }
      if (body.prompt.includes('overloaded')) return { status: 503, body: { message: 'Acme is overloaded' } }
      return { body: { id: 'acme_1', model: body.model, text: `echo: ${body.prompt}`, tokensIn: 9, tokensOut: 4 } }
    })
    return { client: new AcmeClient({ apiKey: 'acme-key', fetch: wire.fetch }), sent: () => wire.requests.length }
  },
  method: 'chat.send',
  model: 'acme-1',
  ask: (c, prompt) => c.chat.send({ model: 'acme-1', prompt }),
  fail: (c) => c.chat.send({ model: 'acme-1', prompt: 'overloaded?' }),
  errorClass: AcmeError,
  errorStatus: 503,
  usage: { input_tokens: 9, output_tokens: 4 },
  passThrough: (c) => c.models(),
})
