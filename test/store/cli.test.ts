import { getEventListeners } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventsCommand, parseWhen, statsCommand } from '../../src/cli/events.js'
import { JsonlEventLog } from '../../src/store/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { removeDir, tempDir } from './helpers.js'
import { makeEvent } from './make-event.js'

let dir: string
let file: string
const now = Date.now()
/** 20 events, a minute apart, the newest one minute old. */
const events: MonitorEvent[] = Array.from({ length: 20 }, (_, i) => ({
  ...makeEvent(i + 1, { agents: 2 }),
  timestamp: new Date(now - (20 - i) * 60_000).toISOString(),
}))

async function run(command: typeof eventsCommand, argv: string[], signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await command(argv, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, signal })
  return { code, out, err }
}

beforeAll(async () => {
  dir = tempDir()
  file = join(dir, 'events.jsonl')
  const log = new JsonlEventLog({ path: file })
  for (const e of events) log.write(JSON.stringify(e), e)
  await log.flush()
  log.close()
})

afterAll(() => removeDir(dir))

describe('cylestio-monitor events', () => {
  it('prints a table: time, agent, event, alert, model, tokens, duration', async () => {
    const { code, out } = await run(eventsCommand, ['--file', file, '--type', 'LLM_call_finish', '--agent', 'agent-1'])
    expect(code).toBe(0)
    const lines = out.trimEnd().split('\n')
    expect(lines[0].split(/\s{2,}/)).toEqual(['TIME', 'AGENT', 'EVENT', 'ALERT', 'MODEL', 'TOKENS', 'DURATION'])
    const expected = events.filter((e) => e.event === 'LLM_call_finish' && e.agent_id === 'agent-1')
    expect(lines).toHaveLength(1 + expected.length)
    const e = expected[0]
    const usage = e.data.usage as { input_tokens: number; output_tokens: number }
    expect(lines[1].split(/\s{2,}/)).toEqual([
      e.timestamp.replace('T', ' ').replace('Z', ''),
      'agent-1',
      'LLM_call_finish',
      'none',
      e.data.model,
      `${usage.input_tokens}→${usage.output_tokens}`,
      `${e.data.duration_ms} ms`,
    ])
  })

  it('--json prints one event per line; --limit keeps the newest; --since/--until take durations and ISO dates', async () => {
    const json = await run(eventsCommand, ['--file', file, '--json', '--limit', '3'])
    expect(json.out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(events.slice(-3))

    // 4.5 minutes back: the events 1, 2, 3 and 4 minutes old.
    const recent = await run(eventsCommand, ['--file', file, '--json', '--since', '270s'])
    expect(recent.out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(events.slice(-4))

    const until = await run(eventsCommand, ['--file', file, '--json', '--channel', 'LLM', '--until', events[2].timestamp])
    expect(until.out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(events.slice(0, 2))
  })

  it('reports usage errors (exit 2) and a missing log (exit 1)', async () => {
    const bad = await run(eventsCommand, ['--file', file, '--since', 'yesterday-ish'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('yesterday-ish')
    expect((await run(eventsCommand, ['--file', file, '--limit', '-4'])).code).toBe(2)
    expect((await run(eventsCommand, ['--bogus'])).code).toBe(2)
    const missing = await run(eventsCommand, ['--file', join(dir, 'none.jsonl')])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('none.jsonl')
  })

  it('--follow keeps one listener on its stop signal however long it polls', async () => {
    const stop = new AbortController()
    const following = eventsCommand(['--file', join(dir, 'quiet.jsonl'), '--follow', '--json'], { stdout: { write: () => true }, signal: stop.signal })
    await new Promise((r) => setTimeout(r, 1300)) // six polls or more
    expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1)
    stop.abort()
    expect(await following).toBe(0)
  })

  it('--follow prints new events as they are written, until stopped', async () => {
    const followed = join(dir, 'followed.jsonl')
    writeFileSync(followed, events.map((e) => `${JSON.stringify(e)}\n`).join(''))
    const stop = new AbortController()
    let out = ''
    const following = eventsCommand(['--file', followed, '--follow', '--json', '--limit', '1', '--type', 'LLM_call_blocked'], {
      stdout: { write: (t: string) => (out += t) },
      signal: stop.signal,
    })
    await new Promise((r) => setTimeout(r, 100))
    const log = new JsonlEventLog({ path: followed })
    const fresh = [makeEvent(103), makeEvent(104), makeEvent(108)] // 103 and 108 are LLM_call_blocked
    for (const e of fresh) log.write(JSON.stringify(e), e)
    await log.flush()
    log.close()
    const deadline = Date.now() + 5000
    while (out.trimEnd().split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    stop.abort()
    expect(await following).toBe(0)
    const lastOld = events.filter((e) => e.event === 'LLM_call_blocked').at(-1)
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([lastOld, fresh[0], fresh[2]])
  })

  it('parseWhen reads durations and ISO dates', () => {
    expect(parseWhen('10m', 1_000_000).getTime()).toBe(1_000_000 - 600_000)
    expect(parseWhen('2h', 10_000_000).getTime()).toBe(10_000_000 - 7_200_000)
    expect(parseWhen('7d', 1e12).getTime()).toBe(1e12 - 7 * 86_400_000)
    expect(parseWhen('2026-12-03T15:28:16.123Z').toISOString()).toBe('2026-12-03T15:28:16.123Z')
    expect(() => parseWhen('soon')).toThrow(/soon/)
  })
})

describe('cylestio-monitor stats', () => {
  it('prints one row per agent and model', async () => {
    const { code, out } = await run(statsCommand, ['--file', file])
    expect(code).toBe(0)
    const [header, ...rows] = out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/))
    expect(header).toEqual(['AGENT', 'MODEL', 'CALLS', 'BLOCKED', 'ERRORS', 'TOKENS IN', 'TOKENS OUT', 'MEAN MS', 'P95 MS'])
    // makeEvent(i, { agents: 2 }): agent = i % 2, model = i % 2, so two groups.
    const ends = events.filter((e) => /finish|error|blocked/.test(e.event))
    expect(rows.map((r) => r.slice(0, 5))).toEqual(
      ['agent-0', 'agent-1'].map((agent) => {
        const mine = ends.filter((e) => e.agent_id === agent)
        return [agent, mine[0].data.model, `${mine.length}`, `${mine.filter((e) => e.event === 'LLM_call_blocked').length}`, `${mine.filter((e) => e.event === 'LLM_call_error').length}`]
      }),
    )
    const json = await run(statsCommand, ['--file', file, '--json', '--agent', 'agent-1'])
    const parsed = JSON.parse(json.out)
    expect(parsed).toHaveLength(1)
    expect(parsed[0].agent_id).toBe('agent-1')
    expect(parsed[0].calls).toBe(ends.filter((e) => e.agent_id === 'agent-1').length)
  })
})
