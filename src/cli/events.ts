import { closeSync, type Stats, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { MonitorEvent } from '../types.js'
import { defaultEventsPath, eventsFileFromEnv, logFiles, logPathProblem, specialKind } from '../store/files.js'
import { type AgentStats, type EventFilter, getAgentStats, queryEvents } from '../store/queries.js'
import { holdFaults, releaseFaults } from '../faults.js'
import { printableJson } from '../printable.js'
import { SkippedLineError } from '../store/skipped-line.js'
import { follow, isOpenFile, type OpenLogFile, openLogFile } from './follow.js'
import { formatRow, table } from './table.js'

/** Where a command prints, and what stops `--follow` (SIGINT when not given). Tests pass their own. */
export interface CommandIO {
  stdout?: { write(text: string): unknown }
  stderr?: { write(text: string): unknown }
  signal?: AbortSignal
}

const EVENTS_HELP = `Usage: cylestio-monitor events [options]

Prints events of the log, oldest first (the newest --limit of those that match).
  --channel <name>   only this channel (LLM, SYSTEM, …)
  --type <event>     only this event type (LLM_call_blocked, …)
  --agent <id>       only this agent
  --since <when>     from this time: an ISO date (UTC unless it has a zone) or a duration ago
                     (30s, 10m, 2h, 7d, 2w)
  --until <when>     before this time (same forms)
  --limit <n>        the newest n matching events (default 100; 0 for all)
  --json             one JSON event per line instead of a table
  --follow, -f       keep printing new events as they are written, until Ctrl-C
  --file <path>      the event log (default $CYLESTIO_EVENTS_FILE or ./cylestio-events.jsonl)
`

const STATS_HELP = `Usage: cylestio-monitor stats [options]

Per agent and model: calls, blocked, errors, tokens in/out, mean and p95 duration.
  --agent <id>       only this agent
  --json             the rows as JSON
  --file <path>      the event log (default $CYLESTIO_EVENTS_FILE or ./cylestio-events.jsonl)
`

/**
 * `cylestio-monitor events`: prints events of the log as a table or JSON lines; `--follow` keeps printing.
 * Returns the exit code: 0, 1 when there is no log, 2 for a usage error.
 * @example await eventsCommand(['--type', 'LLM_call_blocked', '--since', '2h'])
 */
export async function eventsCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const out = io.stdout ?? process.stdout
  const err = io.stderr ?? process.stderr
  let filter: EventFilter
  let limit: number | undefined
  let values
  try {
    ;({ values } = parseArgs({
      args: joinNegativeValues(argv, ['--limit', '--since', '--until']),
      options: {
        channel: { type: 'string' },
        type: { type: 'string' },
        agent: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
    refuseEmpty(values, ['channel', 'type', 'agent', 'file'])
    filter = {
      channel: values.channel,
      type: values.type,
      agentId: values.agent,
      since: values.since === undefined ? undefined : parseWhen(values.since),
      until: values.until === undefined ? undefined : parseWhen(values.until),
    }
    // `--since 1h --until 2h` (both "ago") is an easy slip: it selects nothing, which would read as "no events".
    if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) {
      throw new Error(`--since (${filter.since.toISOString()}) is not before --until (${filter.until.toISOString()}): no event can match`)
    }
    // Digits only: `Number()` would take '' as 0 (everything), '1e2' as 100 and '0x10' as 16.
    if (values.limit !== undefined && !/^\d+$/.test(values.limit.trim())) {
      throw new Error(`--limit must be a whole number (0 for all), not "${values.limit}"`)
    }
    limit = values.limit === undefined ? 100 : Number(values.limit)
    if (!Number.isSafeInteger(limit)) throw new Error(`--limit is too large: "${values.limit}"`)
    if (limit === 0) limit = undefined
  } catch (error) {
    err.write(`cylestio-monitor events: ${(error as Error).message}\n\n${EVENTS_HELP}`)
    return 2
  }
  if (values.help) {
    out.write(EVENTS_HELP)
    return 0
  }
  const file = logFile('events', values.file, err)
  if (file === undefined) return 1
  if (values.follow) {
    // A log not made yet is waited for; a folder is never made by the follower, so waiting for one
    // (a mistyped path, most often) would wait forever, saying nothing.
    const folder = dirname(file)
    const kind = statIfAny(folder)
    if (!kind?.isDirectory()) {
      err.write(`cylestio-monitor events: cannot follow ${file}: ${kind ? `${folder} is not a folder` : `there is no folder ${folder}`}\n`)
      return 1
    }
  }
  if (!values.follow && logFiles(file).length === 0) {
    err.write(`cylestio-monitor events: no event log at ${file}\n`)
    return 1
  }
  const print = values.json ? (e: MonitorEvent) => out.write(`${printableJson(JSON.stringify(e))}\n`) : undefined
  // A query with a limit reads the log backwards: its warnings about bad lines are held, and shown in file order.
  holdFaults(inLogOrder(file))
  let events: MonitorEvent[]
  let start: OpenLogFile | null = null
  try {
    if (values.follow) ({ events, start } = await queryToFollow(filter, file, limit))
    else events = await queryEvents(filter, file, limit)
  } finally {
    releaseFaults()
  }
  if (print) events.forEach(print)
  else out.write(eventTable(events, values.follow === true))
  if (values.follow) await follow(file, filter, start, print ?? ((e) => out.write(eventRow(e))), io.signal)
  return 0
}

/** Skipped lines in the order of the log: its rotated files oldest first, then `main`; in each, by offset. */
function inLogOrder(main: string): (a: unknown, b: unknown) => number {
  const place = (e: unknown): [number, number] => {
    if (!(e instanceof SkippedLineError)) return [Infinity, Infinity] // after the lines, in their turn
    const rotated = e.file.startsWith(`${main}.`) ? Number(e.file.slice(main.length + 1)) : Number.NaN
    return [e.file === main ? 0 : Number.isNaN(rotated) ? Infinity : -rotated, e.at]
  }
  return (a, b) => {
    const [fileA, atA] = place(a)
    const [fileB, atB] = place(b)
    return fileA - fileB || atA - atB
  }
}

/** Tries at a first query that no rotation came across, before `--follow` goes on from it. */
const QUERY_ATTEMPTS = 5

/**
 * The first query of `--follow`, and the file it read last, open, at the offset it read to: the file at
 * `path` is opened before the query and looked at after it; when it is still there, it is the one the
 * query read. When a rotation came in between (or the log was made or replaced), the query is made again,
 * before anything is printed; after QUERY_ATTEMPTS the last one stands.
 */
async function queryToFollow(filter: EventFilter, path: string, limit: number | undefined): Promise<{ events: MonitorEvent[]; start: OpenLogFile | null }> {
  for (let attempt = 1; ; attempt++) {
    const start = openLogFile(path)
    const cursor = { offset: 0 }
    const events = await queryEvents(filter, path, limit, cursor)
    const now = statSync(path, { throwIfNoEntry: false })
    if ((start === null ? now === undefined : isOpenFile(now, start)) || attempt === QUERY_ATTEMPTS) {
      if (start !== null) start.offset = cursor.offset
      return { events, start }
    }
    if (start !== null) closeSync(start.fd)
  }
}

/**
 * `cylestio-monitor stats`: the per-agent, per-model table (or JSON). Returns the exit code.
 * @example await statsCommand(['--agent', 'my_agent', '--json'])
 */
export async function statsCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const out = io.stdout ?? process.stdout
  const err = io.stderr ?? process.stderr
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        agent: { type: 'string' },
        json: { type: 'boolean' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
    refuseEmpty(values, ['agent', 'file'])
  } catch (error) {
    err.write(`cylestio-monitor stats: ${(error as Error).message}\n\n${STATS_HELP}`)
    return 2
  }
  if (values.help) {
    out.write(STATS_HELP)
    return 0
  }
  const file = logFile('stats', values.file, err)
  if (file === undefined) return 1
  if (logFiles(file).length === 0) {
    err.write(`cylestio-monitor stats: no event log at ${file}\n`)
    return 1
  }
  const rows = await getAgentStats({ agentId: values.agent, file })
  if (values.json) {
    out.write(`${printableJson(JSON.stringify(rows, null, 2))}\n`)
    return 0
  }
  out.write(statsTable(rows))
  return 0
}

/**
 * The log a command reads: `--file`, else as for `monitor()`; undefined (the problem written to `err`)
 * when that path ends with a slash, is padded with blanks, is a directory or is not a regular file.
 */
function logFile(command: string, given: string | undefined, err: { write(text: string): unknown }): string | undefined {
  const problem = logPathProblem(given ?? eventsFileFromEnv() ?? '.')
  if (problem !== undefined) {
    err.write(`cylestio-monitor ${command}: ${given === undefined ? 'CYLESTIO_EVENTS_FILE' : '--file'} ${problem}\n`)
    return undefined
  }
  const file = resolve(given ?? defaultEventsPath())
  const st = statIfAny(file)
  if (st?.isDirectory()) {
    err.write(`cylestio-monitor ${command}: ${file} is a directory, not an event log file (${whereFrom(given)})\n`)
    return undefined
  }
  // A pipe (`--file <(…)`), /dev/stdin or a device cannot be read from its end (`--limit`), twice, or from
  // an offset (`--follow`), and has no rotated files: refused, rather than read as an empty log.
  if (st !== undefined && !st.isFile()) {
    err.write(`cylestio-monitor ${command}: ${file} is ${specialKind(st)}, not a regular file: the event log must be a file (save it to one first)\n`)
    return undefined
  }
  return file
}

/** What `path` is, or undefined when it cannot be looked at (missing, a file on the way: ENOTDIR, EACCES). */
function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/** An empty filter (`--agent ''`, a variable left unset) would match no event and look like an empty log. */
function refuseEmpty(values: Record<string, unknown>, names: string[]): void {
  for (const name of names) if (values[name] === '') throw new Error(`--${name} needs a value, not an empty string`)
}

/** Where the log's path came from, for a message about it. */
function whereFrom(file: string | undefined): string {
  if (file !== undefined) return "--file takes the log file's path"
  return eventsFileFromEnv() === undefined ? 'the default log path' : "from CYLESTIO_EVENTS_FILE, which takes the log file's path"
}

/** An ISO date, or a duration before now: `30s`, `10m`, `2h`, `7d`, `2w`. */
export function parseWhen(text: string, now = Date.now()): Date {
  const ago = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim())
  if (ago) {
    const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 604_800e3 }[ago[2] as 'ms']
    const date = new Date(now - Number(ago[1]) * unit)
    if (Number.isNaN(date.getTime())) throw new Error(`"${text}" reaches before any date JavaScript can represent`)
    return date
  }
  // An ISO date (`2026-12-03`, `2026-12-03T15:00:00Z`): `Date.parse` alone also takes '0' (the year 2000) or '1 2 3'.
  const iso = /^(\d{4})-(\d{2})(?:-(\d{2}))?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim())
  // Without a zone a time is UTC, as the table prints it (`Date.parse` would take it as local time,
  // and a date alone as UTC).
  const t = iso ? Date.parse(iso[4] !== undefined && iso[7] === undefined ? `${text.trim().replace(' ', 'T')}Z` : text.trim()) : Number.NaN
  if (Number.isNaN(t)) throw new Error(`"${text}" is neither an ISO date (2026-12-03, 2026-12-03T15:00:00Z) nor a duration like 10m, 2h, 7d`)
  // `Date.parse` rolls 2026-02-30 over to March 2: a day the month does not have is an error.
  const [year, month, day] = [Number(iso![1]), Number(iso![2]), iso![3] === undefined ? 1 : Number(iso![3])]
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    throw new Error(`"${text}" is not a date: ${iso![3] === undefined ? `there is no month ${month}` : `${iso![1]}-${iso![2]} has no day ${day}`}`)
  }
  return new Date(t)
}

const EVENT_COLUMNS = ['TIME (UTC)', 'AGENT', 'EVENT', 'ALERT', 'MODEL', 'TOKENS', 'DURATION', 'NOTE']
/** Widths used when rows arrive one by one (`--follow`). */
const FOLLOW_WIDTHS = [23, 14, 18, 10, 26, 12, 8, 0]
/** The NOTE column is cut to this many characters (`--json` has every field). */
const NOTE_WIDTH = 60

function eventCells(e: MonitorEvent): string[] {
  const data = e.data ?? {}
  const usage = data.usage as { input_tokens?: number; output_tokens?: number } | undefined
  // Counts only: a log line written by another tool may hold anything there.
  const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? String(n) : '?')
  const tokens = usage !== null && typeof usage === 'object' && (usage.input_tokens !== undefined || usage.output_tokens !== undefined)
    ? `${usage.input_tokens === undefined ? 0 : count(usage.input_tokens)}→${usage.output_tokens === undefined ? 0 : count(usage.output_tokens)}`
    : ''
  return [
    String(e.timestamp ?? '').replace('T', ' ').replace('Z', ''),
    String(e.agent_id ?? ''),
    String(e.event),
    typeof data.alert === 'string' ? data.alert : '',
    typeof data.model === 'string' ? data.model : '',
    tokens,
    typeof data.duration_ms === 'number' ? `${Math.round(data.duration_ms)} ms` : '',
    note(e.event, data),
  ]
}

/**
 * Why an event deserves a look, in a few words: the reason of a block, the status and name of an error,
 * the rules that flagged a call.
 */
function note(event: string, data: Record<string, unknown>): string {
  let text = ''
  if (event === 'LLM_call_blocked' && typeof data.reason === 'string') text = data.reason
  else if (event === 'LLM_call_error' && data.error !== null && typeof data.error === 'object') {
    const { status, name } = data.error as { status?: unknown; name?: unknown }
    text = [typeof status === 'number' ? String(status) : '', typeof name === 'string' ? name : ''].filter(Boolean).join(' ')
  } else if (data.alert === 'suspicious' || data.alert === 'dangerous') {
    const matches = (data.security as { matches?: unknown } | undefined)?.matches
    if (Array.isArray(matches)) text = [...new Set(matches.map((m) => (m as { rule_id?: unknown } | null)?.rule_id).filter((id) => typeof id === 'string'))].join(', ')
  }
  // Cut between characters, not inside one (an emoji is two UTF-16 units).
  const chars = [...text]
  return chars.length > NOTE_WIDTH ? `${chars.slice(0, NOTE_WIDTH - 1).join('')}…` : text
}

/**
 * `--limit -1` reads to `parseArgs` as a missing value followed by an option `-1`; joined as `--limit=-1`,
 * the value reaches the command's own check, which says what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const next = argv[i + 1]
    if (options.includes(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else out.push(arg)
  }
  return out
}

function eventRow(e: MonitorEvent): string {
  return formatRow(eventCells(e), FOLLOW_WIDTHS)
}

/** A table sized to its rows; when following, fixed widths so that later rows line up. */
function eventTable(events: MonitorEvent[], following: boolean): string {
  if (following) return [formatRow(EVENT_COLUMNS, FOLLOW_WIDTHS), ...events.map(eventRow)].join('')
  if (events.length === 0) return 'No matching events.\n'
  return table(EVENT_COLUMNS, events.map(eventCells))
}

function statsTable(rows: AgentStats[]): string {
  if (rows.length === 0) return 'No LLM calls in the log.\n'
  const ms = (n: number | null): string => (n === null ? '' : `${Math.round(n)}`)
  return table(
    ['AGENT', 'MODEL', 'CALLS', 'BLOCKED', 'ERRORS', 'TOKENS IN', 'TOKENS OUT', 'MEAN MS', 'P95 MS'],
    rows.map((r) => [r.agent_id, r.model, `${r.calls}`, `${r.blocked}`, `${r.errors}`, `${r.input_tokens}`, `${r.output_tokens}`, ms(r.mean_duration_ms), ms(r.p95_duration_ms)]),
  )
}
