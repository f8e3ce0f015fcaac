import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cleanupOldEvents, CylestioError, getEventsByChannel, getMonitorHealth, JsonlEventFile, JsonlEventLog, monitor } from '../../src/index.js'
import { flush } from '../../src/store/index.js'
import { fakeFetch } from '../helpers.js'

// Bad options fail monitor() with a CylestioError (code MONITOR_BAD_OPTION) that names the option,
// instead of a TypeError from deep inside, or being accepted and doing something else than meant.

const client = () => new Anthropic({ apiKey: 'k', fetch: fakeFetch(() => ({ body: { content: [] } })).fetch })

function rejects(options: unknown, message: RegExp): void {
  let error: unknown
  try {
    monitor(client(), options as never)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(CylestioError)
  expect((error as CylestioError).code).toBe('MONITOR_BAD_OPTION')
  expect((error as Error).message).toMatch(message)
}

describe('monitor() option checks', () => {
  it('options that are not an object', () => {
    rejects(null, /options must be an object.*null/)
    rejects('my-agent', /options must be an object.*"my-agent"/)
  })

  it('store of the wrong type names the option instead of a TypeError', () => {
    rejects({ store: 5 }, /option 'store' must be a file path.*number 5/)
    rejects({ store: true }, /option 'store'.*boolean true/)
    rejects({ store: null }, /option 'store'.*null/)
    rejects({ store: '' }, /option 'store'.*empty string/)
  })

  it('a sink object without a write function is refused, not silently dropping every event', () => {
    rejects({ store: {} }, /option 'store': a sink object needs a 'write/)
    rejects({ store: { write: 1, flush: async () => {} } }, /option 'store': a sink object needs a 'write/)
    rejects({ store: { write: () => {}, flush: 'now' } }, /'flush' must be a function/)
  })

  it('defaultRules beside a compiled rule set is refused: the set decides (loadRules(paths, { defaultRules }))', async () => {
    const { loadRules } = await import('../../src/rules/index.js')
    rejects({ rules: loadRules([], { defaultRules: false }), defaultRules: true }, /option 'defaultRules: true' does not apply when 'rules' is a compiled rule set \(nothing is added to it\); pass \{ defaultRules \} to loadRules\(\) instead/)
    expect(() => monitor(client(), { rules: loadRules(), store: false })).not.toThrow()
  })

  it('a store path that is a directory is refused at monitor(), naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cylestio-robust-'))
    rejects({ store: dir }, new RegExp(`option 'store' is a directory \\(${dir}\\)`))
  })

  it('a store path or CYLESTIO_EVENTS_FILE ending with a slash or padded with blanks is refused, naming it', () => {
    rejects({ store: './logs/' }, /option 'store' ends with a slash \("\.\/logs\/"\), so it names a folder; give the path of the event log file, e\.g\. logs\/cylestio-events\.jsonl/)
    rejects({ store: ' ./x.jsonl ' }, /option 'store' starts or ends with blanks \(" \.\/x\.jsonl "\)/)
    rejects({ store: { kind: 'lowdb-json', path: './logs/' } }, /option 'store' \(\{ kind: 'lowdb-json' \}\) path ends with a slash/)
    rejects({ store: { kind: 'lowdb-json', path: ' x.json' } }, /option 'store' \(\{ kind: 'lowdb-json' \}\) path starts or ends with blanks/)
    rejects({ store: { kind: 'lowdb-json', path: tmpdir() } }, /option 'store' \(\{ kind: 'lowdb-json' \}\) path is a directory/)
    const before = process.env.CYLESTIO_EVENTS_FILE
    try {
      process.env.CYLESTIO_EVENTS_FILE = './logs/'
      rejects({}, /CYLESTIO_EVENTS_FILE \(the default store\) ends with a slash/)
      process.env.CYLESTIO_EVENTS_FILE = './x.jsonl '
      rejects({}, /CYLESTIO_EVENTS_FILE \(the default store\) starts or ends with blanks/)
    } finally {
      if (before === undefined) delete process.env.CYLESTIO_EVENTS_FILE
      else process.env.CYLESTIO_EVENTS_FILE = before
    }
  })

  it('a store path holding a NUL character (no file can have it: every event would be dropped) is refused, naming it', () => {
    rejects({ store: '/tmp/a\0b.jsonl' }, /option 'store' holds a NUL character \("\/tmp\/a\\u0000b\.jsonl"\), which no file name can hold/)
    rejects({ store: { kind: 'lowdb-json', path: 'a\0.json' } }, /option 'store' \(\{ kind: 'lowdb-json' \}\) path holds a NUL character/)
  })

  it('the event log classes and the queries refuse such a path too, naming what was given', async () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return [(error as CylestioError).code, (error as Error).message]
      }
      return undefined
    }
    expect(code(() => new JsonlEventLog({ path: 'a\0b.jsonl' }))).toEqual(['EVENT_LOG_BAD_PATH', 'new JsonlEventLog({ path }): the path holds a NUL character ("a\\u0000b.jsonl"), which no file name can hold'])
    expect(code(() => new JsonlEventFile('logs/'))?.[0]).toBe('EVENT_LOG_BAD_PATH')
    expect(code(() => new JsonlEventLog({ path: '' as string }))?.[1]).toBe('new JsonlEventLog({ path }): the path of the event log must be a non-empty string, got an empty string')
    await expect(getEventsByChannel('LLM', { file: 'a\0b.jsonl' })).rejects.toThrow(/getEventsByChannel\(\): option 'file' holds a NUL character/)
    await expect(cleanupOldEvents(1, { file: 'a\0b.jsonl' })).rejects.toMatchObject({ code: 'QUERY_BAD_OPTION' })
  })

  it('CYLESTIO_EVENTS_FILE naming a directory is refused at monitor() like the option, naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cylestio-robust-'))
    const before = process.env.CYLESTIO_EVENTS_FILE
    process.env.CYLESTIO_EVENTS_FILE = dir
    try {
      rejects({}, new RegExp(`CYLESTIO_EVENTS_FILE \\(the default store\\) is a directory \\(${dir}\\)`))
      expect(() => monitor(client(), { store: false })).not.toThrow() // the variable does not matter then
    } finally {
      if (before === undefined) delete process.env.CYLESTIO_EVENTS_FILE
      else process.env.CYLESTIO_EVENTS_FILE = before
    }
  })

  it('an empty CYLESTIO_EVENTS_FILE counts as unset: events go to ./cylestio-events.jsonl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cylestio-robust-'))
    const before = { env: process.env.CYLESTIO_EVENTS_FILE, cwd: process.cwd() }
    process.env.CYLESTIO_EVENTS_FILE = ''
    process.chdir(dir)
    try {
      const dropped = getMonitorHealth().droppedEvents
      const c = monitor(client(), { agentId: 'empty-env' })
      await c.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      await flush()
      const events = readFileSync(join(dir, 'cylestio-events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string })
      expect(events.map((e) => e.event)).toEqual(['monitoring_enabled', 'LLM_call_start', 'LLM_call_finish'])
      expect(getMonitorHealth().droppedEvents).toBe(dropped)
    } finally {
      process.chdir(before.cwd)
      if (before.env === undefined) delete process.env.CYLESTIO_EVENTS_FILE
      else process.env.CYLESTIO_EVENTS_FILE = before.env
    }
  })

  it('rules of the wrong type', () => {
    rejects({ rules: 5 }, /option 'rules' must be a YAML file or folder path.*number 5/)
    rejects({ rules: null }, /option 'rules'.*null/)
    rejects({ rules: ['./ok.yaml', 5] }, /option 'rules\[1\]' must be the path/)
    rejects({ rules: {} }, /option 'rules': a rule set needs a 'scan' function/)
    rejects({ rules: { scan: () => ({ alert: 'none', matches: [] }) } }, /needs a 'redact' function/)
  })

  it('boolean options given as strings or numbers (blockDangerous: "false" would block)', () => {
    rejects({ blockDangerous: 'false' }, /option 'blockDangerous' must be true or false, got the string "false"/)
    rejects({ blockDangerousResponses: 1 }, /option 'blockDangerousResponses'.*number 1/)
    rejects({ redact: 0 }, /option 'redact' must be true or false/)
    rejects({ defaultRules: 'no' }, /option 'defaultRules'/)
    rejects({ scanHistory: 'yes' }, /option 'scanHistory'/)
  })

  it('adapters with a match, response or stream that is not a function', () => {
    rejects({ adapters: [{ name: 'x', match: 5, calls: {} }] }, /adapter 'x' \(adapters\[0\]\): 'match' must be a function/)
    rejects(
      { adapters: [{ name: 'x', calls: { 'messages.create': { request: () => ({}), response: 5 } } }] },
      /adapter 'x' \(adapters\[0\]\), call 'messages.create': 'response' must be a function/,
    )
    rejects({ adapters: [{ name: 'x', calls: { 'messages.create': { request: () => ({}), stream: {} } } }] }, /'stream' must be a function/)
    rejects({ adapters: [{ name: 'x', calls: { 'chat..send': { request: () => ({}) } } }] }, /call path 'chat..send'/)
    rejects({ adapters: [{ name: 'x', helpers: 'a.b', calls: {} }] }, /'helpers' must be an array/)
  })

  it('a bad option is reported even for a client that is already monitored', () => {
    const once = monitor(client(), { store: false })
    expect(() => monitor(once, { blockDangerous: 'no' } as never)).toThrow(/option 'blockDangerous'/)
    expect(monitor(once, { store: false })).toBe(once)
  })

  it('flush() never rejects, even for a sink with no flush function', async () => {
    const lines: string[] = []
    const c = monitor(client(), { store: { write: (line: string) => void lines.push(line) } as never })
    await c.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    await expect(flush()).resolves.toBeUndefined()
    expect(lines.length).toBeGreaterThanOrEqual(3)
  })
})
