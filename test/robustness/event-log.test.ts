import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventsCommand, statsCommand } from '../../src/cli/events.js'
import { CylestioError } from '../../src/errors.js'
import { cleanupOldEvents, getAgentStats, getEventsByChannel, getEventsByTimeframe, getRecentEvents, searchEvents } from '../../src/store/index.js'

// A log with lines that are not events, queries and CLI flags given wrong values: clear errors naming
// the option or file, nothing deleted by mistake.

const dir = () => mkdtempSync(join(tmpdir(), 'cylestio-robust-'))
const event = (i: number) =>
  JSON.stringify({ event: 'LLM_call_finish', channel: 'LLM', level: 'info', agent_id: 'a', call_id: `c${i}`, timestamp: new Date(Date.now() - (10 - i) * 1000).toISOString(), data: { model: 'm', duration_ms: 5, usage: { input_tokens: 1, output_tokens: 2 } } })

function garbageLog(): string {
  const file = join(dir(), 'events.jsonl')
  writeFileSync(file, `\ufeff${[event(1), 'garbage', '[1,2,3]', '42', '"text"', 'null', '{}', JSON.stringify({ event: 5, agent_id: { x: 1 }, data: 'str' }), event(2)].join('\n')}\n`)
  return file
}

async function run(command: typeof eventsCommand, argv: string[]) {
  let out = ''
  let err = ''
  const code = await command(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } })
  return { code, out, err }
}

describe('an event log with lines that are not events', () => {
  it('queries return only events (JSON that is not an event object is skipped; a BOM is ignored)', async () => {
    const file = garbageLog()
    const recent = await getRecentEvents({ file })
    expect(recent.map((e) => e.call_id)).toEqual(['c1', 'c2'])
    expect((await getEventsByChannel('LLM', { file, limit: 10 })).map((e) => e.call_id)).toEqual(['c1', 'c2'])
  })

  it('`events` prints a table instead of crashing on them', async () => {
    const { code, out, err } = await run(eventsCommand, ['--file', garbageLog()])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out.trim().split('\n')).toHaveLength(3)
  })

  it('a log path that is a directory is named in the error', async () => {
    const d = dir()
    const logDir = join(d, 'events.jsonl')
    mkdirSync(logDir)
    const events = await run(eventsCommand, ['--file', logDir])
    expect(events.code).toBe(1)
    expect(events.err).toContain(`${logDir} is a directory`)
    const stats = await run(statsCommand, ['--file', logDir])
    expect(stats.code).toBe(1)
    expect(stats.err).toContain(`${logDir} is a directory`)
    await expect(getRecentEvents({ file: logDir })).rejects.toThrow(`${logDir} is a directory`)
    await expect(getAgentStats({ file: logDir })).rejects.toThrow(`${logDir} is a directory`)
  })
})

describe('query arguments', () => {
  it('a limit that is not a whole number ≥ 0 is an error naming it, not an empty or full result', async () => {
    const file = garbageLog()
    for (const limit of [-1, 1.5, Number.NaN, 'abc']) {
      const error = await getRecentEvents({ file, limit: limit as number }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CylestioError)
      expect((error as Error).message).toMatch(/getRecentEvents\(\): option 'limit' must be a whole number/)
    }
    await expect(getRecentEvents({ file: 5 as never })).rejects.toThrow(/option 'file'/)
    await expect(searchEvents(5 as never, { file })).rejects.toThrow(/searchEvents\(\): 'text' must be a string/)
  })

  it('an option name that does not exist (agent, agent_id) is an error naming it and the known ones, not every agent\'s events', async () => {
    const file = garbageLog()
    for (const [name, query] of [
      ['getEventsByChannel', () => getEventsByChannel('LLM', { file, agent_id: 'nobody' } as never)],
      ['getEventsByChannel', () => getEventsByChannel('LLM', { file, agent: 'x' } as never)],
      ['getRecentEvents', () => getRecentEvents({ file, limt: 5 } as never)],
      ['getAgentStats', () => getAgentStats({ file, limit: 5 } as never)],
      ['cleanupOldEvents', () => cleanupOldEvents(0, { file, agent: 'a' } as never)],
    ] as const) {
      const error = await query().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CylestioError)
      expect((error as CylestioError).code).toBe('QUERY_BAD_OPTION')
      expect((error as Error).message).toMatch(new RegExp(`^${name}\\(\\): unknown option '\\w+' \\(known: agentId, file`))
    }
    expect(readFileSync(file, 'utf8')).toContain('c1') // the cleanup deleted nothing
    expect((await getEventsByChannel('LLM', { file, agentId: 'nobody' }))).toEqual([])
  })

  it('getEventsByTimeframe with a date that does not parse says so', async () => {
    await expect(getEventsByTimeframe('yesterday', new Date(), { file: garbageLog() })).rejects.toThrow(/'start' must be a Date or an ISO date string, got "yesterday"/)
  })

  it('cleanupOldEvents with negative or non-numeric days deletes nothing and says why', async () => {
    const file = join(dir(), 'events.jsonl')
    writeFileSync(file, `${event(1)}\n${event(2)}\n`)
    await expect(cleanupOldEvents(-1, { file })).rejects.toThrow(/'days' must be a number of days ≥ 0, got -1/)
    await expect(cleanupOldEvents('30' as never, { file })).rejects.toThrow(/got "30"/)
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2)
  })
})

describe('events CLI flags', () => {
  it('--limit takes digits only: "", 1e2, 0x10 and -1 are usage errors naming the value', async () => {
    const file = garbageLog()
    for (const value of ['', '1e2', '0x10', '-1', ' ']) {
      const { code, err } = await run(eventsCommand, ['--file', file, '--limit', value])
      expect(code, value).toBe(2)
      expect(err).toContain(`--limit must be a whole number (0 for all), not "${value}"`)
    }
  })

  it('--since accepts ISO dates and durations only, and durations that overflow are errors', async () => {
    const file = garbageLog()
    for (const value of ['0', '1 2 3', '99999999999d']) {
      const { code, err } = await run(eventsCommand, ['--file', file, '--since', value])
      expect(code, value).toBe(2)
      expect(err).toContain(`"${value}"`)
    }
    expect((await run(eventsCommand, ['--file', file, '--since', '2020-01-01'])).code).toBe(0)
  })
})

describe('a store path that cannot be created', () => {
  it('under /proc: the batch is dropped and reported; the process does not hang (a recursive mkdir there spins forever)', () => {
    const script = `const { monitor, flush, getMonitorHealth } = await import('cylestio-monitor')
      const client = { messages: { create: async () => ({ text: 'ok' }) } }
      const adapter = { name: 'plain', calls: { 'messages.create': { request: (args) => ({ params: args[0], texts: [] }) } } }
      const monitored = monitor(client, { store: '/proc/self/cylestio-nope/events.jsonl', adapters: [adapter] })
      const answer = await monitored.messages.create({ model: 'm' })
      await flush()
      console.log(JSON.stringify({ answer, dropped: getMonitorHealth().droppedEvents }))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] })
    const { answer, dropped } = JSON.parse(out.trim()) as { answer: unknown; dropped: number }
    expect(answer).toEqual({ text: 'ok' })
    expect(dropped).toBeGreaterThanOrEqual(2)
  })
})
