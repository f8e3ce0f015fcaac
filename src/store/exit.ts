/** Sinks whose queue is written synchronously when the process exits. @internal */
const live = new Set<{ flushSync(): void }>()
let installed = false

/**
 * Writes `sink`'s queue on exit. `process.on('exit')` also runs after `process.exit()` and after an
 * uncaught exception; the hook is installed on first use, so importing the store has no side effect.
 * @internal
 */
export function flushOnExit(sink: { flushSync(): void }): void {
  live.add(sink)
  if (installed) return
  installed = true
  process.on('exit', () => {
    for (const s of live) s.flushSync()
  })
}

/** @internal */
export function forgetOnExit(sink: { flushSync(): void }): void {
  live.delete(sink)
}
