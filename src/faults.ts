/**
 * Failures inside the monitor (a full disk, an adapter bug, a sink that throws) never reach the user's
 * call. Each kind is reported once on stderr and counted; `getMonitorHealth()` reads the counters.
 * @internal
 */
const counts = new Map<string, number>()
let dropped = 0

export function reportFault(kind: string, error: unknown): void {
  const n = (counts.get(kind) ?? 0) + 1
  counts.set(kind, n)
  if (n === 1) {
    const message = error instanceof Error ? error.message : String(error)
    process.emitWarning(
      `${kind}: ${message} (the monitored call goes on; further failures of this kind are counted, see getMonitorHealth())`,
      { type: 'CylestioMonitorWarning', code: `CYLESTIO_${kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}` },
    )
  }
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
