import { closeSync, constants, fstatSync, lstatSync, openSync, read, statSync } from 'node:fs'
import { CylestioError } from '../errors.js'
import { reportFault } from '../faults.js'
import type { MonitorEvent } from '../types.js'
import { logFiles, specialKind } from './files.js'
import { SkippedLineError } from './skipped-line.js'

/** Bytes read at a time (reused for the whole scan; a line longer than this grows the buffer). */
const CHUNK_BYTES = 8 * 1024 * 1024
/** The first read of a backward scan: the newest few events cost one small read, later reads double up to CHUNK_BYTES. */
const FIRST_BACKWARD_CHUNK = 64 * 1024
/** Room the buffers of a file smaller than a chunk get beyond what it holds (it may grow while it is read). */
const ROOM_BYTES = 64 * 1024
const NEWLINE = 0x0a

/**
 * A top-level field and its value, as a pre-filter: found in lines that hold `"key":"value"` with or
 * without JSON whitespace around the colon (`JSON.stringify` writes none; Python's `json.dumps` writes
 * `": "`). The value is compared as `JSON.stringify` writes it: one written with `\u` escapes (Python's
 * default for non-ASCII text) is not found.
 * @internal
 */
export interface FieldNeedle {
  key: string
  value: string
  /** `value` is only the start of the value (`LLM_call_`, every call event). */
  prefix?: boolean
}

/**
 * A cheap pre-filter: only lines containing it are handed on, so lines that cannot match are never
 * decoded. A string is looked up in the file's bytes (`Buffer.indexOf` over a whole chunk at once, no
 * per-line work); a field by its key, which the envelope puts near the start of each line (see
 * `fieldValue`); a RegExp (flag `g` required) with `exec` over a decoded chunk. The pre-filter only
 * narrows; the caller still checks the parsed event.
 * @internal
 */
export type Needle = string | FieldNeedle | RegExp

/** A field needle as bytes: the key quoted, and the value as written after the colon, from its opening quote. @internal */
export interface FieldBytes {
  key: Buffer
  value: Buffer
}

/** @internal */
export function fieldBytes(field: FieldNeedle): FieldBytes {
  const value = JSON.stringify(field.value)
  return { key: Buffer.from(JSON.stringify(field.key)), value: Buffer.from(field.prefix ? value.slice(0, -1) : value) }
}

const COLON = 0x3a
const OPEN_BRACE = 0x7b
/** JSON whitespace within a line: space, tab, carriage return (a newline ends the line). */
const isBlank = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0d

/**
 * Where the value of `field` starts (just after its opening quote) in the line `buf[start, end)` when it is
 * the value looked for, else -1. `key` is the first place of the quoted key at or after `start` (-1 or
 * past `end` when the line has none).
 *
 * Each place the key is followed by blanks, `:` and blanks is looked at: the value right after it decides.
 * The first key of another value ends the search when it is the line's own field, with no object opened
 * before it on the line (the envelope comes first in every line the recorder writes, so this is the
 * common case and costs a few bytes); a key inside a nested object does not, and the search goes on.
 * Inside a string a quote is escaped (`\"key\"`), so a key in a string is never taken for one.
 */
export function fieldValue(buf: Buffer, start: number, end: number, field: FieldBytes, key: number): number {
  let nested = -2 // where the first object inside the line opens, found when first needed
  while (key !== -1 && key < end) {
    let p = key + field.key.length
    while (isBlank(buf[p])) p++
    if (buf[p] === COLON) {
      p++
      while (isBlank(buf[p])) p++
      if (p + field.value.length <= end && startsWith(buf, p, field.value)) return p + 1
      if (nested === -2) {
        const open = buf[start] === OPEN_BRACE ? start : buf.indexOf(OPEN_BRACE, start)
        // The line's first key needs no look for an object before it.
        nested = open === -1 ? -1 : key === open + 1 ? end : buf.indexOf(OPEN_BRACE, open + 1)
      }
      if (nested === -1 || nested > key) return -1
    }
    key = buf.indexOf(field.key, key + 1)
  }
  return -1
}

function startsWith(buf: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false
  return true
}

/**
 * A complete line, as bytes: `buf[start, end)` (without its newline); `hit` is where the needle was found
 * (for a field, where its value starts; `start` without a needle); `at` is the line's byte offset in the
 * file. The buffer is reused: copy what must outlive the call. A backward scan stops when this returns `true`.
 * @internal
 */
export type ByteLine = (buf: Buffer, start: number, end: number, hit: number, at: number) => boolean | void

/**
 * A file of a log, opened for reading: `path` is the name it had when it was opened, `fd` reads it
 * whatever a rotation has renamed it to since.
 * @internal
 */
export interface OpenLogFile {
  readonly path: string
  readonly fd: number
}

/** What the readers take: the path of a file (opened for the read, closed after) or a file of a log opened already. @internal */
export type LogSource = string | OpenLogFile

/** How often the files of a log are listed and opened again when a rotation renamed them meanwhile, before giving up. */
const OPEN_ATTEMPTS = 1000

/**
 * Opens every file of the log at `main` (oldest first, as `logFiles` lists them) as one consistent set,
 * so that a query reads what the log held at one instant even while another process rotates it.
 * Reading file after file by name would not: a writer renaming `path.N` to `path.N+1` between two reads
 * makes the next name point at a file already read, and the one it held is skipped. Here every file is
 * opened first; the set is kept only when a second listing gives the same names and each name is still
 * the file (device and inode) opened under it, else a rename happened meanwhile and it is done again.
 * Reads then go through the descriptors, which renames do not affect. The caller closes them
 * (`closeLogFiles`).
 * @internal
 */
export function openLogFiles(main: string): OpenLogFile[] {
  for (let attempt = 1; ; attempt++) {
    const names = logFiles(main)
    const opened: OpenLogFile[] = []
    let consistent = true
    try {
      for (const path of names) {
        const fd = openIfThere(path)
        if (fd !== null) opened.push({ path, fd })
        else if (lstatSync(path, { throwIfNoEntry: false }) === undefined) {
          consistent = false // renamed (or removed) since it was listed
          break
        } // else a link to nothing, which reads as empty
      }
      if (consistent) {
        const again = logFiles(main)
        consistent = again.length === names.length && again.every((path, i) => path === names[i]) && opened.every(sameFile)
      }
    } catch (error) {
      closeLogFiles(opened)
      throw error
    }
    if (consistent) return opened
    closeLogFiles(opened)
    if (attempt === OPEN_ATTEMPTS) {
      throw new CylestioError('EVENT_LOG_UNREADABLE', `${main}: the log's files were renamed (rotated) every time they were listed, ${OPEN_ATTEMPTS} times in a row`)
    }
  }
}

/** Closes the files `openLogFiles` opened. @internal */
export function closeLogFiles(files: OpenLogFile[]): void {
  for (const { fd } of files) closeSync(fd)
}

/** Whether the name of `file` is still the file open as its descriptor. */
function sameFile(file: OpenLogFile): boolean {
  const now = statSync(file.path, { throwIfNoEntry: false })
  const was = fstatSync(file.fd)
  return now !== undefined && now.ino === was.ino && now.dev === was.dev
}

/**
 * `file` opened for reading, or null when it does not exist (a missing log reads as empty). Opened without
 * waiting (`O_NONBLOCK`): a pipe put where a log file was would otherwise hang the read until a writer came;
 * anything but a regular file (or a directory, named as such when read) is refused.
 * @internal
 */
export function openIfThere(file: string): number | null {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw readError(file, error)
  }
  const st = fstatSync(fd)
  if (!st.isFile() && !st.isDirectory()) {
    closeSync(fd)
    throw new CylestioError('EVENT_LOG_UNREADABLE', `${file} is ${specialKind(st)}, not a regular file: the event log must be a file`)
  }
  return fd
}

/** The name of `source`, for messages. */
const nameOf = (source: LogSource): string => (typeof source === 'string' ? source : source.path)

/**
 * Runs `use` with a descriptor of `source`: a path is opened for it and closed after (a missing file
 * gives `missing`), an open file is used as it is.
 */
async function reading<T>(source: LogSource, missing: T, use: (fd: number) => Promise<T>): Promise<T> {
  if (typeof source !== 'string') return await use(source.fd)
  const fd = openIfThere(source)
  if (fd === null) return missing
  try {
    return await use(fd)
  } finally {
    closeSync(fd)
  }
}

/** Reads into `buf[offset, offset + length)` from byte `position` of `fd`; resolves with the bytes read. */
function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((done, fail) => read(fd, buf, offset, length, position, (error, bytesRead) => (error ? fail(error) : done(bytesRead))))
}

function reportTornLine(file: string, at: number): void {
  reportFault('event-log-read', new SkippedLineError(file, at, 'skipped a torn last line (a writer stopped mid-line)'))
}

/**
 * Reads `file` from byte `start` in chunks of CHUNK_BYTES into one reused buffer and calls `onRegion`
 * with the buffer, the end of its complete lines (`buf[0, end)` ends with a newline) and the file offset
 * of `buf[0]`; the bytes of an unfinished line are carried to the front of the buffer for the next read.
 * A last line without its newline (a writer killed mid-write, or one writing right now) is not handed on;
 * it is reported when `reportTorn`. Returns the byte offset just after the last complete line.
 */
function readForward(
  file: LogSource,
  start: number,
  reportTorn: boolean,
  onRegion: (buf: Buffer, end: number, base: number) => void,
): Promise<number> {
  return reading(file, start, async (fd) => {
    // Two buffers: the next chunk is read into one while the lines of the other are handed on. A small
    // file (a log rotated every few megabytes has many) gets small ones: what it holds and some room to grow.
    const size = Math.min(CHUNK_BYTES, Math.max(fstatSync(fd).size - start, 0) + ROOM_BYTES)
    let buf = Buffer.allocUnsafe(size)
    let next = Buffer.allocUnsafe(size)
    let filled = 0
    let position = start
    try {
      let pending = readAt(fd, buf, 0, buf.length, position)
      pending.catch(() => {}) // awaited below; not unhandled if a line handler throws first
      for (;;) {
        const bytesRead = await pending
        if (bytesRead === 0) break
        position += bytesRead
        const total = filled + bytesRead
        const end = buf.lastIndexOf(NEWLINE, total - 1) + 1
        // The unfinished last line goes to the front of the other buffer, which the next read fills after it.
        filled = total - end
        if (filled >= next.length) next = Buffer.allocUnsafe(Math.max(next.length * 2, filled * 2)) // a line longer than the buffer
        buf.copy(next, 0, end, total)
        pending = readAt(fd, next, filled, next.length - filled, position)
        pending.catch(() => {})
        if (end > 0) onRegion(buf, end, position - total)
        const done = buf
        buf = next
        next = done.length >= buf.length ? done : Buffer.allocUnsafe(buf.length)
      }
    } catch (error) {
      throw error instanceof CylestioError ? error : readError(nameOf(file), error)
    }
    if (filled > 0 && reportTorn) reportTornLine(nameOf(file), position - filled)
    return position - filled
  })
}

/**
 * Calls `onLine` with the bytes of every complete line of `file` (from byte `start`) that contains
 * `needle`, found in the raw bytes: lines without it are never decoded. Memory does not grow with the
 * file. Torn last line and return value as `scanLines`.
 * @internal
 */
export function scanBytes(
  file: LogSource,
  needle: string | FieldNeedle | undefined,
  onLine: ByteLine,
  { start = 0, reportTorn = true }: { start?: number; reportTorn?: boolean } = {},
): Promise<number> {
  if (needle !== undefined && typeof needle !== 'string') {
    const field = fieldBytes(needle)
    return readForward(file, start, reportTorn, (buf, end, base) => eachFieldLine(buf.subarray(0, end), field, onLine, base))
  }
  const bytes = needle === undefined ? undefined : Buffer.from(needle)
  return readForward(file, start, reportTorn, (buf, end, base) => eachByteLine(buf.subarray(0, end), bytes, onLine, base))
}

/** The lines of `view` (which ends with a newline; `view[0]` is byte `base` of the file) that contain `needle`, oldest first. */
function eachByteLine(view: Buffer, needle: Buffer | undefined, onLine: ByteLine, base: number): void {
  const end = view.length
  let pos = 0
  while (pos < end) {
    let lineStart = pos
    let hit = pos
    if (needle !== undefined) {
      hit = view.indexOf(needle, pos)
      if (hit === -1) return
      if (hit > pos) lineStart = view.lastIndexOf(NEWLINE, hit - 1) + 1
    }
    const lineEnd = view.indexOf(NEWLINE, hit)
    if (lineEnd > lineStart) onLine(view, lineStart, lineEnd, hit, base + lineStart)
    pos = lineEnd + 1
  }
}

/**
 * The lines of `view` (which ends with a newline) whose `field` has the value looked for, oldest first.
 * It goes from one place of the key to the next: a line without the key costs no work of its own.
 */
function eachFieldLine(view: Buffer, field: FieldBytes, onLine: ByteLine, base: number): void {
  let key = view.indexOf(field.key)
  while (key !== -1) {
    const lineStart = view.lastIndexOf(NEWLINE, key) + 1
    const lineEnd = view.indexOf(NEWLINE, key)
    const hit = fieldValue(view, lineStart, lineEnd, field, key)
    if (hit !== -1) onLine(view, lineStart, lineEnd, hit, base + lineStart)
    key = view.indexOf(field.key, lineEnd + 1)
  }
}

/**
 * Calls `onLine` with every complete line of `file` (from byte `start`) that contains `needle`, reading
 * CHUNK_BYTES at a time, so memory does not grow with the file. A string or field needle is searched in the
 * bytes and only matching lines are decoded. A last line without its newline (a writer killed
 * mid-write, or one writing right now) is not handed on; `torn` reports it when `reportTorn`.
 * Returns the byte offset just after the last complete line (where a follower resumes). A missing file
 * reads as empty.
 * @internal
 */
export function scanLines(
  file: LogSource,
  needle: Needle | undefined,
  onLine: (line: string, at: number) => void,
  options: { start?: number; reportTorn?: boolean } = {},
): Promise<number> {
  if (needle !== undefined && !(needle instanceof RegExp)) return scanBytes(file, needle, (buf, start, end, _hit, at) => void onLine(buf.toString('utf8', start, end), at), options)
  // No needle, or a RegExp: decode the chunk's complete lines at once (a newline never falls inside a
  // UTF-8 sequence, so cutting at one needs no streaming decoder).
  return readForward(file, options.start ?? 0, options.reportTorn ?? true, (buf, end, base) => {
    const text = buf.toString('utf8', 0, end)
    eachLine(text, text.length - 1, needle, onLine, buf, base)
  })
}

/**
 * The lines of `text` before `end` (a newline) that contain `needle`, with their byte offsets: `text` is
 * `buf` decoded (`buf[0]` is byte `base` of the file), whose newlines are its newlines, one for one.
 */
function eachLine(text: string, end: number, needle: RegExp | undefined, onLine: (line: string, at: number) => void, buf: Buffer, base: number): void {
  let pos = 0
  let byte = 0 // where text[pos] is in buf
  while (pos < end) {
    let lineStart = pos
    if (needle !== undefined) {
      needle.lastIndex = pos
      const hit = needle.exec(text)?.index ?? -1
      if (hit === -1 || hit >= end) return
      lineStart = text.lastIndexOf('\n', hit) + 1
      for (let i = text.indexOf('\n', pos); i !== -1 && i < lineStart; i = text.indexOf('\n', i + 1)) byte = buf.indexOf(NEWLINE, byte) + 1
    }
    const lineEnd = text.indexOf('\n', lineStart)
    if (lineEnd > lineStart) onLine(text.slice(lineStart, lineEnd), base + byte)
    byte = buf.indexOf(NEWLINE, byte) + 1
    pos = lineEnd + 1
  }
}

/**
 * Calls `onLine` with the complete lines of `file` that contain `needle` (found in the bytes), newest
 * first, reading the file backwards from its end in chunks (the first small, then doubling up to
 * CHUNK_BYTES), until `onLine` returns `true` or the start of the file. A query for the newest N events
 * therefore costs what it returns, not the size of the log. A last line without its newline is skipped
 * (reported when `reportTorn`); a line longer than the buffer grows it.
 * Returns the byte offset just after the last complete line, as `scanLines` does, even when stopped early.
 * @internal
 */
export function scanBytesBackward(
  file: LogSource,
  needle: string | FieldNeedle | undefined,
  onLine: ByteLine,
  { reportTorn = true }: { reportTorn?: boolean } = {},
): Promise<{ end: number; stopped: boolean }> {
  const bytes = needle === undefined ? undefined : typeof needle === 'string' ? Buffer.from(needle) : fieldBytes(needle)
  return reading(file, { end: 0, stopped: false }, async (fd) => {
    // Bytes not yet handed on are buf[lo, hi); buf[lo] is byte `filePos` of the file.
    let filePos = fstatSync(fd).size
    // A small file gets a buffer its size; a line longer than the buffer grows it below.
    let cap = Math.min(CHUNK_BYTES, Math.max(filePos, FIRST_BACKWARD_CHUNK))
    let buf = Buffer.allocUnsafe(cap)
    let lo = cap
    let hi = cap
    let chunk = FIRST_BACKWARD_CHUNK
    let completeEnd = -1
    try {
      while (filePos > 0) {
        const n = Math.min(chunk, filePos)
        chunk = Math.min(chunk * 2, CHUNK_BYTES)
        if (lo < n) {
          // Make room in front: move what is left (the head of a line, read so far) to the end of the buffer.
          const len = hi - lo
          if (len + n > cap) {
            cap = Math.max(cap * 2, len + n)
            const bigger = Buffer.allocUnsafe(cap)
            buf.copy(bigger, cap - len, lo, hi)
            buf = bigger
          } else {
            buf.copyWithin(cap - len, lo, hi)
          }
          lo = cap - len
          hi = cap
        }
        let got = 0
        while (got < n) {
          const bytesRead = await readAt(fd, buf, lo - n + got, n - got, filePos - n + got)
          if (bytesRead === 0) break
          got += bytesRead
        }
        if (got < n) break // the file shrank under us (truncated): stop with what was handed on
        lo -= n
        filePos -= n
        if (completeEnd === -1) {
          // Nothing handed on yet: the last newline read so far ends the complete lines; after it, a torn line.
          const nl = hi - lo > 0 ? buf.lastIndexOf(NEWLINE, hi - 1) : -1
          if (nl < lo) {
            if (filePos > 0) continue
            break
          }
          if (hi > nl + 1 && reportTorn) reportTornLine(nameOf(file), filePos + (nl + 1 - lo))
          hi = nl + 1
          completeEnd = filePos + (hi - lo)
        }
        // Complete lines are those after the first newline of buf[lo, hi), or all of it at the file's start.
        const from = filePos === 0 ? lo : buf.indexOf(NEWLINE, lo) + 1
        if (eachByteLineBackward(buf, from, hi, bytes, onLine, filePos - lo)) return { end: completeEnd, stopped: true }
        hi = from
      }
    } catch (error) {
      throw error instanceof CylestioError ? error : readError(nameOf(file), error)
    }
    if (completeEnd === -1) {
      // No newline in the whole file: it is one torn line (or empty).
      if (hi > lo && reportTorn) reportTornLine(nameOf(file), 0)
      return { end: 0, stopped: false }
    }
    return { end: completeEnd, stopped: false }
  })
}

/** The lines of `buf[from, to)` (`buf[to - 1]` is a newline; `buf[0]` is byte `base` of the file) that contain `needle`, newest first; true when `onLine` stops. */
function eachByteLineBackward(buf: Buffer, from: number, to: number, needle: Buffer | FieldBytes | undefined, onLine: ByteLine, base: number): boolean {
  let end = to
  if (Buffer.isBuffer(needle)) {
    const last = needle.length + 1
    while (end - from >= last) {
      const hit = buf.lastIndexOf(needle, end - last)
      if (hit < from) return false
      const lineStart = Math.max(from, buf.lastIndexOf(NEWLINE, hit) + 1)
      const lineEnd = buf.indexOf(NEWLINE, hit)
      if (lineEnd > lineStart && onLine(buf, lineStart, lineEnd, hit, base + lineStart) === true) return true
      end = lineStart
    }
    return false
  }
  while (end > from) {
    const lineEnd = end - 1
    const lineStart = lineEnd > from ? Math.max(from, buf.lastIndexOf(NEWLINE, lineEnd - 1) + 1) : from
    end = lineStart
    if (lineEnd === lineStart) continue
    let hit = lineStart
    if (needle !== undefined) {
      // The key is looked for in the line alone: from the line's start, a line without it would send the
      // search on through the lines after it, handed on already.
      const line = buf.subarray(lineStart, lineEnd)
      hit = fieldValue(line, 0, line.length, needle, line.indexOf(needle.key))
      if (hit === -1) continue
      hit += lineStart
    }
    if (onLine(buf, lineStart, lineEnd, hit, base + lineStart) === true) return true
  }
  return false
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
 * A byte-order mark an editor put at the start of the file is ignored. `at`, the line's byte offset in
 * `file`, lets the report name the line's number.
 * @internal
 */
export function parseLine(line: string, file: string, at: number): MonitorEvent | null {
  const value = lineValue(line)
  if (value === undefined || !isEvent(value)) {
    const shown = line.length > 40 ? `${line.slice(0, 40)}…` : line
    reportFault('event-log-read', new SkippedLineError(file, at, `skipped a line that is not ${value === undefined ? 'JSON' : 'an event'} (${shown})`))
    return null
  }
  return value
}

/** A line's JSON value (a byte-order mark before it skipped), or undefined when it is not JSON; reports nothing. @internal */
export function lineValue(line: string): unknown {
  try {
    return JSON.parse(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line)
  } catch {
    return undefined
  }
}

/**
 * The envelope readers rely on: an object with an `event` name; the other envelope fields, when there and
 * not null, of their types. A null field is read as missing (an event with no agent is counted under
 * 'unknown' by the stats and is not any agent's), whatever field it is.
 * @internal
 */
export function isEvent(value: unknown): value is MonitorEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const e = value as Record<string, unknown>
  // Other tools write a field they have no value for as null (Python's None): read as if it were missing.
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string'
  return (
    typeof e.event === 'string' &&
    optionalString(e.agent_id) &&
    optionalString(e.timestamp) &&
    optionalString(e.channel) &&
    optionalString(e.level) &&
    (e.data === undefined || e.data === null || (typeof e.data === 'object' && !Array.isArray(e.data)))
  )
}
