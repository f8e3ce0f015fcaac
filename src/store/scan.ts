import { open } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'
import { CylestioError } from '../errors.js'
import { reportFault } from '../faults.js'
import type { MonitorEvent } from '../types.js'

const CHUNK_BYTES = 1024 * 1024

/**
 * A cheap pre-filter: only lines containing it are handed on. A string is looked up with `indexOf`, a
 * RegExp (flag `g` required) with `exec`, both over a whole chunk at once, so lines that cannot match
 * cost no per-line work. The pre-filter only narrows; the caller still checks the parsed event.
 * @internal
 */
export type Needle = string | RegExp

/**
 * Calls `onLine` with every complete line of `file` (from byte `start`) that contains `needle`, reading
 * 1 MiB at a time, so memory does not grow with the file. A last line without its newline (a writer
 * killed mid-write, or one writing right now) is not handed on; `torn` reports it when `reportTorn`.
 * Returns the byte offset just after the last complete line (where a follower resumes). A missing file
 * reads as empty.
 * @internal
 */
export async function scanLines(
  file: string,
  needle: Needle | undefined,
  onLine: (line: string) => void,
  { start = 0, reportTorn = true }: { start?: number; reportTorn?: boolean } = {},
): Promise<number> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return start
    throw readError(file, error)
  }
  const buf = Buffer.allocUnsafe(CHUNK_BYTES)
  const decoder = new StringDecoder('utf8')
  let position = start
  let carry = ''
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, position)
      if (bytesRead === 0) break
      position += bytesRead
      const text = carry + decoder.write(buf.subarray(0, bytesRead))
      const end = text.lastIndexOf('\n')
      if (end === -1) {
        carry = text
        continue
      }
      eachLine(text, end, needle, onLine)
      carry = text.slice(end + 1)
    }
  } catch (error) {
    throw readError(file, error)
  } finally {
    await handle.close()
  }
  carry += decoder.end()
  if (carry.length > 0 && reportTorn) {
    reportFault('event-log-read', new Error(`${file}: skipped a torn last line (a writer stopped mid-line)`))
  }
  return position - Buffer.byteLength(carry)
}

/** The lines of `text` before `end` (a newline) that contain `needle`. */
function eachLine(text: string, end: number, needle: Needle | undefined, onLine: (line: string) => void): void {
  let pos = 0
  while (pos < end) {
    let lineStart = pos
    if (needle !== undefined) {
      let hit: number
      if (typeof needle === 'string') hit = text.indexOf(needle, pos)
      else {
        needle.lastIndex = pos
        hit = needle.exec(text)?.index ?? -1
      }
      if (hit === -1 || hit >= end) return
      lineStart = text.lastIndexOf('\n', hit) + 1
    }
    const lineEnd = text.indexOf('\n', lineStart)
    if (lineEnd > lineStart) onLine(text.slice(lineStart, lineEnd))
    pos = lineEnd + 1
  }
}

/** What reading the log failed on, naming the file (`EISDIR` alone does not say which path is a directory). */
function readError(file: string, error: unknown): Error {
  const e = error as NodeJS.ErrnoException
  if (e?.code === 'EISDIR') return new CylestioError('EVENT_LOG_UNREADABLE', `${file} is a directory, not an event log file`, { cause: error })
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new CylestioError('EVENT_LOG_UNREADABLE', `${file}: permission denied reading the event log`, { cause: error })
  }
  return new CylestioError('EVENT_LOG_UNREADABLE', `${file}: cannot read the event log: ${e?.message ?? String(error)}`, { cause: error })
}

/**
 * The event on a line, or null (reported) when the line is not an event: not JSON (a fragment left by a
 * killed writer), or JSON that is not an event object (`42`, `[1,2]`, `{}`, a line pasted in by hand).
 * A byte-order mark an editor put at the start of the file is ignored.
 * @internal
 */
export function parseLine(line: string, file: string): MonitorEvent | null {
  if (line.charCodeAt(0) === 0xfeff) line = line.slice(1)
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    reportFault('event-log-read', new Error(`${file}: skipped a line that is not JSON (${line.slice(0, 40)}…)`))
    return null
  }
  if (!isEvent(value)) {
    reportFault('event-log-read', new Error(`${file}: skipped a line that is not an event (${line.slice(0, 40)}…)`))
    return null
  }
  return value
}

/** The envelope readers rely on: an object with an `event` name; the other envelope fields, when there, of their types. */
function isEvent(value: unknown): value is MonitorEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const e = value as Record<string, unknown>
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string'
  return (
    typeof e.event === 'string' &&
    optionalString(e.agent_id) &&
    optionalString(e.timestamp) &&
    optionalString(e.channel) &&
    optionalString(e.level) &&
    (e.data === undefined || (e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data)))
  )
}

/** Keeps the newest `limit` items pushed (all when `limit` is undefined), in the order pushed. @internal */
export class Newest<T> {
  private items: T[] = []
  constructor(private readonly limit: number | undefined) {}
  push(item: T): void {
    this.items.push(item)
    if (this.limit !== undefined && this.items.length >= 2 * this.limit + 1024) this.trim()
  }
  result(): T[] {
    this.trim()
    return this.items
  }
  private trim(): void {
    if (this.limit !== undefined && this.items.length > this.limit) this.items = this.items.slice(this.items.length - this.limit)
  }
}
