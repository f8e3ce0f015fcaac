import { reportFault } from '../faults.js'
import { flushOnExit } from './exit.js'
import { JsonlEventFile } from './jsonl-event-file.js'
import type { EventSink, LowdbLike, MonitorEvent } from '../types.js'

export type { LowdbLike }

/** @internal */
export function isLowdb(value: unknown): value is LowdbLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    'adapter' in value &&
    'data' in value &&
    typeof (value as LowdbLike).read === 'function' &&
    typeof (value as LowdbLike).write === 'function'
  )
}

/**
 * Keeps events in a lowdb document (`db.data.events`) written with the database's own adapter, for people
 * who want one JSON document. The cost: the whole log lives in memory and every write rewrites the whole
 * file (lowdb's `JSONFile` serialises everything and renames a temp file), so a write costs O(events so far).
 * Writes are coalesced to one per `flushIntervalMs`; fine for thousands of events, not for months of
 * traffic — use the default JSONL log (`JsonlEventLog`) for that. Pass a `Low` you have already `read()`.
 *
 * lowdb writes the whole document, so a `Low` that was not read would replace the events in its file with
 * ours. Before its first write the sink reads the file through the database's adapter: when the document
 * handed over held no events and the file holds some, the file's document is taken in (what `read()` would
 * have done) and ours are added after its events; when it held some but fewer than the file (a stale copy),
 * nothing is written and the fault is reported. A `JsonlEventFile` adapter only appends: not checked.
 * @internal
 */
export class LowdbEventSink implements EventSink {
  private timer: ReturnType<typeof setTimeout> | null = null
  private pending = 0
  private writing: Promise<void> | null = null
  /** Events the document held when it was handed over. */
  private readonly heldAtStart: number
  /** Whether the file was compared with the document (done before the first write). */
  private checked: boolean

  constructor(
    private readonly db: LowdbLike,
    private readonly flushIntervalMs = 100,
  ) {
    this.heldAtStart = db.data?.events?.length ?? 0
    this.checked = db.adapter instanceof JsonlEventFile
    flushOnExit(this)
  }

  write(_line: string, event: MonitorEvent): void {
    this.db.data ??= { events: [] }
    ;(this.db.data.events ??= []).push(event)
    this.pending++
    this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref()
  }

  async flush(): Promise<void> {
    this.clearTimer()
    while (this.writing) await this.writing
    if (this.pending === 0) return
    const n = this.pending
    this.pending = 0
    this.writing = Promise.resolve()
      .then(() => this.persist())
      .then(
        () => undefined,
        (error: unknown) => this.fail(error, n),
      )
      .finally(() => {
        this.writing = null
      })
    await this.writing
  }

  /** Only a `LowSync` can be written synchronously; an async `Low` is written by `flush()`. */
  flushSync(): void {
    this.clearTimer()
    if (this.pending === 0 || this.writing) return
    const n = this.pending
    this.pending = 0
    try {
      const result = this.persist()
      if (result instanceof Promise) {
        this.writing = result.then(
          () => undefined,
          (error: unknown) => this.fail(error, n),
        ).finally(() => {
          this.writing = null
        })
      }
    } catch (error) {
      this.fail(error, n)
    }
  }

  /** `db.write()`, after checking the file the first time (see the class comment). Sync for a `LowSync`. */
  private persist(): unknown {
    if (this.checked) return this.db.write()
    const adapter = this.db.adapter as { read?: () => unknown } | null
    const onDisk: unknown = typeof adapter?.read === 'function' ? adapter.read() : null
    return onDisk instanceof Promise ? onDisk.then((doc) => this.writeOver(doc)) : this.writeOver(onDisk)
  }

  private writeOver(doc: unknown): unknown {
    const fileEvents = (doc as { events?: unknown } | null)?.events
    const n = Array.isArray(fileEvents) ? fileEvents.length : 0
    if (n > this.heldAtStart) {
      if (this.heldAtStart > 0) {
        throw new Error(
          `lowdb store: its file holds ${n} events but the document passed to monitor() held ${this.heldAtStart}; ` +
            'not overwriting the file (read() the database before passing it, and let only one writer use the file)',
        )
      }
      // Never read: take in the file's document, as read() would have, and keep ours after its events.
      this.db.data = { ...(doc as object), events: [...(fileEvents as MonitorEvent[]), ...(this.db.data?.events ?? [])] }
    }
    this.checked = true
    return this.db.write()
  }

  /** The events stay in `db.data.events`, so the next write carries them: report, do not drop. */
  private fail(error: unknown, n: number): void {
    reportFault('event-log', error)
    this.pending += n
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
