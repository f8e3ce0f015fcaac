import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { demoMessage, sseBody, sseEvents } from '../../src/demo/server.js'
import { tempLog } from '../helpers.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const run = promisify(execFile)

describe('a stream the application never reads', () => {
  it('still gets its one closing event when the process exits', async () => {
    const file = tempLog()
    const sse = sseBody(sseEvents(demoMessage({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })))
    await run(process.execPath, [join(root, 'test', 'monitor', 'children', 'unread-stream.mjs'), file, sse], { cwd: root })
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const llm = events.filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(llm[1].call_id).toBe(llm[0].call_id)
    expect(llm[1].data).toMatchObject({ partial: true, unfinished_at_exit: true, response: null })
  })
})

describe('a call read only as a raw response', () => {
  it('gets its closing event when the process exits right after', async () => {
    const file = tempLog()
    const body = JSON.stringify(demoMessage({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }))
    await run(process.execPath, [join(root, 'test', 'monitor', 'children', 'raw-then-exit.mjs'), file, body], { cwd: root })
    const llm = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
    expect(llm[1].data).toMatchObject({ raw_response: true, status: 200, request_id: 'req_raw' })
  })
})

describe('calls still waiting for their response', () => {
  it.each([['exit'], ['throw']])('get their closing event when the process ends (%s)', async (how) => {
    const file = tempLog()
    await run(process.execPath, [join(root, 'test', 'monitor', 'children', 'in-flight-exit.mjs'), file, how], { cwd: root }).catch((e: { code?: number }) => {
      if (how !== 'throw' || e.code !== 1) throw e
    })
    const llm = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.channel === 'LLM')
    expect(llm.map((e) => e.event).sort()).toEqual(['LLM_call_error', 'LLM_call_error', 'LLM_call_start', 'LLM_call_start'])
    for (const start of llm.filter((e) => e.event === 'LLM_call_start')) {
      const closing = llm.filter((e) => e.call_id === start.call_id && e.event === 'LLM_call_error')
      expect(closing).toHaveLength(1)
      expect(closing[0].data).toMatchObject({ unfinished_at_exit: true, error: { name: 'UnfinishedAtExit', message: 'the process exited before the response arrived' } })
    }
  })
})
