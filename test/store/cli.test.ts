import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { getEventListeners } from 'node:events'
import { appendFileSync, mkdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventsCommand, parseWhen, statsCommand } from '../../src/cli/events.js'
import { cleanupOldEvents, JsonlEventLog } from '../../src/store/index.js'
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

/** `events --follow --json` on `path`: the event names printed so far, and a wait until one is. */
function followJson(path: string) {
  const abort = new AbortController()
  let out = ''
  const following = eventsCommand(['--file', path, '--follow', '--json'], { stdout: { write: (t: string) => (out += t) }, signal: abort.signal })
  const printed = () => out.trimEnd().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as MonitorEvent).event)
  const waitFor = async (name: string) => {
    const deadline = Date.now() + 5000
    while (!printed().includes(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    // One more poll, so that a step never falls between a stat and a read of the same poll.
    await new Promise((r) => setTimeout(r, 250))
  }
  return { stop: () => abort.abort(), following, printed, waitFor }
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
    expect(lines[0].split(/\s{2,}/)).toEqual(['TIME (UTC)', 'AGENT', 'EVENT', 'ALERT', 'MODEL', 'TOKENS', 'DURATION', 'NOTE'])
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

  it("the NOTE column says why an event deserves a look: a block's reason, an error's status and name, the rules that flagged a call", async () => {
    const path = join(dir, 'notes.jsonl')
    const at = (k: number) => new Date(now - (10 - k) * 1000).toISOString()
    const base = { channel: 'LLM', agent_id: 'notes', level: 'info' as const }
    const noted: MonitorEvent[] = [
      { ...base, event: 'LLM_call_blocked', level: 'warning', timestamp: at(1), data: { alert: 'dangerous', reason: 'dangerous content: destructive.root-wipe-request' } },
      { ...base, event: 'LLM_call_error', level: 'error', timestamp: at(2), data: { duration_ms: 12, error: { name: 'RateLimitError', message: 'slow down', status: 429 } } },
      { ...base, event: 'LLM_call_error', level: 'error', timestamp: at(3), data: { error: { name: 'IncompleteStream', message: 'cut' } } },
      { ...base, event: 'LLM_call_start', level: 'warning', timestamp: at(4), data: { alert: 'suspicious', security: { matches: [{ rule_id: 'pii.email' }, { rule_id: 'pii.email' }, { rule_id: 'secrets.bearer-token' }] } } },
      { ...base, event: 'LLM_call_finish', timestamp: at(5), data: { alert: 'none', security: { matches: [] } } },
      { ...base, event: 'LLM_call_blocked', level: 'warning', timestamp: at(6), data: { reason: `dangerous content: ${'x'.repeat(39)}😀😀😀😀😀`, usage: { input_tokens: 1e9, output_tokens: { n: 1 } } } },
    ]
    writeFileSync(path, noted.map((e) => `${JSON.stringify(e)}\n`).join(''))
    const { code, out } = await run(eventsCommand, ['--file', path])
    expect(code).toBe(0)
    const [head, ...rows] = out.trimEnd().split('\n')
    const column = head!.indexOf('NOTE')
    expect(rows.map((row) => row.slice(column))).toEqual([
      'dangerous content: destructive.root-wipe-request',
      '429 RateLimitError',
      'IncompleteStream',
      'pii.email, secrets.bearer-token',
      '',
      `dangerous content: ${'x'.repeat(39)}😀…`,
    ])
    expect(out).toContain('1000000000→?')
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

  it('--follow reads a file truncated, rewritten, recreated or rotated between two polls from its start, missing nothing', async () => {
    const path = join(dir, 'follow-replaced.jsonl')
    const ev = (n: number) => `${JSON.stringify({ event: `e${String(n).padStart(2, '0')}`, channel: 'LLM', agent_id: 'a', timestamp: new Date(now - 1000 + n).toISOString(), data: {} })}\n`
    writeFileSync(path, ev(1))
    const { stop, following, printed, waitFor } = followJson(path)
    await waitFor('e01')
    // Each step happens at once (synchronously), that is, between two polls of the follower.
    appendFileSync(path, ev(2))
    await waitFor('e02')
    truncateSync(path, 0)
    appendFileSync(path, ev(3)) // shorter than before
    await waitFor('e03')
    truncateSync(path, 0)
    appendFileSync(path, ev(4) + ev(5)) // longer than before: the size alone does not show it was rewritten
    await waitFor('e05')
    rmSync(path)
    writeFileSync(path, ev(6) + ev(7) + ev(8)) // a new file, often with the inode of the old one
    await waitFor('e08')
    appendFileSync(path, ev(9))
    renameSync(path, `${path}.1`) // rotated before the follower saw e09
    writeFileSync(path, ev(10))
    await waitFor('e10')
    stop()
    expect(await following).toBe(0)
    expect(printed()).toEqual(Array.from({ length: 10 }, (_, i) => `e${String(i + 1).padStart(2, '0')}`))
  })

  it('--follow prints the events a cleanup keeps once, and goes on with the new ones', async () => {
    const path = join(dir, 'follow-cleanup.jsonl')
    const ev = (n: number, timestamp: string) => `${JSON.stringify({ event: `e${n}`, channel: 'LLM', agent_id: 'a', timestamp, data: { pad: 'x'.repeat(300) } })}\n`
    const old = new Date(now - 90 * 86_400_000).toISOString()
    writeFileSync(path, ev(1, old) + ev(2, old) + ev(3, new Date(now).toISOString()) + ev(4, new Date(now + 1).toISOString()))
    const { stop, following, printed, waitFor } = followJson(path)
    await waitFor('e4')
    expect(await cleanupOldEvents(30, { file: path })).toBe(2)
    await new Promise((r) => setTimeout(r, 450)) // two polls of the rewritten file
    appendFileSync(path, ev(5, new Date(now + 2).toISOString()))
    await waitFor('e5')
    stop()
    expect(await following).toBe(0)
    expect(printed()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5'])
  })

  it('a log path that is a directory, ends with a slash or is padded is named with where it came from (--file or CYLESTIO_EVENTS_FILE)', async () => {
    const before = process.env.CYLESTIO_EVENTS_FILE
    try {
      process.env.CYLESTIO_EVENTS_FILE = dir
      for (const command of [eventsCommand, statsCommand]) {
        const fromEnv = await run(command, [])
        expect(fromEnv.code).toBe(1)
        expect(fromEnv.err).toContain(`${dir} is a directory, not an event log file (from CYLESTIO_EVENTS_FILE, which takes the log file's path)`)
        expect((await run(command, ['--file', dir])).err).toContain("(--file takes the log file's path)")
      }
      process.env.CYLESTIO_EVENTS_FILE = './logs/'
      const slash = await run(eventsCommand, [])
      expect(slash).toMatchObject({ code: 1, err: expect.stringContaining('cylestio-monitor events: CYLESTIO_EVENTS_FILE ends with a slash ("./logs/"), so it names a folder') })
      expect((await run(statsCommand, ['--file', ' x.jsonl'])).err).toContain('cylestio-monitor stats: --file starts or ends with blanks')
    } finally {
      if (before === undefined) delete process.env.CYLESTIO_EVENTS_FILE
      else process.env.CYLESTIO_EVENTS_FILE = before
    }
  })

  it('--follow prints nothing twice when a cleanup removes the last line it printed', async () => {
    const path = join(dir, 'follow-cleanup-last.jsonl')
    const ev = (n: number, agent: string) => `${JSON.stringify({ event: `e${n}`, channel: 'LLM', agent_id: agent, timestamp: '2020-01-01T00:00:00.000Z', data: {} })}\n`
    writeFileSync(path, ev(1, 'b') + ev(2, 'b') + ev(3, 'a'))
    const { stop, following, printed, waitFor } = followJson(path)
    await waitFor('e3')
    expect(await cleanupOldEvents(0, { file: path, agentId: 'a' })).toBe(1)
    await new Promise((r) => setTimeout(r, 450))
    appendFileSync(path, ev(4, 'a'))
    await waitFor('e4')
    stop()
    expect(await following).toBe(0)
    expect(printed()).toEqual(['e1', 'e2', 'e3', 'e4'])
  })

  it('--follow prints every event once when the log rotates twice between two polls', async () => {
    const path = join(dir, 'follow-rotate-twice.jsonl')
    const log = new JsonlEventLog({ path, maxBytes: 600, keep: 10 })
    const write = (n: number) => {
      const e = { event: `e${n}`, channel: 'LLM', level: 'info', agent_id: 'a', timestamp: new Date(now + n).toISOString(), data: { pad: 'x'.repeat(150) } } as MonitorEvent
      log.write(JSON.stringify(e), e)
      log.flushSync()
    }
    write(1)
    const { stop, following, printed, waitFor } = followJson(path)
    await waitFor('e1')
    for (let n = 2; n <= 8; n++) write(n) // about 300 bytes each: two rotations within one poll
    await waitFor('e8')
    stop()
    log.close()
    expect(await following).toBe(0)
    expect(printed()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8'])
  })

  it('parseWhen reads durations and ISO dates', () => {
    expect(parseWhen('10m', 1_000_000).getTime()).toBe(1_000_000 - 600_000)
    expect(parseWhen('2h', 10_000_000).getTime()).toBe(10_000_000 - 7_200_000)
    expect(parseWhen('7d', 1e12).getTime()).toBe(1e12 - 7 * 86_400_000)
    expect(parseWhen('2026-12-03T15:28:16.123Z').toISOString()).toBe('2026-12-03T15:28:16.123Z')
    expect(() => parseWhen('soon')).toThrow(/soon/)
    expect(parseWhen('2024-02-29').toISOString()).toBe('2024-02-29T00:00:00.000Z')
  })

  it("a time without a zone is UTC, as the table prints times, whatever the machine's zone", () => {
    const before = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      expect(parseWhen('2026-12-03T15:00').toISOString()).toBe('2026-12-03T15:00:00.000Z')
      expect(parseWhen('2026-12-03 15:00:30').toISOString()).toBe('2026-12-03T15:00:30.000Z')
      expect(parseWhen('2026-12-03T15:00:00+01:00').toISOString()).toBe('2026-12-03T14:00:00.000Z')
      expect(parseWhen('2026-12-03').toISOString()).toBe('2026-12-03T00:00:00.000Z')
    } finally {
      if (before === undefined) delete process.env.TZ
      else process.env.TZ = before
    }
  })

  it('--since and --until refuse days a month does not have, instead of rolling over to the next month', async () => {
    expect(() => parseWhen('2026-02-30')).toThrow('"2026-02-30" is not a date: 2026-02 has no day 30')
    expect(() => parseWhen('2025-02-29T10:00:00Z')).toThrow(/has no day 29/)
    expect(() => parseWhen('2026-04-31')).toThrow(/has no day 31/)
    const { code, err } = await run(eventsCommand, ['--file', file, '--since', '2026-02-30'])
    expect(code).toBe(2)
    expect(err).toContain('2026-02 has no day 30')
  })
})

describe('events --since and --until', () => {
  it('a --since not before --until is refused with exit code 2, saying both times', async () => {
    const { code, err } = await run(eventsCommand, ['--file', file, '--since', '1h', '--until', '2h'])
    expect(code).toBe(2)
    expect(err).toMatch(/^cylestio-monitor events: --since \(\S+Z\) is not before --until \(\S+Z\): no event can match\n/)
    const ok = await run(eventsCommand, ['--file', file, '--since', '2h', '--until', '1h', '--json'])
    expect(ok.code).toBe(0)
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

  it("counts a call's end written without agent or model (another writer's line) under 'unknown'", async () => {
    const path = join(dir, 'no-agent.jsonl')
    writeFileSync(path, `{"event":"LLM_call_finish","channel":"LLM"}\n${JSON.stringify({ ...makeEvent(1), event: 'LLM_call_finish', agent_id: 'bot', data: { model: 'm', duration_ms: 3 } })}\n`)
    const { code, out, err } = await run(statsCommand, ['--file', path])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(out.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([['bot', 'm', '1'], ['unknown', 'unknown', '1']])
    const json = JSON.parse((await run(statsCommand, ['--file', path, '--json'])).out) as Array<{ agent_id: unknown; calls: number }>
    expect(json.map((r) => [r.agent_id, r.calls])).toEqual([['bot', 1], ['unknown', 1]])
  })
})

describe('text from the log on the terminal', () => {
  /** The model of a finish event comes from the upstream server's response: it controls these bytes. */
  const hostile: MonitorEvent[] = [
    { ...makeEvent(1), event: 'LLM_call_finish', agent_id: 'bot\nFAKE-ROW  admin  LLM_call_blocked', data: { model: 'm', duration_ms: 3 } },
    { ...makeEvent(2), event: 'LLM_call_finish', agent_id: 'ok', data: { model: '\u001b[2J\u001b]0;pwned\u0007claude\u009b31m\u202etxt.exe', duration_ms: 3 } },
    { ...makeEvent(3), event: 'LLM_call_finish', agent_id: '日本語エージェント', data: { model: 'm', duration_ms: 3 } },
  ]
  const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/

  function hostileLog(): string {
    const path = join(dir, 'hostile.jsonl')
    writeFileSync(path, hostile.map((e) => `${JSON.stringify(e)}\n`).join(''))
    return path
  }

  it('events and stats show control characters escaped: no fake rows, no escape sequences, no bidi overrides', async () => {
    const path = hostileLog()
    for (const [command, argv] of [[eventsCommand, []], [statsCommand, []]] as const) {
      const { code, out } = await run(command, ['--file', path, ...argv])
      expect(code).toBe(0)
      expect(out).not.toMatch(CONTROLS)
      const lines = out.trimEnd().split('\n')
      expect(lines).toHaveLength(1 + hostile.length) // the newline in the agent id made no row of its own
      expect(out).toContain('bot\\nFAKE-ROW')
      expect(out).toContain('\\x1b[2J\\x1b]0;pwned\\x07claude\\x9b31m\\u202etxt.exe')
    }
  })

  it('--json escapes what JSON leaves raw (C1, bidi), and parses to the same events', async () => {
    const path = hostileLog()
    const { out } = await run(eventsCommand, ['--file', path, '--json'])
    expect(out).not.toMatch(CONTROLS)
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(hostile)
    const stats = await run(statsCommand, ['--file', path, '--json'])
    expect(stats.out).not.toMatch(CONTROLS)
    expect((JSON.parse(stats.out) as Array<{ model: string }>).map((r) => r.model)).toContain(hostile[1]!.data.model)
  })

  it('columns line up after wide (CJK) characters', async () => {
    const { out } = await run(eventsCommand, ['--file', hostileLog()])
    const lines = out.trimEnd().split('\n')
    // The EVENT column starts at the same terminal column on every row.
    const columnOf = (line: string, text: string) => {
      let width = 0
      for (const ch of line.slice(0, line.indexOf(text))) width += /[\u3000-\u9fff]/.test(ch) ? 2 : 1
      return width
    }
    const at = columnOf(lines[0]!, 'EVENT')
    for (const line of lines.slice(1)) expect(columnOf(line, 'LLM_call_finish')).toBe(at)
  })
})

describe('what the command line refuses', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
  /** The built CLI in a child process; `timeout` ends one that would wait forever. */
  const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', timeout: 20_000 })

  it('an empty --channel, --type, --agent or --file is a usage error naming the option (exit 2), not a filter that matches nothing', () => {
    for (const [command, option] of [['events', '--channel'], ['events', '--type'], ['events', '--agent'], ['stats', '--agent'], ['events', '--file'], ['stats', '--file']]) {
      for (const args of [[option, ''], [`${option}=`]]) {
        const { status, stdout, stderr } = cli([command, ...(option === '--file' ? [] : ['--file', file]), ...args])
        expect(status).toBe(2)
        expect(stdout).toBe('')
        expect(stderr).toContain(`cylestio-monitor ${command}: ${option} needs a value, not an empty string`)
      }
    }
  })

  it('a pipe or a device is refused by every command, naming it, as not a regular file (exit 1), not read as an empty log', () => {
    // `--file <(cat log)`: a pipe that holds the whole log.
    for (const args of [['events'], ['events', '--limit', '0'], ['events', '--follow'], ['stats']]) {
      const { status, stdout, stderr } = spawnSync('bash', ['-c', '"$0" "$1" "${@:3}" --file <(cat "$2")', process.execPath, join(root, 'dist', 'cli.js'), file, ...args], { encoding: 'utf8', timeout: 20_000 })
      expect(stdout).toBe('')
      expect(stderr).toMatch(new RegExp(`^cylestio-monitor ${args[0]}: /dev/fd/\\d+ is a pipe, not a regular file: the event log must be a file`))
      expect(status).toBe(1)
    }
    // `cat log | cylestio-monitor events --file /dev/stdin`
    const stdin = spawnSync('bash', ['-c', 'cat "$2" | "$0" "$1" events --file /dev/stdin', process.execPath, join(root, 'dist', 'cli.js'), file], { encoding: 'utf8', timeout: 20_000 })
    expect(stdin).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('/dev/stdin is a pipe, not a regular file') })
    expect(cli(['stats', '--file', '/dev/null'])).toMatchObject({ status: 1, stderr: expect.stringContaining('/dev/null is a device, not a regular file') })
  })

  it('a pipe among the rotated files is refused too, not waited on (events, stats)', () => {
    const logDir = join(dir, 'fifo-rotated')
    mkdirSync(logDir)
    const log = join(logDir, 'events.jsonl')
    writeFileSync(log, `${JSON.stringify(events[0])}\n`)
    execFileSync('mkfifo', [`${log}.1`])
    for (const args of [['events'], ['events', '--limit', '0'], ['stats']]) {
      expect(cli([...args, '--file', log])).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining(`${log}.1 is a pipe, not a regular file: the event log must be a file`) })
    }
  })

  it('--follow that meets a file of the log it cannot read says why, once (no double close hiding it)', async () => {
    const logDir = join(dir, 'follow-unreadable')
    mkdirSync(logDir)
    const log = join(logDir, 'events.jsonl')
    writeFileSync(log, `${JSON.stringify(events[0])}\n`)
    const follower = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'events', '--follow', '--json', '--file', log])
    let stdout = ''
    let stderr = ''
    follower.stdout.on('data', (d) => (stdout += d))
    follower.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => follower.on('exit', resolve))
    for (const deadline = Date.now() + 10_000; stdout === '' && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20))
    // A rotation whose first rotated name is a folder: the follower must read the folder to go on.
    mkdirSync(`${log}.1`)
    renameSync(log, `${log}.2`)
    writeFileSync(log, `${JSON.stringify(events[1])}\n`)
    const timer = setTimeout(() => follower.kill('SIGINT'), 10_000)
    const code = await exited
    clearTimeout(timer)
    expect(code).toBe(1)
    expect(stderr).toContain(`${log}.1 is a directory, not an event log file`)
    expect(stderr).not.toContain('EBADF')
  })

  it('--follow on a path whose folder does not exist fails at once, naming the folder (exit 1), instead of waiting for ever', () => {
    const missing = join(dir, 'no-such-folder', 'events.jsonl')
    expect(cli(['events', '--follow', '--file', missing])).toMatchObject({
      status: 1,
      stdout: '',
      stderr: `cylestio-monitor events: cannot follow ${missing}: there is no folder ${join(dir, 'no-such-folder')}\n`,
    })
    expect(cli(['events', '--follow', '--file', join(file, 'events.jsonl')])).toMatchObject({ status: 1, stderr: expect.stringContaining(`${file} is not a folder`) })
  })
})

describe('warnings of the command line', () => {
  /** Runs the built CLI (test/global-setup.ts builds it before the tests). */
  const cli = (args: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((done, fail) => {
      const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
      execFile(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
        error && error.code !== 0 ? fail(error) : done({ stdout, stderr }),
      )
    })

  it('no command is wrong usage: the usage on stderr, exit 2', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
    const { status, stdout, stderr } = spawnSync(process.execPath, [join(root, 'dist', 'cli.js')], { encoding: 'utf8' })
    expect(status).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('Usage: cylestio-monitor <command>')
  })

  it('a query that skips a bad line warns in terms of the query, not of a monitored call', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
    const path = join(dir, 'bad-line-query.jsonl')
    writeFileSync(path, `not json\n${JSON.stringify(events[0])}\n`)
    const script = `import { getRecentEvents } from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'db.js')).href)}
      console.log((await getRecentEvents({ file: ${JSON.stringify(path)} })).length)`
    const { stdout, stderr } = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(stdout.trim()).toBe('1')
    expect(stderr).toContain('(the query goes on without it;')
    expect(stderr).not.toContain('monitored call')
  })

  it('a reader that goes away ends the command quietly (events --json | head -1)', async () => {
    const path = join(dir, 'many.jsonl')
    writeFileSync(path, Array.from({ length: 5000 }, (_, i) => `${JSON.stringify(makeEvent(i))}\n`).join(''))
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
    const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'events', '--json', '--limit', '5000', '--file', path], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise((done) => child.on('close', (c) => done(c)))
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })

  it('name each bad line as file:line, in file order whichever way the log is read, quoting it whole when short', async () => {
    const path = join(dir, 'bad-places.jsonl')
    const ok = (n: number) => JSON.stringify({ ...events[0], call_id: `c${n}`, data: { text: 'déjà vu – 日本語 '.repeat(n) } })
    const long = `{"event":"x","data":[${'1,'.repeat(30)}1]}`
    // The rotated file (older) has bad lines at 2 and 4; the log itself at 1, 3 and 5 (after lines of
    // multibyte text, so that bytes and characters differ), and a torn last line.
    writeFileSync(`${path}.1`, [ok(1), 'garbage', ok(2), '[1,2]', ok(3)].join('\n') + '\n')
    writeFileSync(path, ['not json', ok(4), '{}', ok(5), long, ok(6)].join('\n') + '\n{"event":"torn')
    const expected = [
      `${path}.1:2: skipped a line that is not JSON (garbage)`,
      `${path}.1:4: skipped a line that is not an event ([1,2])`,
      `${path}:1: skipped a line that is not JSON (not json)`,
      `${path}:3: skipped a line that is not an event ({})`,
      `${path}:5: skipped a line that is not an event (${long.slice(0, 40)}…)`,
      `${path}:7: skipped a torn last line (a writer stopped mid-line)`,
    ].map((w) => `cylestio-monitor: warning: ${w}`)
    // Backwards (--limit), forwards decoding whole chunks (--limit 0), and forwards through a text search.
    for (const args of [[], ['--limit', '0'], ['--limit', '0', '--since', '2000-01-01']]) {
      const { stdout, stderr } = await cli(['events', '--json', '--file', path, ...args])
      expect(stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as MonitorEvent).call_id)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
      expect(stderr.trimEnd().split('\n')).toEqual(expected)
    }
    // The lowdb adapter and the queries of the library (a text search, that decodes whole chunks and skips
    // lines of multibyte text) name the first one, also by its line.
    const script = `import { JsonlEventFile, searchEvents } from ${JSON.stringify(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../..', 'dist', 'db.js')).href)}
      process.argv[1] === 'lowdb' ? await new JsonlEventFile(${JSON.stringify(path)}).read() : await searchEvents('garbage', { file: ${JSON.stringify(path)} })`
    for (const reader of ['lowdb', 'search']) {
      const { stderr } = spawnSync(process.execPath, ['--input-type=module', '-e', script, reader], { encoding: 'utf8' })
      expect(stderr).toContain(`${path}.1:2: skipped a line that is not JSON (garbage) (the query goes on without it;`)
    }
  })

  it('name every bad line (up to ten of a kind, then how many more), in terms of the command, escaped', async () => {
    const path = join(dir, 'bad-lines.jsonl')
    const bad = Array.from({ length: 13 }, (_, i) => `not json ${i}\u001b[2J`)
    writeFileSync(path, [JSON.stringify(events[0]), ...bad, '{"event":5}', JSON.stringify(events[1])].join('\n') + '\n')
    for (const command of ['events', 'stats']) {
      const { stdout, stderr } = await cli([command, '--file', path])
      if (command === 'events') expect(stdout.trimEnd().split('\n')).toHaveLength(3)
      expect(stderr).not.toContain('getMonitorHealth')
      expect(stderr).not.toContain('monitored call')
      expect(stderr).not.toContain('\u001b')
      if (command === 'stats') continue // it skips lines that cannot be calls on their bytes, unparsed
      // The first ten in file order, though --limit 100 reads the log backwards.
      const lines = stderr.trimEnd().split('\n')
      expect(lines).toHaveLength(11)
      expect(lines[0]).toBe(`cylestio-monitor: warning: ${path}:2: skipped a line that is not JSON (not json 0\\x1b[2J)`)
      expect(lines[9]).toBe(`cylestio-monitor: warning: ${path}:11: skipped a line that is not JSON (not json 9\\x1b[2J)`)
      expect(lines[10]).toBe('cylestio-monitor: warning: 4 more warnings of this kind (event-log-read) not shown')
    }
  })
})
