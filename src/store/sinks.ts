import { dirname, resolve } from 'node:path'
import { JSONFileSync } from 'lowdb/node'
import { LowSync } from 'lowdb'
import { countDropped, reportFault } from '../faults.js'
import type { EventSink, MonitorEvent, StoreOption } from '../types.js'
import { defaultEventsPath, makeDirs } from './files.js'
import { JsonlEventLog } from './jsonl-event-log.js'
import { isLowdb, LowdbEventSink } from './lowdb-sink.js'

export type { StoreOption }

/** Every sink handed out by `resolveSink`, so that `flush()` reaches them all. */
const resolved = new Set<EventSink>()
/** Events that are decided but not recorded yet (a call read only as a raw response): recorded before a flush. */
const beforeFlush = new Set<() => void>()

/** Runs `settle` at the start of every `flush()`. @internal */
export function settleBeforeFlush(settle: () => void): void {
  beforeFlush.add(settle)
}

/** One writer per absolute path per process: several monitored clients share it. */
const byPath = new Map<string, EventSink>()

/**
 * Turns the `store` option into a sink. `undefined` means `CYLESTIO_EVENTS_FILE`, else
 * `./cylestio-events.jsonl`, resolved against the working directory where the process first used the
 * default path (see `defaultEventsPath`); a path given is resolved now.
 *
 * @example
 * const { sink, path } = resolveSink('./logs/events.jsonl') // path: '/app/logs/events.jsonl'
 */
export function resolveSink(store: StoreOption | undefined): { sink: EventSink | null; path: string | null } {
  if (store === false) return { sink: null, path: null }
  if (store === undefined || typeof store === 'string') {
    const path = store === undefined ? defaultEventsPath() : resolve(store)
    return { sink: shared(path, () => new JsonlEventLog({ path })), path }
  }
  if (isLowdb(store)) return { sink: remember(new LowdbEventSink(store)), path: null }
  if ('kind' in store && store.kind === 'lowdb-json') {
    const path = resolve(store.path)
    return { sink: shared(path, () => openLowdbJson(path)), path }
  }
  return { sink: remember(store as EventSink), path: null }
}

/** How long `flush()` waits for one sink before reporting it and going on. */
const SINK_FLUSH_TIMEOUT_MS = 5000

/**
 * Resolves when every event handed to a sink from `resolveSink` (every monitored client's store) is on
 * disk. Never rejects: a sink that fails is reported (see `getMonitorHealth()`), and one whose `flush()`
 * has not settled after SINK_FLUSH_TIMEOUT_MS is reported as timed out and no longer waited for.
 */
export async function flush(): Promise<void> {
  for (const settle of beforeFlush) settle()
  // `async`: a sink whose flush throws synchronously (or has none) is reported, not thrown.
  const results = await Promise.allSettled([...resolved].map(async (sink) => withTimeout(sink.flush?.())))
  for (const r of results) if (r.status === 'rejected') reportFault('sink', r.reason)
}

/** `done`, or a rejection once the sink has had SINK_FLUSH_TIMEOUT_MS to settle it. */
async function withTimeout(done: Promise<void> | undefined): Promise<void> {
  if (done === undefined || typeof (done as { then?: unknown }).then !== 'function') return
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`sink flush timed out (not settled after ${SINK_FLUSH_TIMEOUT_MS / 1000} s)`)), SINK_FLUSH_TIMEOUT_MS)
  })
  try {
    await Promise.race([done, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Writes what this process has queued for the JSONL log at `path` (absolute), synchronously: a query of
 * that file sees what was recorded, and never waits for other sinks (a custom sink that hangs, another log).
 * @internal
 */
export function flushLog(path: string): void {
  for (const settle of beforeFlush) settle()
  for (const sink of resolved) if (sink instanceof JsonlEventLog && sink.path === path) sink.flushSync()
}

function shared(path: string, create: () => EventSink): EventSink {
  let sink = byPath.get(path)
  if (!sink) {
    sink = remember(create())
    byPath.set(path, sink)
  }
  return sink
}

function remember(sink: EventSink): EventSink {
  resolved.add(sink)
  return sink
}

/**
 * A lowdb JSON document at `path`, written with `LowSync` so that it can be written at exit. lowdb writes
 * a temp file and renames it, so the file gets the process umask's mode, not 0600. A file that does not
 * parse is never overwritten: events are then reported and counted as dropped.
 */
function openLowdbJson(path: string): EventSink {
  const db = new LowSync<{ events: MonitorEvent[] }>(new JSONFileSync(path), { events: [] })
  try {
    makeDirs(dirname(path))
    db.read()
    return new LowdbEventSink(db)
  } catch (error) {
    reportFault('event-log', error instanceof Error ? new Error(`${path}: ${error.message}`) : error)
    return { write: () => countDropped(1), flush: async () => {} }
  }
}
