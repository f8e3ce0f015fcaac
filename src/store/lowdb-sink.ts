import { reportFault } from '../faults.js'
import { flushOnExit } from './exit.js'
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
 * @internal
 */
export class LowdbEventSink implements EventSink {
  private timer: ReturnType<typeof setTimeout> | null = null
  private pending = 0
  private writing: Promise<void> | null = null

  constructor(
    private readonly db: LowdbLike,
    private readonly flushIntervalMs = 100,
  ) {
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
      .then(() => this.db.write())
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
      const result = this.db.write()
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
