import Anthropic from '@anthropic-ai/sdk'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { monitor } from '../../src/index.js'
import { readLog, tempLog, wireFetch } from '../helpers.js'

const KEY = 'sk-ant-api03-' + 'Zx81fQ_Lm2Rk9TbVw4Yp7Ng3Hd6Jc0Ua5Se1Oi8Kq2Xv'
const sse = (events: Array<Record<string, unknown>>) => events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')
const START = { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }

it('a key split across stream deltas is masked in the assembled finish event and in a partial (broken-off) response', async () => {
  const file = tempLog()
  const body = sse([
    START,
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `key: ${KEY.slice(0, 18)}` } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${KEY.slice(18)} done` } },
  ]) + 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
  const wire = wireFetch(() => ({ body, stream: 'sse' }))
  const client = monitor(new Anthropic({ apiKey: 'sk-ant-test', fetch: wire.fetch, maxRetries: 0 }), { store: file })
  const stream = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] })
  await expect((async () => { for await (const _ of stream) void _ })()).rejects.toThrow()
  const events = await readLog(file)
  const error = events.find((e) => e.event === 'LLM_call_error')!
  expect(JSON.stringify(error.data.partial_response)).toContain('[REDACTED:secrets.anthropic-api-key]')
  expect(readFileSync(file, 'utf8')).not.toContain(KEY.slice(13))
})
