import { describe, expect, it } from 'vitest'
import { monitor } from '../../src/index.js'
import type { Adapter } from '../../src/types.js'
import { collectMonitorWarnings, readLog, tempLog } from '../helpers.js'

// Each kind of fault is printed once per process (then counted): this file is the first to provoke a
// `serialize` fault in its process, so the warning it checks is the one printed.
const warnings = collectMonitorWarnings()

describe('the process warning of a fault', () => {
  it('a secret quoted by a request parameter that cannot be read is masked in the warning, as in the event', async () => {
    const key = 'sk-ant-api03-' + 'C'.repeat(40) + 'AA'
    const adapter: Adapter = { name: 'acme', calls: { 'chat.send': { request: (args) => ({ params: args[0], texts: [{ target: 'user', text: 'hi' }] }) } } }
    const file = tempLog()
    const client = monitor({ chat: { send: async (_request: unknown) => ({ text: 'ok' }) } }, { adapters: [adapter], store: file })
    const params = { prompt: 'hi', get extra(): string { throw new Error(`vault refused key ${key}`) } }
    expect(await client.chat.send(params)).toEqual({ text: 'ok' })
    const start = (await readLog(file)).find((e) => e.event === 'LLM_call_start')!
    expect(start.data.params).toBe('[unreadable parameters]')
    await new Promise((r) => setImmediate(r))
    const mine = warnings.filter((w) => w.message.includes('vault refused key'))
    expect(mine).toHaveLength(1)
    expect(mine[0]!.message).toContain('vault refused key [REDACTED:secrets.anthropic-api-key]')
    expect(mine[0]!.message).not.toContain(key)
  })
})
