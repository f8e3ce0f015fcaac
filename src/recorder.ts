import { reportFault } from './faults.js'
import type { EventSink, MonitorEvent, RuleSetLike } from './types.js'

/** Keys whose values are credentials wherever they appear in request parameters (e.g. `mcp_servers[].authorization_token`). */
const SECRET_KEY = /^(authorization(_token)?|api[-_]?key|x-api-key|access[-_]?token|refresh[-_]?token|client[-_]?secret|secret|password|bearer)$/i
const MASK = '[REDACTED]'

/**
 * Turns what happened into events: one envelope, serialised once, secrets masked, handed to the sink and
 * to `onEvent`. Nothing here may throw into the user's call.
 * @internal
 */
export class Recorder {
  constructor(
    readonly agentId: string,
    readonly channel: string,
    private readonly sink: EventSink | null,
    private readonly rules: RuleSetLike,
    private readonly redact: boolean,
    private readonly onEvent: ((event: MonitorEvent) => void) | undefined,
  ) {}

  record(
    name: string,
    level: MonitorEvent['level'],
    callId: string | undefined,
    data: Record<string, unknown>,
    channel = this.channel,
  ): MonitorEvent {
    let event: MonitorEvent = {
      event: name,
      channel,
      level,
      agent_id: this.agentId,
      ...(callId === undefined ? {} : { call_id: callId }),
      timestamp: new Date().toISOString(),
      data,
    }
    let line: string
    try {
      line = JSON.stringify(event)
      if (this.redact) {
        const masked = this.rules.redact(line)
        if (masked !== line) {
          line = masked
          event = JSON.parse(masked) as MonitorEvent
        }
      }
    } catch (error) {
      // A circular or BigInt parameter, or a redaction that broke the JSON: keep what can be kept.
      reportFault('serialize', error)
      try {
        event = { ...event, data: JSON.parse(JSON.stringify(data, safeReplacer(this.redact ? this.rules : null))) }
        line = JSON.stringify(event)
      } catch {
        return event
      }
    }
    if (this.sink) {
      try {
        // A sink may be async: its rejection is a fault of the monitor, never an unhandled rejection.
        const written: unknown = this.sink.write(line, event)
        if (isThenable(written)) written.then(undefined, (error: unknown) => reportFault('sink', error))
      } catch (error) {
        reportFault('sink', error)
      }
    }
    if (this.onEvent) {
      try {
        const done: unknown = this.onEvent(event)
        if (isThenable(done)) done.then(undefined, (error: unknown) => reportFault('onEvent', error))
      } catch (error) {
        reportFault('onEvent', error)
      }
    }
    return event
  }

  /** Puts queued events on disk now: a blocked call is on record before its error reaches the caller. */
  flushNow(): void {
    try {
      this.sink?.flushSync?.()
    } catch (error) {
      reportFault('sink', error)
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
}

function safeReplacer(rules: RuleSetLike | null) {
  const seen = new WeakSet<object>()
  return (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'string') return rules ? rules.redact(value) : value
    if (value && typeof value === 'object') {
      if (seen.has(value)) return '[Circular]'
      seen.add(value)
    }
    return value
  }
}

/** Nesting deeper than this is not walked: the whole branch is masked instead of being stored unchecked. */
const MAX_MASK_DEPTH = 64
const TOO_DEEP = '[REDACTED: nested too deep to check for credentials]'

/**
 * A copy of request parameters with credential-named fields masked, copying only the branches that hold
 * one (the common case, no credentials, returns the input itself). Every depth is walked (a credential
 * nested deep is still a credential); cycles are followed once; a branch nested past MAX_MASK_DEPTH is
 * masked whole rather than stored unchecked.
 * @internal
 */
export function maskSecretFields<T>(value: T, depth = 0, ancestors: object[] = []): T {
  if (value === null || typeof value !== 'object') return value
  if (ancestors.includes(value)) return value // a cycle: the serialiser replaces it
  if (depth > MAX_MASK_DEPTH) return TOO_DEEP as T
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    ancestors.push(value)
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      if (item === null || typeof item !== 'object') continue
      const masked = maskSecretFields(item, depth + 1, ancestors)
      if (masked !== item) (out ??= value.slice())[i] = masked
    }
    ancestors.pop()
    return (out ?? value) as T
  }
  if (!isPlainObject(value)) return value
  let out: Record<string, unknown> | undefined
  ancestors.push(value)
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key]
    let masked = item
    if (SECRET_KEY.test(key) && (typeof item === 'string' ? item !== '' : typeof item === 'number' || typeof item === 'bigint')) masked = MASK
    else if (item !== null && typeof item === 'object') masked = maskSecretFields(item, depth + 1, ancestors)
    if (masked !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = masked
  }
  ancestors.pop()
  return (out ?? value) as T
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
