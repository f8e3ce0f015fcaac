import { performance } from 'node:perf_hooks'
import { reportFault } from './faults.js'
import type { EventSink, MonitorEvent, RuleSetLike } from './types.js'

/** Keys whose values are credentials wherever they appear in request parameters (e.g. `mcp_servers[].authorization_token`). */
const SECRET_KEY = /^(authorization(_token)?|api[-_]?key|x-api-key|access[-_]?token|refresh[-_]?token|client[-_]?secret|secret|password|bearer)$/i
const MASK = '[REDACTED]'
const keep = (s: string) => s
const KNOWN_CLEAN_MAX = 2048
/** Integers from this size on are checked as text (a card or phone number held as a number). */
const LONG_NUMBER = 100_000
const KNOWN_CLEAN_MAX_LENGTH = 64

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

  /**
   * Records one event. `clean` holds strings the rules have just scanned with no redaction rule firing:
   * they are not checked again (a 100 KB prompt is scanned once per call, not once more when stored).
   */
  record(
    name: string,
    level: MonitorEvent['level'],
    callId: string | undefined,
    data: Record<string, unknown>,
    channel = this.channel,
    clean?: ReadonlySet<string>,
  ): MonitorEvent {
    const envelope: Omit<MonitorEvent, 'data'> =
      callId === undefined
        ? { event: name, channel, level, agent_id: this.agentId, timestamp: isoNow() }
        : { event: name, channel, level, agent_id: this.agentId, call_id: callId, timestamp: isoNow() }
    let event: MonitorEvent
    let line: string
    try {
      event = { ...envelope, data: this.sanitize(data, clean) }
      line = JSON.stringify(event)
    } catch (error) {
      // A circular or BigInt parameter, a getter that throws: keep what can be kept.
      reportFault('serialize', error)
      try {
        event = { ...envelope, data: JSON.parse(JSON.stringify(data, safeReplacer(this.redact ? this.rules : null))) }
        line = JSON.stringify(event)
      } catch (again) {
        // Still not serialisable: the event is kept, with what went wrong in place of its data.
        event = { ...envelope, data: { unserializable: again instanceof Error ? again.message : String(again) } }
        line = JSON.stringify(event)
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

  /**
   * Credential-named fields masked; with `redact`, every string not in `clean` checked against the
   * redaction rules in one pass over them all, and masked one by one only when that pass finds something.
   * Copies only the branches that change.
   */
  private sanitize(data: Record<string, unknown>, clean: ReadonlySet<string> | undefined): Record<string, unknown> {
    if (!this.redact) return transform(data, 0, [], undefined, keep) as Record<string, unknown>
    const pending: string[] = []
    let out = transform(data, 0, [], undefined, (s) => {
      if (!clean?.has(s) && !this.knownClean.has(s)) pending.push(s)
      return s
    })
    if (pending.length > 0) {
      const joined = pending.join('\n')
      if (this.rules.redact(joined) !== joined) {
        out = transform(data, 0, [], undefined, (s) => (clean?.has(s) ? s : this.rules.redact(s)))
      } else {
        this.rememberClean(pending)
      }
    }
    return out as Record<string, unknown>
  }

  /**
   * Short strings found clean (model names, roles, method names, stop reasons) recur in every event:
   * remembered, they are not checked again. Bounded: the set starts over when full.
   */
  private readonly knownClean = new Set<string>()

  private rememberClean(strings: string[]): void {
    for (const s of strings) {
      if (s.length > KNOWN_CLEAN_MAX_LENGTH) continue
      if (this.knownClean.size >= KNOWN_CLEAN_MAX) this.knownClean.clear()
      this.knownClean.add(s)
    }
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

/** The largest time value a `Date` holds (±100,000,000 days). */
const MAX_TIME = 8.64e15
let minuteStart = -1
let minutePrefix = ''

/**
 * `new Date().toISOString()`, at a fraction of its cost: the date, hour and minute are formatted once a
 * minute, the seconds and milliseconds by arithmetic.
 * @internal
 */
export function isoNow(clock = Date.now()): string {
  // A clock that is not a whole number (a patched `Date.now`): the time `Date` would make of it, or, when it is
  // no time at all (NaN, ±Infinity, out of range), the process's own monotonic clock rather than a throw.
  let now = Math.trunc(clock)
  if (!(Math.abs(now) <= MAX_TIME)) now = Math.trunc(performance.timeOrigin + performance.now())
  const inMinute = now % 60_000
  if (now - inMinute !== minuteStart || inMinute < 0) {
    if (inMinute < 0) return new Date(now).toISOString() // before 1970: not worth a fast path
    minuteStart = now - inMinute
    const iso = new Date(minuteStart).toISOString()
    minutePrefix = iso.slice(0, iso.length - 7) // without 'SS.mmmZ': 'YYYY-MM-DDTHH:MM:' (or '+YYYYYY-…')
  }
  const s = Math.floor(inMinute / 1000)
  const ms = inMinute % 1000
  return `${minutePrefix}${s < 10 ? '0' : ''}${s}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`
}

/** Whether a field of this name holds a credential. Field names recur: each is tested once. */
const secretKeys = new Map<string, boolean>()
function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key)
  if (secret === undefined) {
    secret = SECRET_KEY.test(key)
    if (secretKeys.size >= 4096) secretKeys.clear()
    secretKeys.set(key, secret)
  }
  return secret
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
}

function safeReplacer(rules: RuleSetLike | null) {
  const seen = new WeakSet<object>()
  return (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'string') return rules ? rules.redact(value) : value
    if (rules && typeof value === 'number' && rules.redact(String(value)) !== String(value)) return rules.redact(String(value))
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
 * A copy of `value` with credential-named fields masked and every other string passed through `onString`,
 * copying only the branches that change (the common case returns the input itself). Every depth is walked
 * (a credential nested deep is still a credential); cycles are left to the serialiser; a branch nested past
 * MAX_MASK_DEPTH is masked whole rather than stored unchecked.
 * @internal
 */
export function transform(value: unknown, depth: number, ancestors: object[], key: string | undefined, onString: (s: string) => string): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && value !== '' && isSecretKey(key)) return MASK
    return onString(value)
  }
  if (value === null || typeof value !== 'object') {
    if (key !== undefined && (typeof value === 'number' || typeof value === 'bigint') && isSecretKey(key)) return MASK
    // A number is written as its digits: a card number held as a number is a card number. Only long
    // integers can hold one (cards, phones, IDs); counts, sizes and durations are not checked.
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= LONG_NUMBER) {
      const digits = String(value)
      const masked = onString(digits)
      return masked === digits ? value : masked
    }
    return value
  }
  if (ancestors.includes(value)) return value // a cycle: the serialiser reports it
  if (depth > MAX_MASK_DEPTH) return TOO_DEEP
  ancestors.push(value)
  try {
    if (Array.isArray(value)) {
      let out: unknown[] | undefined
      for (let i = 0; i < value.length; i++) {
        const item = value[i]
        const next = transform(item, depth + 1, ancestors, undefined, onString)
        if (next !== item) (out ??= value.slice())[i] = next
      }
      return out ?? value
    }
    // What JSON.stringify writes: `toJSON()`'s result (Dates), else the own enumerable fields.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      const json: unknown = (value as { toJSON: (key: string) => unknown }).toJSON(key ?? '')
      const next = transform(json, depth + 1, ancestors, key, onString)
      return next === json ? value : next
    }
    let out: Record<string, unknown> | undefined
    let renamed: Map<string, string> | undefined
    const keys = Object.keys(value)
    for (const k of keys) {
      // A key is written as it is: an address or a key used as a field name is masked like any text.
      const name = onString(k)
      if (name !== k) (renamed ??= new Map()).set(k, name)
      const item = (value as Record<string, unknown>)[k]
      const next = transform(item, depth + 1, ancestors, k, onString)
      if (next !== item) (out ??= { ...(value as Record<string, unknown>) })[k] = next
    }
    if (renamed) {
      const source = out ?? (value as Record<string, unknown>)
      const copy: Record<string, unknown> = {}
      for (const k of keys) copy[renamed.get(k) ?? k] = source[k]
      return copy
    }
    return out ?? value
  } finally {
    ancestors.pop()
  }
}
