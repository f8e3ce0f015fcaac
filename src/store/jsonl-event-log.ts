import { closeSync, constants, fstatSync, openSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { CylestioError } from '../errors.js'
import { countDropped, reportFault } from '../faults.js'
import type { EventSink, MonitorEvent } from '../types.js'
import { appendLines, openForAppend } from './append.js'
import { flushOnExit, forgetOnExit } from './exit.js'
import { checkedLogPath, logFiles, makeDirs, rotatedPath } from './files.js'

export interface JsonlEventLogOptions {
  /** The log file (one JSON event per line). Missing parent directories are created on the first open. */
  path: string
  /** Queued events are written at most this long after they were queued. @default 100 */
  flushIntervalMs?: number
  /**
   * A batch this large is written on the next turn of the event loop instead of waiting for the
   * interval; a producer that never yields writes it inline at four times this size, so memory stays flat.
   * @default 1000
   */
  maxBatchEvents?: number
  /** Rotate the file before it grows past this many bytes (`path` → `path.1` → `path.2` …). @default undefined (no rotation) */
  maxBytes?: number
  /** How many rotated files to keep when `maxBytes` is set; older ones are deleted. @default 5 */
  keep?: number
}

/** A rotation lock older than this was left by a process that died mid-rotation (a rotation takes milliseconds). */
const STALE_LOCK_MS = 5_000

/**
 * Takes the rotation lock of the log at `path` (a file `path.lock` created exclusively) and returns its
 * release, or undefined when another process holds it: that one is rotating the log right now, so this
 * process does not wait (it would block the application): its batch is appended to the file at the path,
 * and the next batch sees the rotated log. A lock older than STALE_LOCK_MS was left by a process killed
 * mid-rotation, and is taken over. A lock that cannot be made (a read-only folder, something else at its
 * name) is not waited for: the rotation goes on as it would alone.
 */
function lockRotation(path: string): (() => void) | undefined {
  const lock = `${path}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600))
      return () => rmSync(lock, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return () => {}
    }
    const held = statSync(lock, { throwIfNoEntry: false })
    if (held !== undefined && !held.isFile()) return () => {} // not a lock of ours: not waited for, not removed
    if (held !== undefined && Date.now() - held.mtimeMs <= STALE_LOCK_MS) return undefined
    rmSync(lock, { force: true }) // stale (or gone meanwhile): taken over, once
  }
  return undefined
}

/** `options[name]`, or `fallback` when not given: an integer of at least `min`, else `EVENT_LOG_BAD_OPTION` naming it. */
function option(options: JsonlEventLogOptions, name: 'flushIntervalMs' | 'maxBatchEvents' | 'maxBytes' | 'keep', fallback: number, min: number): number {
  const value: unknown = options[name]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const shown = typeof value === 'number' ? String(value) : value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : typeof value
    throw new CylestioError('EVENT_LOG_BAD_OPTION', `new JsonlEventLog({ ${name} }): must be a whole number of at least ${min}${name === 'maxBytes' ? ' (leave it out for no rotation)' : ''}, got ${shown}`)
  }
  return value
}

/** Queued bytes that trigger a write, whatever the number of events (large events). */
const BATCH_BYTES = 1024 * 1024
/** Queued bytes written at once, inline, by a producer that never yields: the queue's buffer grows to this size at most. */
const MAX_QUEUED_BYTES = 4 * BATCH_BYTES
/** The queue's buffer starts at this size; one made larger than MAX_QUEUED_BYTES (for one huge line) is let go after its batch. */
const INITIAL_BYTES = 64 * 1024

/**
 * The embedded event log: one JSON event per line, appended, never rewritten. Events are queued in
 * memory and written in batches (one `write()` per batch of up to 64 KiB of whole lines, to a file
 * opened with O_APPEND and mode 0600), so appending costs the same at event 1 and event 1,000,000 and
 * several processes can share one file. What is queued is written synchronously when the process exits.
 *
 * A failure (directory removed, disk full) never throws into the caller: it is reported once on stderr,
 * the batch is counted as dropped (`getMonitorHealth().droppedEvents`), and the next batch tries the path
 * again, so writing resumes when the path works again. Parent directories are created only on the first
 * open: a directory removed later is taken as removed on purpose (or an unmounted volume) and is not
 * recreated behind the user's back.
 *
 * `flush()` means written to the kernel (survives the process dying), not fsync'ed (power loss).
 *
 * @example
 * const log = new JsonlEventLog({ path: './events.jsonl', maxBytes: 50e6, keep: 3 })
 * log.write(JSON.stringify(event), event)
 * await log.flush()
 */
export class JsonlEventLog implements EventSink {
  readonly path: string
  private readonly flushIntervalMs: number
  private readonly maxBatchEvents: number
  private readonly maxBytes: number | undefined
  private readonly keep: number
  /**
   * The queue: each event's line encoded as UTF-8 when it is written, followed by a newline. Encoding
   * into a buffer kept from one batch to the next costs a fraction of keeping the strings, joining them
   * and allocating a buffer per batch (and the strings die young instead of being copied by the GC).
   */
  private bytes = Buffer.allocUnsafe(0)
  private used = 0
  private queued = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private immediate: ReturnType<typeof setImmediate> | null = null
  private fd: number | null = null
  private ino = 0
  private dev = 0
  private size = 0
  private openedOnce = false

  constructor(options: JsonlEventLogOptions) {
    this.path = checkedLogPath(options?.path, 'new JsonlEventLog({ path })')
    // Checked here, where a mistake is the caller's: a `keep` of Infinity or NaN would loop or recurse
    // in the rotation on a user's call, a `maxBytes` of 0 or null would rotate (and delete) at every batch.
    this.flushIntervalMs = option(options, 'flushIntervalMs', 100, 0)
    this.maxBatchEvents = option(options, 'maxBatchEvents', 1000, 1)
    this.maxBytes = options.maxBytes === undefined ? undefined : option(options, 'maxBytes', 0, 1)
    this.keep = option(options, 'keep', 5, 1)
  }

  /** Queues one line (the event serialised once, without a newline). Never throws, never waits for the disk. */
  write(line: string, _event?: MonitorEvent): void {
    // A UTF-16 code unit takes at most three bytes of UTF-8; the exact size is counted only when that might not fit.
    if (this.bytes.length - this.used < line.length * 3 + 1) {
      const size = Buffer.byteLength(line, 'utf8') + 1
      // What is queued is written rather than the buffer grown past its cap (a line larger than it gets room of its own).
      if (this.used > 0 && this.used + size > MAX_QUEUED_BYTES) this.flushSync()
      this.reserve(size)
    }
    // Registered per batch rather than once, so that a closed log that is written again is still flushed at exit.
    // The queue is written before the line that would take the file past `maxBytes`: the file is rotated
    // before that line, not a whole batch later (a producer that never yields queues up to 4 MB). One
    // comparison an event (the line's bytes are counted only near the limit); a write more per rotation.
    if (this.maxBytes !== undefined && this.used > 0 && this.size + this.used + line.length * 3 >= this.maxBytes && this.size + this.used + Buffer.byteLength(line, 'utf8') >= this.maxBytes) this.flushSync()
    if (this.queued === 0) flushOnExit(this)
    this.used += this.bytes.write(line, this.used, 'utf8')
    this.bytes[this.used++] = 0x0a
    const n = ++this.queued
    if (n >= 4 * this.maxBatchEvents || this.used >= MAX_QUEUED_BYTES) {
      this.flushSync()
    } else if (n >= this.maxBatchEvents || this.used >= BATCH_BYTES) {
      this.immediate ??= setImmediate(this.onTick).unref()
    } else if (this.timer === null) {
      this.timer = setTimeout(this.onTick, this.flushIntervalMs).unref()
    }
  }

  /** Makes room for `size` more bytes in the queue's buffer, keeping what is queued. */
  private reserve(size: number): void {
    if (this.bytes.length - this.used >= size) return
    const grown = Buffer.allocUnsafe(Math.max(this.used + size, Math.min(2 * this.bytes.length, MAX_QUEUED_BYTES), INITIAL_BYTES))
    this.bytes.copy(grown, 0, 0, this.used)
    this.bytes = grown
  }

  /** Resolves when every event written so far is in the file. */
  flush(): Promise<void> {
    this.flushSync()
    return Promise.resolve()
  }

  /** Writes what is queued before returning. */
  flushSync(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    if (this.immediate !== null) clearImmediate(this.immediate)
    this.timer = null
    this.immediate = null
    if (this.queued === 0) return
    const buf = this.bytes.subarray(0, this.used)
    const count = this.queued
    this.used = 0
    this.queued = 0
    try {
      appendLines(this.open(buf.length), buf)
      this.size += buf.length
    } catch (error) {
      this.closeFile()
      reportFault('event-log', error instanceof Error ? new Error(`${this.path}: ${error.message}`) : error)
      countDropped(count)
    }
    // A burst of large events does not keep its buffer.
    if (this.bytes.length > MAX_QUEUED_BYTES) this.bytes = Buffer.allocUnsafe(0)
  }

  /** Writes what is queued and closes the file; a later `write()` opens it again. */
  close(): void {
    this.flushSync()
    this.closeFile()
    forgetOnExit(this)
  }

  private readonly onTick = (): void => this.flushSync()

  /** The descriptor to write `incoming` bytes to, following the path (not the inode) and rotating. */
  private open(incoming: number): number {
    if (this.fd !== null) {
      // Another process may have rotated or cleaned up the file, or someone removed it: follow the path.
      const st = statSync(this.path, { throwIfNoEntry: false })
      if (!st || st.ino !== this.ino || st.dev !== this.dev) this.closeFile()
      else this.size = st.size
    }
    const fd = this.fd ?? this.openPath()
    if (this.maxBytes !== undefined && this.size > 0 && this.size + incoming > this.maxBytes) {
      this.rotate()
      // Rotated by this process or another: the batch goes to the file at the path now, as full as it is
      // (another process may have filled it meanwhile; it is not rotated twice in a row).
      return this.openPath()
    }
    return fd
  }

  /** Opens the file at the path for appending (its folders made on the first open) and takes its size. */
  private openPath(): number {
    if (!this.openedOnce) makeDirs(dirname(this.path))
    const fd = openForAppend(this.path)
    const st = fstatSync(fd)
    this.fd = fd
    this.ino = st.ino
    this.dev = st.dev
    this.size = st.size
    this.openedOnce = true
    return fd
  }

  /**
   * `path.(keep-1)` → `path.keep` (replacing the oldest) … `path` → `path.1`. Other processes appending to
   * the same file follow on their next batch (they check the path before each write). Processes that
   * decide to rotate at the same instant rotate one at a time (a lock file, `path.lock`), and only the first
   * rotates: the others find a new file at the path.
   */
  private rotate(): void {
    const { ino, dev } = this
    this.closeFile()
    // Processes sharing the log rotate one at a time: two renaming `path.1` to `path.2` at once would have
    // the second rename overwrite the file the first just moved there (a generation lost). Under the lock,
    // a file at the path other than the one this process found full was made by another's rotation: the
    // log is rotated already, and this process appends to the new file.
    const unlock = lockRotation(this.path)
    if (unlock === undefined) return // another process is rotating: this batch goes to the file at the path
    try {
      const st = statSync(this.path, { throwIfNoEntry: false })
      if (st === undefined || st.ino !== ino || st.dev !== dev) return
      // From the oldest file there is (one listing of the folder), not from `keep`: a large `keep` would
      // cost a rename attempt for every number up to it at every rotation. Files past `keep` (a `keep`
      // lowered since) are deleted.
      const [oldest] = logFiles(this.path) // `path.N` with the highest N, or the path itself
      const highest = oldest === undefined || oldest === resolve(this.path) ? 0 : Number(oldest.slice(oldest.lastIndexOf('.') + 1))
      for (let n = highest; n >= this.keep; n--) rmSync(rotatedPath(this.path, n), { force: true })
      for (let n = Math.min(this.keep, highest + 1); n >= 1; n--) {
        try {
          renameSync(n === 1 ? this.path : rotatedPath(this.path, n - 1), rotatedPath(this.path, n))
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        }
      }
    } catch (error) {
      // A rotation that fails (a folder the log's file can be written in but not renamed in) loses nothing:
      // the batch is appended to the file as it is, and the next batch tries again.
      reportFault('event-log', error instanceof Error ? new Error(`${this.path}: cannot rotate: ${error.message}`) : error)
    } finally {
      unlock()
    }
  }

  private closeFile(): void {
    if (this.fd === null) return
    try {
      closeSync(this.fd)
    } catch {
      // Already unusable; a new descriptor is opened on the next batch.
    }
    this.fd = null
  }
}
