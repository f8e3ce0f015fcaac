/**
 * Failures inside the monitor (a full disk, an adapter bug, a sink that throws) never reach the user's
 * call. Each kind is reported once on stderr and counted; `getMonitorHealth()` reads the counters.
 * @internal
 */
import { printable } from './printable.js'

const counts = new Map<string, number>()
let dropped = 0
/** Set by the command line: faults (bad lines of a log) are printed as plain warnings, several of each kind. */
let commandLine: { write(text: string): unknown; perKind: number } | undefined
/** While the command line holds its warnings: the first `perKind` of each kind in the order `compare` gives. */
let held: { compare: (a: unknown, b: unknown) => number; faults: Map<string, unknown[]> } | undefined

/** An error's message, or the value thrown as text; never throws (an object without prototype cannot be made a string). @internal */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error)
  } catch {
    try {
      return Object.prototype.toString.call(error)
    } catch {
      return 'a value that cannot be read (a revoked Proxy?)'
    }
  }
}

export function reportFault(kind: string, error: unknown): void {
  const n = (counts.get(kind) ?? 0) + 1
  counts.set(kind, n)
  // A message may quote a line of the log: its control characters are shown escaped.
  const message = () => printable(errorText(error))
  if (commandLine) {
    if (held) keepFirst(held, kind, error, commandLine.perKind)
    else if (n <= commandLine.perKind) commandLine.write(`cylestio-monitor: warning: ${message()}\n`)
    return
  }
  if (n === 1) {
    process.emitWarning(
      `${kind}: ${message()} (${kind === 'event-log-read' ? 'the query goes on without it' : 'the monitored call goes on'}; further failures of this kind are counted, see getMonitorHealth())`,
      { type: 'CylestioMonitorWarning', code: `CYLESTIO_${kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}` },
    )
  }
}

/**
 * For the command line: faults are written to `out` as `cylestio-monitor: warning: …`, the first `perKind`
 * of each kind; `faultSummary()` then says how many more there were.
 * @internal
 */
export function reportFaultsTo(out: { write(text: string): unknown }, perKind = 10): void {
  commandLine = { write: (text) => out.write(text), perKind }
}

/**
 * For the command line: the warnings that come until `releaseFaults()` are held, then written in the order
 * `compare` gives (a query that reads the log backwards meets its bad lines newest first; they are shown
 * in file order). Of each kind, the first `perKind` in that order are kept; the others are counted.
 * @internal
 */
export function holdFaults(compare: (a: unknown, b: unknown) => number): void {
  held = { compare, faults: new Map() }
}

/** Writes the warnings held since `holdFaults()`, and writes the next ones as they come. @internal */
export function releaseFaults(): void {
  const faults = held?.faults
  held = undefined
  if (!commandLine || !faults) return
  for (const errors of faults.values()) {
    for (const error of errors) commandLine.write(`cylestio-monitor: warning: ${printable(errorText(error))}\n`)
  }
}

/** Inserts `error` among the held faults of its kind in order, keeping the first `max`. */
function keepFirst(hold: NonNullable<typeof held>, kind: string, error: unknown, max: number): void {
  let errors = hold.faults.get(kind)
  if (errors === undefined) hold.faults.set(kind, (errors = []))
  let at = errors.length
  while (at > 0 && hold.compare(error, errors[at - 1]) < 0) at--
  if (at >= max) return
  errors.splice(at, 0, error)
  if (errors.length > max) errors.pop()
}

/** What `reportFaultsTo` did not print: one line per kind, or ''. @internal */
export function faultSummary(): string {
  if (!commandLine) return ''
  let text = ''
  for (const [kind, n] of counts) {
    if (n > commandLine.perKind) text += `cylestio-monitor: warning: ${n - commandLine.perKind} more warnings of this kind (${kind}) not shown\n`
  }
  return text
}

/** Counts events that could not be written (the sink reports them). */
export function countDropped(n: number): void {
  dropped += n
}

export interface MonitorHealth {
  /** Failures inside the monitor, by kind (e.g. `adapter`, `sink`, `rules`, `onEvent`). */
  faults: Record<string, number>
  /** Events that could not be written to the event log. */
  droppedEvents: number
}

/** What went wrong inside the monitor so far, in this process. */
export function getMonitorHealth(): MonitorHealth {
  return { faults: Object.fromEntries(counts), droppedEvents: dropped }
}
