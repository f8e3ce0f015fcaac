import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CylestioError } from '../errors.js'
import type { MonitorEvent } from '../types.js'
import { appendLines, openForAppend } from './append.js'
import { defaultEventsPath, logFiles, logPathProblem } from './files.js'
import { type CallEnd, finishReader } from './finish-fields.js'
import {
  closeLogFiles,
  type FieldNeedle,
  fieldBytes,
  fieldValue,
  lineValue,
  type Needle,
  type OpenLogFile,
  openLogFiles,
  parseLine,
  scanBytes,
  scanBytesBackward,
  scanLines,
} from './scan.js'
import { flushLog } from './sinks.js'

/**
 * Options every query takes. Queries stream the log (and its rotated files, oldest first) in chunks,
 * looking for their filter in the raw bytes and decoding only the lines that hold it, so they hold only
 * what they return. With `limit` they read backwards from the end and stop once `limit` events matched:
 * the newest events cost the same on any size of log. Results are in log order, oldest first.
 */
export interface QueryOptions {
  /** Only events of this agent. */
  agentId?: string
  /**
   * The event log to read.
   * @default process.env.CYLESTIO_EVENTS_FILE ?? './cylestio-events.jsonl', resolved against the working
   * directory where the process first used it (the log `monitor()` writes by default)
   */
  file?: string
  /** Return only the newest `limit` matching events (still oldest first). @default all (getRecentEvents: 100) */
  limit?: number
}

/** What an event must satisfy; every query and the CLI are this one scan with different filters. @internal */
export interface EventFilter {
  channel?: string
  type?: string
  agentId?: string
  /** Inclusive. */
  since?: Date
  /** Exclusive. */
  until?: Date
  /** Case-insensitive text anywhere in `data`. */
  text?: string
}

/**
 * A top-level `"channel":"LLM"` appears in the line verbatim (a quote inside a string value is escaped and
 * cannot fake it), or with blanks around the colon in lines other tools wrote: a field needle finds both.
 * The most selective field becomes the pre-filter; the parsed event is then checked in full.
 * @internal
 */
export function needleFor(filter: EventFilter): Needle | undefined {
  if (filter.type !== undefined) return { key: 'event', value: filter.type }
  if (filter.agentId !== undefined) return { key: 'agent_id', value: filter.agentId }
  if (filter.channel !== undefined) return { key: 'channel', value: filter.channel }
  if (filter.text !== undefined) return new RegExp(escapeRegExp(JSON.stringify(filter.text).slice(1, -1)), 'gi')
  return undefined
}

/** Whether a parsed event satisfies `filter`. @internal */
export function matches(event: MonitorEvent, filter: EventFilter): boolean {
  if (filter.type !== undefined && event.event !== filter.type) return false
  if (filter.agentId !== undefined && event.agent_id !== filter.agentId) return false
  if (filter.channel !== undefined && event.channel !== filter.channel) return false
  if (filter.since !== undefined || filter.until !== undefined) {
    const t = Date.parse(event.timestamp)
    if (filter.since !== undefined && !(t >= filter.since.getTime())) return false
    if (filter.until !== undefined && !(t < filter.until.getTime())) return false
  }
  if (filter.text !== undefined) {
    return JSON.stringify(event.data ?? {}).toLowerCase().includes(JSON.stringify(filter.text).slice(1, -1).toLowerCase())
  }
  return true
}

/** The time of a line, without parsing it when the monitor wrote it (NaN when the line has none). */
function lineTime(line: string): number {
  // The monitor writes the envelope's timestamp before `data`, as `"timestamp":"…"`: the first one is
  // the event's. Other lines (an object before it, written through the lowdb adapter; spaces; a BOM) are
  // parsed to read the right one.
  const i = line.indexOf('"timestamp":"')
  const nested = line.indexOf('{', 1)
  if (i !== -1 && (nested === -1 || nested > i)) {
    const t = Date.parse(line.slice(i + 13, line.indexOf('"', i + 13)))
    if (!Number.isNaN(t)) return t
  }
  const timestamp = (lineValue(line) as { timestamp?: unknown } | null | undefined)?.timestamp
  return typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN
}

/**
 * The events of the log at `file` that satisfy `filter`, oldest first; with `limit`, the newest `limit`.
 * Without a limit the files are read forward, and with a string pre-filter only the lines holding it
 * are decoded and parsed. With a limit they are read backwards from the end of the newest file and the
 * read stops once `limit` events matched, so the cost follows what is returned, not the log's size.
 * @internal
 */
export async function queryEvents(
  filter: EventFilter,
  file?: string,
  limit?: number,
  /** Receives the byte offset after the last complete line of the current file (where a follower resumes). */
  cursor?: { offset: number },
): Promise<MonitorEvent[]> {
  const main = resolve(file ?? defaultEventsPath())
  // What this process recorded is part of the answer: its queued events are written first.
  flushLog(main)
  const needle = needleFor(filter)
  const timed = filter.since !== undefined || filter.until !== undefined
  const since = filter.since?.getTime() ?? -Infinity
  const until = filter.until?.getTime() ?? Infinity
  /** The event on a line (at byte `at` of `path`) when it satisfies the filter, else null. */
  const accept = (line: string, path: string, at: number): MonitorEvent | null => {
    if (timed) {
      const t = lineTime(line)
      if (t < since || t >= until) return null
    }
    const event = parseLine(line, path, at)
    return event !== null && matches(event, filter) ? event : null
  }
  const files = openLogFiles(main)
  try {
    if (limit !== undefined) return await newestEvents(files, main, needle, accept, limit, cursor)
    const out: MonitorEvent[] = []
    for (const file of files) {
      const onLine = (line: string, at: number) => {
        const event = accept(line, file.path, at)
        if (event !== null) out.push(event)
      }
      const offset = await scanLines(file, needle, onLine)
      if (cursor && file.path === main) cursor.offset = offset
    }
    return out
  } finally {
    closeLogFiles(files)
  }
}

/** The newest `limit` lines of `files` (oldest first) that `accept` takes, read backwards from the newest. */
async function newestEvents(
  files: OpenLogFile[],
  main: string,
  needle: Needle | undefined,
  accept: (line: string, path: string, at: number) => MonitorEvent | null,
  limit: number,
  cursor: { offset: number } | undefined,
): Promise<MonitorEvent[]> {
  const newestFirst: MonitorEvent[] = []
  if (limit === 0) return newestFirst
  // A RegExp pre-filter (text search) is tested on each decoded line; a string or field one on the bytes.
  const regex = needle instanceof RegExp ? new RegExp(needle.source, needle.flags.replace('g', '')) : undefined
  const bytesNeedle = needle instanceof RegExp ? undefined : needle
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i]
    const { end, stopped } = await scanBytesBackward(file, bytesNeedle, (buf, start, stop, _hit, at) => {
      const line = buf.toString('utf8', start, stop)
      if (regex !== undefined && !regex.test(line)) return false
      const event = accept(line, file.path, at)
      if (event === null) return false
      newestFirst.push(event)
      return newestFirst.length >= limit
    })
    if (cursor && file.path === main) cursor.offset = end
    if (stopped) break
  }
  return newestFirst.reverse()
}

/**
 * Events of one channel (`'LLM'`, `'SYSTEM'`, …). With `limit`, the newest `limit` of them.
 * @example const llm = await getEventsByChannel('LLM', { agentId: 'my_agent', limit: 50 })
 */
export async function getEventsByChannel(channel: string, options: QueryOptions = {}): Promise<MonitorEvent[]> {
  checkQuery('getEventsByChannel', options, { channel })
  return queryEvents({ channel, agentId: options.agentId }, options.file, options.limit)
}

/**
 * Events of one type (`'LLM_call_blocked'`, …). With `limit`, the newest `limit` of them.
 * @example const blocked = await getEventsByType('LLM_call_blocked')
 */
export async function getEventsByType(type: string, options: QueryOptions = {}): Promise<MonitorEvent[]> {
  checkQuery('getEventsByType', options, { type })
  return queryEvents({ type, agentId: options.agentId }, options.file, options.limit)
}

/**
 * The newest `limit` events (default 100), oldest first.
 * @example const last = await getRecentEvents({ limit: 20 })
 */
export async function getRecentEvents(options: QueryOptions = {}): Promise<MonitorEvent[]> {
  checkQuery('getRecentEvents', options)
  return queryEvents({ agentId: options.agentId }, options.file, options.limit ?? 100)
}

/**
 * Events with `start <= timestamp < end`. With `limit`, the newest `limit` of them. A `start` after `end`
 * is an error (`QUERY_BAD_OPTION`): swapped bounds select nothing, which would read as "no events";
 * `start` equal to `end` is an empty window and returns none.
 * @example const today = await getEventsByTimeframe(new Date(Date.now() - 86_400_000), new Date())
 */
export async function getEventsByTimeframe(
  start: Date | string,
  end: Date | string,
  options: QueryOptions = {},
): Promise<MonitorEvent[]> {
  checkQuery('getEventsByTimeframe', options)
  const since = toDate('getEventsByTimeframe', 'start', start)
  const until = toDate('getEventsByTimeframe', 'end', end)
  if (since.getTime() > until.getTime()) {
    throw new CylestioError(
      'QUERY_BAD_OPTION',
      `getEventsByTimeframe(): 'start' (${since.toISOString()}) is after 'end' (${until.toISOString()}): no event can match; pass the earlier time first`,
    )
  }
  return queryEvents({ since, until, agentId: options.agentId }, options.file, options.limit)
}

/**
 * Events whose `data` (prompts, responses, errors, matches) contains `text`, case-insensitively.
 * With `limit`, the newest `limit` of them.
 * @example const leaks = await searchEvents('api_key')
 */
export async function searchEvents(text: string, options: QueryOptions = {}): Promise<MonitorEvent[]> {
  checkQuery('searchEvents', options, { text })
  return queryEvents({ text, agentId: options.agentId }, options.file, options.limit)
}

/** Calls of one agent with one model. */
export interface AgentStats {
  /** `'unknown'` when the events do not name one. */
  agent_id: string
  /** `'unknown'` when the events do not name one. */
  model: string
  /** Calls that ended: finished + errors + blocked. */
  calls: number
  blocked: number
  errors: number
  input_tokens: number
  output_tokens: number
  /** Over calls that carry `duration_ms` (finished and failed calls). */
  mean_duration_ms: number | null
  /** Nearest-rank 95th percentile of `duration_ms`. */
  p95_duration_ms: number | null
}

/** Lines of call events; what follows the value's start tells a start (skipped) from an end. */
const CALL_EVENT: FieldNeedle = { key: 'event', value: 'LLM_call_', prefix: true }
const CALL_EVENT_LENGTH = CALL_EVENT.value.length

/**
 * Per agent and model: calls, blocked, errors, tokens in/out, mean and p95 duration — read from the
 * events that end a call (`LLM_call_finish`, `LLM_call_error`, `LLM_call_blocked`). Start events are
 * skipped without being parsed. Memory: one number per timed call (for the p95), 8 bytes each.
 * Sorted by agent, then model. `limit` does not apply.
 * @example const [row] = await getAgentStats({ agentId: 'my_agent' })
 */
export async function getAgentStats(options: Pick<QueryOptions, 'agentId' | 'file'> = {}): Promise<AgentStats[]> {
  checkQuery('getAgentStats', options, {}, WHOLE_LOG_OPTIONS)
  const main = resolve(options.file ?? defaultEventsPath())
  flushLog(main)
  type Group = { stats: AgentStats; durations: Float64Array; n: number; sum: number }
  // Agent, then model: the names come from a cache, the same string objects line after line.
  const byAgent = new Map<string, Map<string, Group>>()
  const groups: Group[] = []
  const add = ({ agent_id: a, kind, model: m, input_tokens, output_tokens, duration_ms }: CallEnd): void => {
    if (kind !== 'LLM_call_finish' && kind !== 'LLM_call_error' && kind !== 'LLM_call_blocked') return
    // A line written by something else may name no agent or model: it is counted, under 'unknown'.
    const agent_id = typeof a === 'string' ? a : 'unknown'
    const model = typeof m === 'string' ? m : 'unknown'
    let models = byAgent.get(agent_id)
    if (models === undefined) byAgent.set(agent_id, (models = new Map()))
    let g = models.get(model)
    if (!g) {
      g = {
        stats: { agent_id, model, calls: 0, blocked: 0, errors: 0, input_tokens: 0, output_tokens: 0, mean_duration_ms: null, p95_duration_ms: null },
        durations: new Float64Array(64),
        n: 0,
        sum: 0,
      }
      models.set(model, g)
      groups.push(g)
    }
    g.stats.calls++
    if (kind === 'LLM_call_blocked') g.stats.blocked++
    if (kind === 'LLM_call_error') g.stats.errors++
    if (typeof input_tokens === 'number') g.stats.input_tokens += input_tokens
    if (typeof output_tokens === 'number') g.stats.output_tokens += output_tokens
    if (typeof duration_ms === 'number') {
      if (g.n === g.durations.length) {
        const grown = new Float64Array(g.n * 2)
        grown.set(g.durations)
        g.durations = grown
      }
      g.durations[g.n++] = duration_ms
      g.sum += duration_ms
    }
  }
  const readFinish = finishReader()
  const call: CallEnd = { agent_id: '', kind: '', model: undefined, input_tokens: undefined, output_tokens: undefined, duration_ms: undefined }
  const filter: EventFilter = { agentId: options.agentId }
  const agent = options.agentId === undefined ? undefined : fieldBytes({ key: 'agent_id', value: options.agentId })
  const files = openLogFiles(main)
  try {
    for (const file of files) {
      await scanBytes(file, CALL_EVENT, (buf, start, end, hit, at) => {
        // Start events (half the calls, and the biggest lines: the prompt) are skipped on their bytes.
        const kind = hit + CALL_EVENT_LENGTH
        if (kind + 6 <= end && buf[kind] === 0x73 && buf[kind + 1] === 0x74 && buf[kind + 2] === 0x61 && buf[kind + 5] === 0x22) return // start"
        if (agent !== undefined) {
          // The key is looked for in the line alone: in a line without one the search would go on through the chunk.
          const line = buf.subarray(start, end)
          if (fieldValue(line, 0, line.length, agent, line.indexOf(agent.key)) === -1) return
        }
        // Finish events (the other half) are read without being decoded; the rest, and any line not of the recorder's shape, parsed.
        if (buf[kind] === 0x66 && readFinish(buf, start, end, call)) {
          if (options.agentId !== undefined && call.agent_id !== options.agentId) return
          add(call)
          return
        }
        const event = parseLine(buf.toString('utf8', start, end), file.path, at)
        if (event === null || !matches(event, filter)) return
        const data = event.data ?? {}
        const usage = data.usage as { input_tokens?: unknown; output_tokens?: unknown } | null | undefined
        add({ agent_id: event.agent_id, kind: event.event, model: data.model, input_tokens: usage?.input_tokens, output_tokens: usage?.output_tokens, duration_ms: data.duration_ms })
      })
    }
  } finally {
    closeLogFiles(files)
  }
  const rows: AgentStats[] = []
  for (const g of groups) {
    if (g.n > 0) {
      const sorted = g.durations.subarray(0, g.n).sort()
      g.stats.mean_duration_ms = g.sum / g.n
      g.stats.p95_duration_ms = sorted[Math.ceil(0.95 * g.n) - 1]
    }
    rows.push(g.stats)
  }
  return rows.sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0))
}

/**
 * Removes events older than `days` days (of one agent with `agentId`) and returns how many were removed.
 * This is the one operation that rewrites the log: kept lines go to a temp file in the same directory
 * (mode 0600) that replaces the log by an atomic rename; rotated files left empty are deleted.
 *
 * Live appenders lose nothing: `JsonlEventLog` looks at the path before each batch and follows the new
 * file; lines appended to the old file while it was copied are carried over after the rename, and the old
 * file is watched a little longer (until it has been quiet for CARRY_QUIET_MS) for the batch of a writer that
 * looked at the path just before the rename. Cleanups of one log in one process run one after the other.
 * @example const removed = await cleanupOldEvents(30)
 */
export async function cleanupOldEvents(days: number, options: Pick<QueryOptions, 'agentId' | 'file'> = {}): Promise<number> {
  // The one call that deletes: `-1` (every event, even today's) or `'30'` must not be guessed at.
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
    throw new CylestioError('QUERY_BAD_OPTION', `cleanupOldEvents(days): 'days' must be a number of days ≥ 0, got ${show(days)}`)
  }
  checkQuery('cleanupOldEvents', options, {}, WHOLE_LOG_OPTIONS)
  const cutoff = Date.now() - days * 86_400_000
  const main = resolve(options.file ?? defaultEventsPath())
  // Two rewrites of one file at once would both start from the same content: the second would undo the first.
  const run = (cleanups.get(main) ?? Promise.resolve()).then(() => cleanupLog(main, cutoff, options.agentId))
  const settled = run.then(
    () => undefined,
    () => undefined,
  )
  cleanups.set(main, settled)
  void settled.then(() => {
    if (cleanups.get(main) === settled) cleanups.delete(main)
  })
  return run
}

/** The cleanup running (or last queued) per log file in this process. */
const cleanups = new Map<string, Promise<void>>()
/** Temp files are named per process and per rewrite, and created exclusively: never shared, never truncated. */
let tempSeq = 0
/** After the rename, the old file is watched until no line has been appended to it for this long. */
const CARRY_QUIET_MS = 100
const CARRY_POLL_MS = 25

async function cleanupLog(main: string, cutoff: number, agentId: string | undefined): Promise<number> {
  flushLog(main)
  let removed = 0
  for (const path of logFiles(main)) {
    try {
      removed += await cleanupFile(path, path === main, cutoff, agentId)
    } catch (error) {
      if (error instanceof CylestioError) throw error
      throw new CylestioError('EVENT_LOG_CLEANUP', `cleanupOldEvents(): ${path}: ${(error as Error)?.message ?? String(error)}`, { cause: error })
    }
  }
  return removed
}

/** Rewrites one file of the log without its expired lines; returns how many were removed. */
async function cleanupFile(given: string, isMain: boolean, cutoff: number, agentId: string | undefined): Promise<number> {
  // A log reached through a symbolic link is rewritten where it is: the link stays a link.
  const path = realpathSync(given)
  let keptChunk = ''
  let removed = 0
  let keptLines = 0
  const tmp = resolve(`${path}.cleanup-${process.pid}-${++tempSeq}.tmp`)
  const old = openSync(path, 'r')
  let out: number | null = null
  let renamed = false
  try {
    out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    const fd = out
    const consumed = await scanLines(
      path,
      undefined,
      (line) => {
        const t = lineTime(line)
        const expired = t < cutoff && (agentId === undefined || agentAt(line) === agentId)
        if (expired) {
          removed++
          return
        }
        keptLines++
        keptChunk += `${line}\n`
        if (keptChunk.length >= 1 << 20) {
          writeSync(fd, keptChunk)
          keptChunk = ''
        }
      },
      { reportTorn: false },
    )
    if (keptChunk) writeSync(fd, keptChunk)
    closeSync(fd)
    out = null
    if (removed === 0) return 0
    if (!samePath(path, old)) {
      // Rotated by a writer, or rewritten by another process, while it was read: left to the next cleanup.
      return 0
    }
    if (keptLines === 0 && !isMain) {
      unlinkSync(path)
      // A rotated file reached through a link: the link goes too (left, it would point nowhere).
      if (given !== path) unlinkSync(given)
      return removed
    }
    renameSync(tmp, path)
    renamed = true
    // Lines appended to the old file while it was read, then the batch of any writer that looked at the
    // path just before the rename and writes to the old file right after it.
    let copied = copyTail(old, consumed, path)
    for (let quietFor = 0; quietFor < CARRY_QUIET_MS; ) {
      await sleep(CARRY_POLL_MS)
      const next = copyTail(old, copied, path)
      quietFor = next === copied ? quietFor + CARRY_POLL_MS : 0
      copied = next
    }
    return removed
  } finally {
    if (out !== null) closeSync(out)
    if (!renamed) unlinkSync(tmp)
    closeSync(old)
  }
}

/** Whether `path` is still the file open as `fd`. */
function samePath(path: string, fd: number): boolean {
  const now = statSync(path, { throwIfNoEntry: false })
  const was = fstatSync(fd)
  return now !== undefined && now.ino === was.ino && now.dev === was.dev
}

/** The agent of a line, parsed only when the line names one. */
function agentAt(line: string): string | undefined {
  const agent = (lineValue(line) as { agent_id?: unknown } | null | undefined)?.agent_id
  return typeof agent === 'string' ? agent : undefined
}

/**
 * Appends to `path` the whole lines written to the old file (`fd`) after `offset`: lines that came in during
 * a rewrite. Returns the offset after the last line carried over.
 */
function copyTail(fd: number, offset: number, path: string): number {
  const size = fstatSync(fd).size
  if (size <= offset) return offset
  const buf = Buffer.alloc(size - offset)
  const read = readSync(fd, buf, 0, buf.length, offset)
  const end = buf.lastIndexOf(0x0a, read - 1) + 1
  if (end === 0) return offset
  const target = openForAppend(path)
  try {
    appendLines(target, buf.subarray(0, end))
  } finally {
    closeSync(target)
  }
  return offset + end
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value instanceof Date) return `Invalid Date`
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** The options of the queries that read events; the ones that do not return events take no `limit`. */
const QUERY_OPTIONS = ['agentId', 'file', 'limit'] as const
const WHOLE_LOG_OPTIONS = ['agentId', 'file'] as const

/**
 * Query arguments of the wrong kind fail loudly, naming the option, instead of quietly returning nothing
 * (or everything): a misspelt option (`agent`, `agent_id`) would otherwise filter nothing.
 */
function checkQuery(fn: string, options: unknown, strings: Record<string, unknown> = {}, known: readonly string[] = QUERY_OPTIONS): void {
  const bad = (message: string) => new CylestioError('QUERY_BAD_OPTION', `${fn}(): ${message}`)
  for (const [name, value] of Object.entries(strings)) {
    if (typeof value !== 'string') throw bad(`'${name}' must be a string, got ${show(value)}`)
  }
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw bad(`options must be an object, got ${show(options)}`)
  const o = options as Record<string, unknown>
  for (const name of Object.keys(o)) {
    if (!known.includes(name)) throw bad(`unknown option '${name}' (known: ${known.join(', ')})`)
  }
  if (o.limit !== undefined && !(typeof o.limit === 'number' && Number.isSafeInteger(o.limit) && o.limit >= 0)) {
    throw bad(`option 'limit' must be a whole number ≥ 0, got ${show(o.limit)}`)
  }
  if (o.file !== undefined && (typeof o.file !== 'string' || o.file === '')) throw bad(`option 'file' must be the path of an event log, got ${show(o.file)}`)
  const problem = typeof o.file === 'string' ? logPathProblem(o.file) : undefined
  if (problem !== undefined) throw bad(`option 'file' ${problem}`)
  if (o.agentId !== undefined && typeof o.agentId !== 'string') throw bad(`option 'agentId' must be a string, got ${show(o.agentId)}`)
}

function toDate(fn: string, name: string, value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime())) {
    throw new CylestioError('QUERY_BAD_OPTION', `${fn}(): '${name}' must be a Date or an ISO date string, got ${show(value)}`)
  }
  return date
}
