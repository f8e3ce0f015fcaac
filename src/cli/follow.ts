import { closeSync, fstatSync, readSync, type Stats, statSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { MonitorEvent } from '../types.js'
import { logFiles } from '../store/files.js'
import { type EventFilter, matches, needleFor } from '../store/queries.js'
import { CylestioError } from '../errors.js'
import { openIfThere, parseLine } from '../store/scan.js'

/**
 * A file of the log, open for reading. It is read through its descriptor, so it stays the same file
 * whatever name a rotation gives it next (`events.jsonl` → `.1` → `.2` …), and its inode cannot be
 * reused by a new file while it is held.
 */
export interface OpenLogFile {
  fd: number
  dev: number
  ino: number
  /** The name it had when it was opened (for warnings about its lines). */
  name: string
  /** Where to go on reading: just after the last complete line read. */
  offset: number
}

/** The file at `path` opened for reading, or null when there is none (or it cannot be opened). */
export function openLogFile(path: string): OpenLogFile | null {
  let fd: number | null
  try {
    fd = openIfThere(path)
  } catch (error) {
    // A pipe or a device where a file of the log was: said, not waited on (a pipe would block the follower).
    if (error instanceof CylestioError && error.message.includes('not a regular file')) throw error
    return null
  }
  if (fd === null) return null
  const st = fstatSync(fd)
  return { fd, dev: st.dev, ino: st.ino, name: path, offset: 0 }
}

/** Whether `st` (a stat of some path) is the open file `file`. */
export function isOpenFile(st: Stats | undefined, file: OpenLogFile | null): boolean {
  return st !== undefined && file !== null && st.ino === file.ino && st.dev === file.dev
}

/** How long the follower waits between two looks at the log. */
const POLL_MS = 200
/** Attempts at listing the log's files while a rotation moves them, within one poll. */
const LIST_ATTEMPTS = 5

/**
 * Prints events appended to the log at `path` until `signal` aborts (or SIGINT), like `tail -F`, from
 * `start` (the file the first query read, at the offset it read to; null when there was no log).
 *
 * The file followed is held open and read through its descriptor: a rotation renames it, it is still the
 * same file, read to its end. When `path` names another file, the files made after the one followed are
 * found by listing the log and opening them (see `newerFiles`), each read from its start, in order, and the
 * newest becomes the one followed. A file that is not among the log's files any more was replaced (a
 * cleanup renames its rewrite over the log) or removed: the file now at `path` is compared line by line
 * with it, still held open, and only its new lines are printed. A file changed in place (same inode, other
 * bytes before the offset: truncated, or rewritten) is read from just after the last line printed if it
 * still holds it, else from its start.
 */
export async function follow(
  path: string,
  filter: EventFilter,
  start: OpenLogFile | null,
  print: (event: MonitorEvent) => unknown,
  signal: AbortSignal | undefined,
): Promise<void> {
  const stop = signal ? undefined : new AbortController()
  const onSigint = (): void => stop?.abort()
  if (stop) process.once('SIGINT', onSigint)
  const stopped = signal ?? stop!.signal
  const needle = needleFor(filter)
  const onLine = (file: OpenLogFile) => (line: string, at: number) => {
    // A cheap look for the filter's most selective field first; the parsed event is checked in full.
    if (typeof needle === 'string' && !line.includes(needle)) return
    const event = parseLine(line, file.name, at)
    if (event !== null && matches(event, filter)) print(event)
  }
  let current = start
  let seen = current === null ? null : fingerprint(current.fd, current.offset)
  // No file of the log at all: when it comes, the files it may have rotated to already are new too. (Rotated
  // files without the log itself were read by the first query.)
  const fresh = start === null && logFiles(path).length === 0
  try {
    while (!stopped.aborted) {
      // A log made since: read from its start.
      if (current === null) {
        current = fresh ? firstFiles(path, onLine) : openLogFile(path)
        if (current !== null && fresh) seen = fingerprint(current.fd, current.offset)
      }
      if (current !== null) {
        if (fstatSync(current.fd).size < current.offset || !sameBytes(fingerprint(current.fd, current.offset), seen)) {
          current.offset = resumeAfter(current.fd, seen) // truncated, or rewritten in place
        }
        current.offset = readLines(current, onLine(current))
        current = await followPath(path, current, onLine)
        seen = fingerprint(current.fd, current.offset)
      }
      // Removes its abort listener when the time is up (one added per poll and kept would pile up).
      await sleep(POLL_MS, undefined, { signal: stopped }).catch(() => undefined)
    }
  } finally {
    if (stop) process.off('SIGINT', onSigint)
    if (current !== null) closeSync(current.fd)
  }
}

/**
 * When `path` no longer names `current` (read to its end), the files after it, read in order; returns the
 * file to follow from now on (the newest read, or `current` when nothing newer can be told yet).
 */
async function followPath(
  path: string,
  current: OpenLogFile,
  onLine: (file: OpenLogFile) => (line: string, at: number) => void,
): Promise<OpenLogFile> {
  const st = statSync(path, { throwIfNoEntry: false })
  // No file at `path`: removed, or rotated and not made again yet (the writer makes it with its next batch).
  if (st === undefined || isOpenFile(st, current)) return current
  // Moved away: what the writer appended to it before it moved, once more to its end (a batch can come
  // between the read of this poll and the rotation).
  current.offset = readLines(current, onLine(current))
  let newer: OpenLogFile[] | null | undefined
  for (let attempt = 0; attempt < LIST_ATTEMPTS && newer === undefined; attempt++) {
    if (attempt > 0) await sleep(5)
    newer = newerFiles(path, current)
  }
  if (newer === undefined || (newer !== null && newer.length === 0)) return current // still moving: the next poll
  if (newer === null) {
    // Replaced or removed: the file at `path` now, less the lines it kept from the one followed.
    const next = openLogFile(path)
    if (next === null) return current
    next.offset = afterKept(current, next, onLine(next))
    closeSync(current.fd)
    return next
  }
  // Closed once the newer files are read: a failure reading them leaves it to the caller to close, once.
  readInOrder(newer, onLine)
  closeSync(current.fd)
  return newer.at(-1)!
}

/**
 * The files of a log that was not there before, read from their start, oldest first; returns the newest,
 * to follow, or null when there is none yet (or they keep moving: the next poll).
 */
function firstFiles(path: string, onLine: (file: OpenLogFile) => (line: string, at: number) => void): OpenLogFile | null {
  const files = newerFiles(path, null)
  if (!files || files.length === 0) return null
  readInOrder(files, onLine)
  return files.at(-1)!
}

/** Reads `files` whole, in order, closing all but the last. */
function readInOrder(files: OpenLogFile[], onLine: (file: OpenLogFile) => (line: string, at: number) => void): void {
  for (const [i, file] of files.entries()) {
    try {
      file.offset = readLines(file, onLine(file))
    } catch (error) {
      for (const rest of files.slice(i)) closeSync(rest.fd)
      throw error
    }
    if (i < files.length - 1) closeSync(file.fd)
  }
}

/**
 * The files of the log made after `current` (all of them without one), oldest first, opened; null when
 * `current` is none of the log's files (replaced, removed, or rotated out past `keep`); undefined when
 * files moved while they were opened (a rotation under way: try again).
 *
 * The names are listed and opened newest first, down to `current`, then listed and looked at again: the
 * answer stands only if the list is the same and every name still names the file opened under it. A file
 * renamed away never comes back under its old name (rotation only moves files up), so each name named its
 * file all along, and at the moment of the last open the files were these, in this order.
 */
function newerFiles(path: string, current: OpenLogFile | null): OpenLogFile[] | null | undefined {
  const names = logFiles(path)
  const opened: OpenLogFile[] = []
  let found: string | undefined
  let settled = false
  try {
    for (let i = names.length - 1; i >= 0; i--) {
      const file = openLogFile(names[i]!)
      if (file === null) return undefined // renamed since it was listed
      if (current !== null && file.ino === current.ino && file.dev === current.dev) {
        closeSync(file.fd)
        found = names[i]
        break
      }
      opened.push(file)
    }
    const again = logFiles(path)
    if (again.length !== names.length || again.some((name, i) => name !== names[i])) return undefined
    for (const file of opened) if (!isOpenFile(statSync(file.name, { throwIfNoEntry: false }), file)) return undefined
    if (found === undefined && current !== null) return null
    if (found !== undefined && !isOpenFile(statSync(found, { throwIfNoEntry: false }), current)) return undefined
    settled = true
    return opened.reverse()
  } finally {
    if (!settled) for (const file of opened) closeSync(file.fd)
  }
}

/** Hands `onLine` the complete lines of `file` after its offset, with the byte offset of each; returns the offset after the last. */
function readLines(file: OpenLogFile, onLine: (line: string, at: number) => void): number {
  const reader = new LineReader(file.fd, file.offset)
  try {
    for (let at = reader.offset, line = reader.next(); line !== null; at = reader.offset, line = reader.next()) {
      if (line !== '') onLine(line, at)
    }
  } catch (error) {
    // A file of the log that cannot be read (a folder put at a rotated name): said with its name.
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EISDIR') throw new CylestioError('EVENT_LOG_UNREADABLE', `${file.name} is a directory, not an event log file`, { cause: error })
    if (typeof code === 'string') throw new CylestioError('EVENT_LOG_UNREADABLE', `${file.name}: cannot read the event log: ${(error as Error).message}`, { cause: error })
    throw error
  }
  return reader.offset
}

/**
 * Reads a file that replaced the one followed (`old`, read up to its offset), giving `onLine` only the
 * lines that are new: a cleanup writes the lines it keeps in their order, then what was appended since,
 * so each line of the new file that comes next among the old lines was printed already. Returns the
 * offset after the last complete line.
 */
function afterKept(old: OpenLogFile, file: OpenLogFile, onLine: (line: string, at: number) => void): number {
  const before = new LineReader(old.fd, 0, old.offset)
  const after = new LineReader(file.fd, 0)
  let matching = true
  for (let at = 0, line = after.next(); line !== null; at = after.offset, line = after.next()) {
    if (matching) {
      let kept = before.next()
      while (kept !== null && kept !== line) kept = before.next()
      if (kept !== null) continue
      matching = false // the old lines are used up: this line and the rest are new
    }
    if (line !== '') onLine(line, at)
  }
  return after.offset
}

/** The complete lines of an open file from `start` to `end`, one at a time. */
class LineReader {
  /** The offset just after the last line returned. */
  offset: number
  private buffer = Buffer.alloc(0)
  private at = 0
  private position: number

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end = Number.POSITIVE_INFINITY,
  ) {
    this.offset = start
    this.position = start
  }

  /** The next complete line, without its newline, or null (a last line without one is left). */
  next(): string | null {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a, this.at)
      if (newline !== -1) {
        const line = this.buffer.toString('utf8', this.at, newline)
        this.offset += newline + 1 - this.at
        this.at = newline + 1
        return line
      }
      const want = Math.min(1 << 16, this.end - this.position)
      if (want <= 0) return null
      const chunk = Buffer.alloc(want)
      const n = readSync(this.fd, chunk, 0, want, this.position)
      if (n === 0) return null
      this.position += n
      this.buffer = Buffer.concat([this.buffer.subarray(this.at), chunk.subarray(0, n)])
      this.at = 0
    }
  }
}

/**
 * How much of the file just before the read offset is compared at each poll (changed, the file was
 * rewritten in place): the last line read, up to this many bytes.
 */
const FINGERPRINT_BYTES = 4096

interface Fingerprint {
  bytes: Buffer
  /** Whether `bytes` start a line. */
  whole: boolean
}

/**
 * The last line read: the bytes of the open file `fd` from the start of the line that ends at `offset`
 * (or from FINGERPRINT_BYTES before it, for a longer line).
 */
function fingerprint(fd: number, offset: number): Fingerprint {
  const start = Math.max(0, offset - FINGERPRINT_BYTES)
  const buf = Buffer.alloc(offset - start)
  const n = readSync(fd, buf, 0, buf.length, start)
  const newline = n < 2 ? -1 : buf.lastIndexOf(0x0a, n - 2)
  return { bytes: buf.subarray(newline + 1, n), whole: newline !== -1 || start === 0 }
}

function sameBytes(a: Fingerprint, b: Fingerprint | null): boolean {
  return b !== null && a.whole === b.whole && a.bytes.equals(b.bytes)
}

/**
 * Where to go on reading a file changed in place: just after the last line printed (`seen`) when it still
 * holds it, else its start (truncated and written again).
 */
function resumeAfter(fd: number, seen: Fingerprint | null): number {
  const line = seen?.bytes
  if (!line || line.length === 0) return 0
  const chunk = Buffer.alloc(Math.max(1 << 20, 4 * line.length))
  // The end of the previous read is kept at the start of the next one, so that a line across two reads
  // is found, with the byte before it.
  let carried = 0
  for (let position = 0; ; ) {
    const n = readSync(fd, chunk, carried, chunk.length - carried, position)
    const filled = carried + n
    const first = position === 0 ? 0 : 1 // a match at 0 of a later read was looked at in the one before
    for (let at = chunk.subarray(0, filled).indexOf(line, first); at !== -1; at = chunk.subarray(0, filled).indexOf(line, at + 1)) {
      if (!seen.whole || (at === 0 ? position === 0 : chunk[at - 1] === 0x0a)) return position - carried + at + line.length
    }
    if (n === 0) return 0
    position += n
    carried = Math.min(line.length, filled)
    chunk.copy(chunk, 0, filled - carried, filled)
  }
}
