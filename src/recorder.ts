import { performance } from 'node:perf_hooks'
import { types } from 'node:util'
import { errorText, reportFault } from './faults.js'
import { setField } from './fields.js'
import { JsonlEventLog } from './store/jsonl-event-log.js'
import type { EventSink, MonitorEvent, RuleSetLike } from './types.js'

/** Keys whose values are credentials wherever they appear in request parameters (e.g. `mcp_servers[].authorization_token`). */
const SECRET_KEY = /^(authorization(_token)?|api[-_]?key|x-api-key|access[-_]?token|refresh[-_]?token|client[-_]?secret|secret|password|bearer)$/i
const MASK = '[REDACTED]'
const keep = (s: string) => s
const KNOWN_CLEAN_MAX = 2048
/** Integers from this size on are checked as text (a card or phone number held as a number). */
const LONG_NUMBER = 100_000
const KNOWN_CLEAN_MAX_LENGTH = 64
/** Strings longer than this are checked for secrets one by one, not joined with the event's other strings. */
const LONG_STRING = 4096

/** The line an event was recorded as, kept on the event `record()` returns (a symbol: never serialised). */
const RECORDED_LINE = Symbol('cylestio.recordedLine')

/**
 * A copy of `event` as it was recorded (its line parsed again), sharing nothing with the caller's objects;
 * an event that did not come from `Recorder.record` is returned as it is.
 * @internal
 */
export function recordedCopy(event: MonitorEvent): MonitorEvent {
  const line = (event as { [RECORDED_LINE]?: string })[RECORDED_LINE]
  return line === undefined ? event : (JSON.parse(line) as MonitorEvent)
}

/**
 * Turns what happened into events: one envelope, serialised once, secrets masked, handed to the sink and
 * to `onEvent`. Nothing here may throw into the user's call.
 *
 * The event object shares the request's and the response's objects with the caller (only what is masked is
 * copied). Whatever may keep it or change it — `onEvent`, a sink other than our own JSONL log (which uses
 * only the line) — gets its own copy parsed from the recorded line: what it sees is what was recorded,
 * masked, and later changes on either side do not reach the other. The default configuration makes no copy.
 * @internal
 */
export class Recorder {
  /** Whether the sink reads `write()`'s event argument (every sink but `JsonlEventLog`, which writes the line). */
  private readonly sinkReadsEvent: boolean

  constructor(
    readonly agentId: string,
    readonly channel: string,
    private readonly sink: EventSink | null,
    private readonly rules: RuleSetLike,
    private readonly redact: boolean,
    private readonly onEvent: ((event: MonitorEvent) => void) | undefined,
  ) {
    this.sinkReadsEvent = sink !== null && sink.write !== JsonlEventLog.prototype.write
    this.joinable = (rules as { redactJoinable?: unknown }).redactJoinable === true
  }

  /**
   * Whether an event's strings may be checked for secrets in one pass over them joined: not when a
   * redaction rule anchors to a whole text (`^…$`), nor for a rule set that does not say (not the package's).
   */
  private readonly joinable: boolean

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
    const timestamp = isoNow()
    // The event is made whole in one literal, its fields in their order: `{ ...envelope, data }` cost a
    // microsecond more an event (bench/overhead.mjs).
    const eventWith = (data: Record<string, unknown>): MonitorEvent =>
      callId === undefined
        ? { event: name, channel, level, agent_id: this.agentId, timestamp, data }
        : { event: name, channel, level, agent_id: this.agentId, call_id: callId, timestamp, data }
    let event: MonitorEvent
    let line: string
    try {
      event = eventWith(this.sanitize(data, clean))
      line = JSON.stringify(event)
    } catch (error) {
      // A circular or BigInt parameter, a getter that throws: keep what can be kept, masked the same way
      // (cycles written as '[Circular]', BigInts as their digits).
      reportFault('serialize', new Error(this.mask(errorText(error))))
      try {
        event = eventWith(this.sanitize(data, clean, true))
        line = JSON.stringify(event)
      } catch (again) {
        // Still not serialisable: the event is kept, with what went wrong in place of its data.
        event = eventWith({ unserializable: this.mask(errorText(again)) })
        line = JSON.stringify(event)
      }
    }
    if (this.sink) {
      try {
        // A sink may be async: its rejection is a fault of the monitor, never an unhandled rejection.
        const written: unknown = this.sink.write(line, this.sinkReadsEvent ? (JSON.parse(line) as MonitorEvent) : event)
        if (isThenable(written)) written.then(undefined, (error: unknown) => reportFault('sink', error))
      } catch (error) {
        reportFault('sink', error)
      }
    }
    if (this.onEvent) {
      try {
        const done: unknown = this.onEvent(JSON.parse(line) as MonitorEvent)
        if (isThenable(done)) done.then(undefined, (error: unknown) => reportFault('onEvent', error))
      } catch (error) {
        reportFault('onEvent', error)
      }
    }
    ;(event as { [RECORDED_LINE]?: string })[RECORDED_LINE] = line
    return event
  }

  /**
   * Credential-named fields masked; with `redact`, every string not in `clean` checked against the
   * redaction rules in one pass over them all, and masked one by one only when that pass finds something.
   * Copies only the branches that change. `safe`: cycles and BigInts made serialisable too (see `transform`).
   */
  /** `text` with the redaction rules applied: a fault's message may quote what the call held. */
  mask(text: string): string {
    if (!this.redact) return text
    try {
      return this.rules.redact(text)
    } catch {
      return '[message withheld: the redaction rules failed on it]'
    }
  }

  private sanitize(data: Record<string, unknown>, clean: ReadonlySet<string> | undefined, safe = false): Record<string, unknown> {
    if (!this.redact) return transform(data, 0, [], undefined, keep, safe) as Record<string, unknown>
    const pending: string[] = []
    let long: string[] | undefined
    let out = transform(data, 0, [], undefined, (s) => {
      // Field names and short values recur: most are found in `knownClean`, so it is asked first.
      if (!this.knownClean.has(s) && !clean?.has(s)) {
        if (this.alone(s)) (long ??= []).push(s)
        else pending.push(s)
      }
      return s
    }, safe)
    // A long string (a prompt, a tool's output) is masked on its own, once: checked together with the
    // others and then masked again, it would be read twice. So is every string when joining is not exact.
    let masked: Map<string, string> | undefined
    if (long) {
      const found: string[] = []
      for (const s of long) {
        const m = this.rules.redact(s)
        if (m !== s) (masked ??= new Map()).set(s, m)
        else found.push(s)
      }
      this.rememberClean(found)
    }
    let shortMasked = false
    if (pending.length > 0) {
      const joined = pending.join('\n')
      shortMasked = this.rules.redact(joined) !== joined
      if (!shortMasked) this.rememberClean(pending)
    }
    if (masked || shortMasked) {
      out = transform(data, 0, [], undefined, (s) => {
        const m = masked?.get(s)
        if (m !== undefined) return m
        if (clean?.has(s) || this.alone(s) || !shortMasked) return s
        return this.rules.redact(s)
      }, safe)
    }
    return out as Record<string, unknown>
  }

  /** Whether `s` is checked for secrets on its own (see `sanitize`). */
  private alone(s: string): boolean {
    return !this.joinable || s.length > LONG_STRING
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

/** Nesting deeper than this is not walked: the whole branch is masked instead of being stored unchecked. */
const MAX_MASK_DEPTH = 64
const TOO_DEEP = '[REDACTED: nested too deep to check for credentials]'

/**
 * A copy of `value` with credential-named fields masked and every other string passed through `onString`,
 * copying only the branches that change (the common case returns the input itself). Every depth is walked
 * (a credential nested deep is still a credential); cycles are left to the serialiser; a branch nested past
 * MAX_MASK_DEPTH is masked whole rather than stored unchecked.
 *
 * `safe` (when the plain copy could not be serialised): a cycle becomes '[Circular]' and a BigInt its digits,
 * checked as text like a long number, so that what is stored then is masked exactly as it would be otherwise.
 * @internal
 */
export function transform(
  value: unknown,
  depth: number,
  ancestors: object[],
  key: string | undefined,
  onString: (s: string) => string,
  safe = false,
): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && value !== '' && isSecretKey(key)) return MASK
    return onString(value)
  }
  if (value === null || typeof value !== 'object') {
    if (key !== undefined && (typeof value === 'number' || typeof value === 'bigint') && isSecretKey(key)) return MASK
    if (safe && typeof value === 'bigint') return onString(value.toString())
    // A number is written as its digits: a card number held as a number is a card number. Only long
    // integers can hold one (cards, phones, IDs); counts, sizes and durations are not checked.
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= LONG_NUMBER) {
      const digits = String(value)
      const masked = onString(digits)
      return masked === digits ? value : masked
    }
    return value
  }
  if (ancestors.includes(value)) return safe ? '[Circular]' : value // a cycle: the serialiser reports it, unless `safe`
  if (depth > MAX_MASK_DEPTH) return TOO_DEEP
  // What JSON.stringify writes in place of the object: `toJSON()`'s result (Dates), or the value of a
  // `new String(…)`, `new Number(…)`, `new Boolean(…)` (of any realm, through its own `toString`). That value
  // is checked and returned, so that what is written is what was checked (the object is not read twice).
  let json: unknown
  try {
    json = asJson(value, key)
  } catch (error) {
    // A toJSON (or toString) that throws: the serialiser would throw too; the safe copy says so in its place.
    if (!safe) throw error
    return onString(`[unreadable: ${errorText(error)}]`)
  }
  if (json !== value) return transform(json, depth + 1, ancestors, key, onString, safe)
  if (safe) return readableCopy(value, depth, ancestors, key, onString)
  ancestors.push(value)
  try {
    if (Array.isArray(value)) {
      let out: unknown[] | undefined
      for (let i = 0; i < value.length; i++) {
        const item = value[i]
        const next = transform(item, depth + 1, ancestors, undefined, onString, safe)
        if (next !== item) (out ??= value.slice())[i] = next
      }
      return out ?? value
    }
    let out: Record<string, unknown> | undefined
    let renamed: Map<string, string> | undefined
    const keys = Object.keys(value)
    for (const k of keys) {
      // A key is written as it is: an address or a key used as a field name is masked like any text.
      const name = onString(k)
      if (name !== k) (renamed ??= new Map()).set(k, name)
      const item = (value as Record<string, unknown>)[k]
      const next = transform(item, depth + 1, ancestors, k, onString, safe)
      if (next !== item) (out ??= { ...(value as Record<string, unknown>) })[k] = next
    }
    if (renamed) {
      const source = out ?? (value as Record<string, unknown>)
      const copy: Record<string, unknown> = {}
      for (const k of keys) setField(copy, renamed.get(k) ?? k, source[k])
      return copy
    }
    return out ?? value
  } finally {
    ancestors.pop()
  }
}

/**
 * What `JSON.stringify` writes for the object `value` before looking at its fields: `toJSON(key)`'s result,
 * else a boxed primitive's value (a String object through `ToString`, a Number through `ToNumber`, as the
 * serialiser converts them); else `value` itself.
 */
function asJson(value: object, key: string | undefined): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return toJSON.call(value, key ?? '')
  if (!types.isBoxedPrimitive(value)) return value
  if (types.isStringObject(value)) return String(value)
  if (types.isNumberObject(value)) return Number(value)
  if (types.isBooleanObject(value)) return Boolean.prototype.valueOf.call(value)
  return value
}

/**
 * `value` copied field by field for the second, safe attempt: a field whose read throws (a lazy getter, a
 * revoked Proxy) is written as `[unreadable: why]` and the others are kept, masked as ever.
 */
function readableCopy(value: object, depth: number, ancestors: object[], key: string | undefined, onString: (s: string) => string): unknown {
  const unreadable = (error: unknown) => onString(`[unreadable: ${errorText(error)}]`)
  ancestors.push(value)
  try {
    let keys: string[]
    try {
      if (Array.isArray(value)) {
        const out: unknown[] = []
        for (let i = 0; i < value.length; i++) {
          try {
            out.push(transform(value[i], depth + 1, ancestors, undefined, onString, true))
          } catch (error) {
            out.push(unreadable(error))
          }
        }
        return out
      }
      keys = Object.keys(value)
    } catch (error) {
      return unreadable(error)
    }
    const copy: Record<string, unknown> = {}
    for (const k of keys) {
      let next: unknown
      try {
        next = transform((value as Record<string, unknown>)[k], depth + 1, ancestors, k, onString, true)
      } catch (error) {
        next = unreadable(error)
      }
      setField(copy, onString(k), next)
    }
    return copy
  } finally {
    ancestors.pop()
  }
}
