import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MonitorBlockedError } from './errors.js'
import { errorText, reportFault } from './faults.js'
import { addFields, setField } from './fields.js'
import type { Recorder } from './recorder.js'
import { settleBeforeFlush } from './store/index.js'
import { TARGETS } from './types.js'
import type {
  Alert,
  MonitorEvent,
  MonitorOptions,
  CallSpec,
  RequestInfo,
  ResponseInfo,
  RuleMatch,
  RuleSetLike,
  ScanResult,
  StreamAccumulator,
  Target,
  TextPart,
} from './types.js'

/** Everything a monitored client shares: set up once in `monitor()`, read on every call. @internal */
export interface MonitorContext {
  recorder: Recorder
  rules: RuleSetLike
  blockDangerous: boolean
  blockDangerousResponses: boolean
  scanHistory: boolean
  /** The adapter's name, for fault reports. */
  adapter: string
  /** The options `monitor()` was given, as given: a second `monitor()` compares its own with them. */
  options: MonitorOptions
}

/**
 * What a scan found, the texts it found clean of every redaction rule (not checked again when stored), and
 * what was wrong with the texts an adapter gave (those entries are not scanned; the call is marked unscanned).
 */
interface TextScan extends ScanResult {
  clean?: Set<string>
  invalid?: string
}

const NO_MATCHES: TextScan = { alert: 'none', matches: [] }
const KNOWN_TARGETS: ReadonlySet<unknown> = new Set(TARGETS)

/** Which rules redact, and the targets where all of them apply, per rule set (read once). */
const coverageOf = new WeakMap<RuleSetLike, { ids: Set<string>; everywhere: Set<Target> } | null>()

function redactCoverage(rules: RuleSetLike) {
  let coverage = coverageOf.get(rules)
  if (coverage === undefined) {
    // Only a rule set that says which rules it has (the package's own) can vouch for a clean text.
    const list = (rules as { rules?: ReadonlyArray<{ id: string; redact?: boolean; targets: readonly Target[] }> }).rules
    if (!Array.isArray(list)) coverage = null
    else {
      const redacting = list.filter((r) => r.redact)
      coverage = {
        ids: new Set(redacting.map((r) => r.id)),
        everywhere: new Set(TARGETS.filter((t) => redacting.every((r) => r.targets.includes(t)))),
      }
    }
    coverageOf.set(rules, coverage)
  }
  return coverage
}

/** A texts entry read once (a getter may throw, or give another value the next time), or what is wrong with it. */
function readPart(part: unknown): TextPart | string {
  if (part === null || typeof part !== 'object') return `is ${part === null ? 'null' : typeof part}, not { target, text }`
  let target: unknown
  let text: unknown
  try {
    ;({ target, text } = part as Partial<TextPart>)
  } catch (error) {
    return `could not be read: ${errorText(error)}`
  }
  if (!KNOWN_TARGETS.has(target)) return `has target ${typeof target === 'string' ? `'${target}'` : errorText(target)}, not one of ${TARGETS.join(', ')}`
  if (typeof text !== 'string') return `has a text that is ${text === null ? 'null' : typeof text}, not a string`
  return { target: target as Target, text }
}

/**
 * Scans texts grouped by target: one scan per target, however many parts the call has. Entries that are
 * not `{ target, text }` with a known target and a string text are skipped and described in `invalid`:
 * an adapter mistake must not pass as a clean scan.
 * @internal
 */
export function scanTexts(rules: RuleSetLike, texts: TextPart[] | undefined): TextScan {
  if (texts === undefined) return NO_MATCHES
  // The adapter's texts are read first, each once: anything that fails to read (a Proxy, a getter) is
  // the adapter's mistake, said in `invalid`, never taken for a clean scan.
  let invalid: string | undefined
  const byTarget = new Map<Target, string[]>()
  try {
    if (!Array.isArray(texts)) return { ...NO_MATCHES, invalid: `texts is ${texts === null ? 'null' : typeof texts}, not an array of { target, text }` }
    const length = texts.length
    for (let i = 0; i < length; i++) {
      let part: TextPart | string
      try {
        part = readPart(texts[i])
      } catch (error) {
        part = `could not be read: ${errorText(error)}`
      }
      if (typeof part === 'string') {
        invalid ??= `texts[${i}] ${part}`
        continue
      }
      const { target, text } = part
      if (text === '') continue
      const parts = byTarget.get(target)
      if (parts) parts.push(text)
      else byTarget.set(target, [text])
    }
  } catch (error) {
    invalid ??= `texts could not be read: ${errorText(error)}`
  }
  if (byTarget.size === 0) return invalid === undefined ? NO_MATCHES : { ...NO_MATCHES, invalid }
  try {
    const coverage = redactCoverage(rules)
    let alert: Alert = 'none'
    let matches: RuleMatch[] | undefined
    let clean: Set<string> | undefined
    for (const [target, parts] of byTarget) {
      const result = rules.scan(parts.length === 1 ? parts[0]! : parts.join('\n'), { target })
      if (coverage?.everywhere.has(target) && !result.redactionUnsure && !result.matches.some((m) => coverage.ids.has(m.rule_id))) {
        clean ??= new Set()
        for (const part of parts) clean.add(part)
      }
      if (result.matches.length === 0) continue
      ;(matches ??= []).push(...result.matches)
      if (result.alert === 'dangerous' || (result.alert === 'suspicious' && alert === 'none')) alert = result.alert
    }
    return { alert, matches: matches ?? [], clean, invalid }
  } catch (error) {
    reportFault('rules', error)
    return invalid === undefined ? NO_MATCHES : { ...NO_MATCHES, invalid }
  }
}

/** What the monitor read of a response: the adapter's reading, and why it is not scanned when it could not be read. */
type ReadInfo = ResponseInfo & { unscanned?: string }

/**
 * Calls started and not closed yet: waiting for their response, or streams handed to the application
 * and not finished. At exit each gets its closing event (a stream as partial, a call still waiting as
 * an error), so no call is left without one.
 */
const openCalls = new Set<CallRecord>()
/**
 * Calls whose response arrived and whose body nobody has started to parse: read only through
 * `.asResponse()` (closed a turn later), or not read at all (closed later, see `closeUnparsed`). A
 * `flush()` and the process's exit close them at once.
 */
const pendingRaw = new Map<CallRecord, () => void>()
let closingAtExit = false

/**
 * How long a call whose response arrived stays open for a parse to start (`await`, `.then()`) before it
 * is closed unread. A fire-and-forget call is never parsed; code that awaits a call late (after other
 * work) parses it within this time, and its finish event then holds the response.
 */
const UNREAD_CLOSE_MS = 60_000

function closePendingRaw(): void {
  for (const finish of pendingRaw.values()) finish()
}
settleBeforeFlush(closePendingRaw)

function closeOpenStreams(): void {
  // The event log has written its queue already at exit: what is recorded now is written at once.
  for (const [call, finish] of pendingRaw) {
    finish()
    call.flushNow()
  }
  for (const call of openCalls) call.endAtExit()
}

function closeAtExit(): void {
  if (closingAtExit) return
  closingAtExit = true
  process.once('exit', closeOpenStreams)
}

/**
 * One LLM call from start to its single closing event (finish, error or blocked).
 * @internal
 */
export class CallRecord {
  readonly id = randomUUID()
  private readonly started = performance.now()
  private closed = false
  private firstTokenAt: number | undefined
  private accumulator: StreamAccumulator | undefined
  /** Cancels the timer of a pending raw or unread close (see `closeUnparsed`). */
  private cancelTimer: (() => void) | undefined

  constructor(
    private readonly ctx: MonitorContext,
    private readonly spec: CallSpec,
    /** The adapter's path of this call (`chat.send`), for fault reports. */
    private readonly path: string,
    readonly method: string,
    readonly request: RequestInfo,
    /** Set when the adapter could not read the request (why): the call was not scanned, or not all of it. */
    private unread?: string,
  ) {}

  /** The adapter gave something the monitor cannot read: reported (naming the adapter and path), and the event says the call is not scanned. */
  adapterFault(problem: string): string {
    const message = `adapter '${this.ctx.adapter}', call '${this.path}': ${problem}`
    reportFault('adapter', new TypeError(this.ctx.recorder.mask(message)))
    return message
  }

  /** Records the start (or the block). Returns the error to throw when the request must not be sent. */
  start(): MonitorBlockedError | undefined {
    const { request, ctx } = this
    const scan = scanTexts(ctx.rules, request.texts)
    if (scan.invalid !== undefined) this.unread ??= this.adapterFault(`request() returned ${scan.invalid} (not scanned)`)
    let data: Record<string, unknown>
    /** Request parameters named like a field of the monitor's own and holding another value (kept, not lost). */
    let shadowed: Record<string, unknown> | undefined
    try {
      data = { method: this.method }
      if (request.model !== undefined) data.model = request.model
      // The adapter gives the parameters as they are sent (the Anthropic one honours a `toJSON` as the SDK
      // does); a `toJSON` still among them is not copied, or it would stand for the whole event's data.
      const params = request.params
      if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
        shadowed = addFields(data, params as Record<string, unknown>, START_FIELDS)
        for (const key of LATER_FIELDS) {
          if (Object.prototype.hasOwnProperty.call(data, key)) {
            setField((shadowed ??= {}), key, data[key])
            delete data[key]
          }
        }
      } else data.params = params
      if (data.stream !== undefined && data.stream !== (request.stream === true)) setField((shadowed ??= {}), 'stream', data.stream)
      data.stream = request.stream === true
    } catch (error) {
      // Parameters that cannot be read (a getter that throws, a revoked proxy): the call is still recorded,
      // and the client, not the monitor, reports what is wrong with them.
      // Its message may quote the parameters (a toJSON that throws with them): masked like the event.
      reportFault('serialize', new Error(ctx.recorder.mask(errorText(error))))
      data = {
        method: this.method,
        ...(typeof request.model === 'string' ? { model: request.model } : {}),
        params: '[unreadable parameters]',
        stream: request.stream === true,
      }
    }
    if (scan.alert === 'dangerous' && ctx.blockDangerous) {
      this.closed = true
      data.reason = `dangerous content: ${ruleIds(scan.matches, 'dangerous')}`
      data.alert = 'dangerous'
      data.security = securityOf(scan.matches, this.unread)
      if (shadowed) data.shadowed_params = shadowed
      const event = ctx.recorder.record('LLM_call_blocked', 'warning', this.id, data, undefined, scan.clean)
      ctx.recorder.flushNow()
      return new MonitorBlockedError(scan.matches, event)
    }
    data.alert = scan.alert
    data.security = securityOf(scan.matches, this.unread)
    if (shadowed) data.shadowed_params = shadowed
    ctx.recorder.record('LLM_call_start', scan.alert === 'none' && this.unread === undefined ? 'info' : 'warning', this.id, data, undefined, scan.clean)
    openCalls.add(this)
    closeAtExit()
    return undefined
  }

  /** A non-streamed result arrived. Returns the error to throw when a dangerous response must be blocked. */
  finish(result: unknown, extra?: Record<string, unknown>): MonitorBlockedError | undefined {
    if (this.closed) return this.raw ? this.judgeLate(this.read(result)) : undefined
    return this.close(this.read(result), extra)
  }

  private read(result: unknown): ReadInfo {
    return this.checked('response()', () => (this.spec.response ? this.spec.response(result) : { response: result }))
  }

  /**
   * What an adapter's reader gave (`response()`, a stream accumulator's `result()`), checked and read once:
   * anything that is not a ResponseInfo object, a field whose getter throws, or `data` that is not an
   * object, makes the response unscanned (and the fault is reported) rather than failing the user's call.
   */
  private checked(what: string, read: () => unknown): ReadInfo {
    let info: unknown
    try {
      info = read()
    } catch (error) {
      const unscanned = `adapter '${this.ctx.adapter}', call '${this.path}': ${what} threw: ${errorText(error)} (not scanned)`
      reportFault('adapter', new TypeError(this.ctx.recorder.mask(unscanned)))
      return { unscanned }
    }
    let fields: ResponseInfo
    try {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) {
        return { unscanned: this.adapterFault(`${what} returned ${info === null ? 'null' : Array.isArray(info) ? 'an array' : typeof info}, not a ResponseInfo object (not scanned)`) }
      }
      if (typeof (info as Partial<PromiseLike<unknown>>).then === 'function') {
        // An `async` reader: its outcome comes too late to judge the response, and a rejection of it must
        // not surface as the application's unhandled rejection.
        Promise.resolve(info).then(undefined, () => {})
        return { unscanned: this.adapterFault(`${what} returned a promise; it must return its ResponseInfo synchronously (not scanned)`) }
      }
      if (!('response' in info || 'usage' in info || 'texts' in info || 'data' in info)) {
        // The service's own response returned as it is, say: nothing in it would be recorded or scanned.
        return { unscanned: this.adapterFault(`${what} returned an object with none of response, usage, texts or data; it must return a ResponseInfo ({ response, usage, texts }) (not scanned)`) }
      }
      const { response, usage, texts, data } = info as ResponseInfo
      fields = { response, usage, texts, data }
      // The extra fields are spread into the event: a getter among them must fail here, not there.
      if (data !== null && typeof data === 'object' && !Array.isArray(data)) fields.data = { ...data }
    } catch (error) {
      return { unscanned: this.adapterFault(`reading what ${what} returned threw: ${errorText(error)} (not scanned)`) }
    }
    if (fields.data !== undefined && (fields.data === null || typeof fields.data !== 'object' || Array.isArray(fields.data))) {
      this.adapterFault(`${what} gave \`data\` that is not an object (left out of the event)`)
      fields.data = undefined
    }
    return fields
  }

  /**
   * The response arrived and its body has not been parsed. Read raw through `.asResponse()` (`'raw'`), the
   * closing event waits a turn, so that a parse started by then (`withResponse()`, an `await` right after)
   * closes the call with the parsed response instead. Not read at all (`'unread'`: a call nobody awaits),
   * it waits `UNREAD_CLOSE_MS`, or until a `flush()` or the exit. Without a parse by then, the call closes
   * with what is known (status, request id, time to the response); the body is left to the application
   * (nothing reads it), and a parse after that is still judged (see `judgeLate`).
   */
  closeUnparsed(how: 'raw' | 'unread', extra: Record<string, unknown> | undefined, parsed: () => boolean, bodyUsed?: () => boolean): void {
    if (this.closed) return
    this.cancelPending()
    const data: Record<string, unknown> = { duration_ms: round(performance.now() - this.started) }
    addFields(data, extra)
    const finish = () => {
      this.cancelPending()
      if (this.closed || parsed()) return
      this.raw = true
      // A body nobody parsed through this call, but read all the same (by a promise derived from it with
      // the SDK's `_thenUnwrap()`, say), was read raw: it reached the application unscanned.
      if (how === 'raw' || bodyUsed?.() === true) data.raw_response = true
      else data.response_unread = true
      this.close({}, data)
    }
    pendingRaw.set(this, finish)
    closeAtExit()
    if (how === 'raw') {
      const immediate = setImmediate(finish)
      this.cancelTimer = () => clearImmediate(immediate)
    } else {
      // `unref`: a call nobody reads does not keep the process alive (the bare client would not).
      const timer = setTimeout(finish, UNREAD_CLOSE_MS).unref()
      this.cancelTimer = () => clearTimeout(timer)
    }
  }

  private cancelPending(): void {
    if (this.cancelTimer === undefined) return
    this.cancelTimer()
    this.cancelTimer = undefined
    pendingRaw.delete(this)
  }

  /** Closed as a raw response before its body was parsed: the parsed body, when it comes, is still judged. */
  private raw = false
  private closingEvent: MonitorEvent | undefined

  /**
   * A second parse of the response, after the first closed the call: its value is blocked when dangerous
   * (`blockDangerousResponses`); nothing more is recorded.
   */
  judgeAgain(result: unknown): MonitorBlockedError | undefined {
    return this.judgeLate(this.read(result))
  }

  /** A dangerous response read after the call closed is blocked all the same (nothing more is recorded). */
  private judgeLate(info: ReadInfo): MonitorBlockedError | undefined {
    if (!this.ctx.blockDangerousResponses || !this.closingEvent) return undefined
    const scan = scanTexts(this.ctx.rules, info.texts)
    return scan.alert === 'dangerous' ? new MonitorBlockedError(scan.matches, this.closingEvent) : undefined
  }

  /** How many iterators of the call's streams are being read (see `watchStream`). @internal */
  readers: { open: number } | undefined

  /** Why the stream's response cannot be read (no accumulator, or one that failed): it closes unscanned. */
  private streamLost: string | undefined

  /**
   * Starts watching a streamed result. Without a usable accumulator the stream is still watched, for its
   * end, and the call closes unscanned.
   */
  beginStream(): true {
    if (!this.spec.stream) {
      this.streamLost = this.adapterFault('the call streams but the adapter has no stream() reader (not scanned)')
      return true
    }
    try {
      const accumulator = this.spec.stream()
      if (accumulator === null || typeof accumulator !== 'object' || typeof accumulator.push !== 'function' || typeof accumulator.result !== 'function') {
        this.streamLost = this.adapterFault('stream() did not return an accumulator with push() and result() (not scanned)')
      } else this.accumulator = accumulator
    } catch (error) {
      this.streamLost = this.adapterFault(`stream() threw: ${errorText(error)} (not scanned)`)
    }
    return true
  }

  /**
   * One chunk of the stream, before the application gets it. With `blockDangerousResponses`, a chunk that
   * completes a dangerous tool call (the adapter's `completedTexts`) closes the call and returns the
   * error to throw instead of delivering that chunk: the application never holds the assembled call.
   */
  chunk(value: unknown, extra?: Record<string, unknown>): MonitorBlockedError | undefined {
    const accumulator = this.accumulator
    if ((this.closed && !this.raw) || !accumulator) return undefined
    let completed: TextPart[] | undefined
    try {
      if (accumulator.push(value) === true && this.firstTokenAt === undefined) this.firstTokenAt = performance.now()
      if (this.ctx.blockDangerousResponses && accumulator.completedTexts) completed = accumulator.completedTexts(value)
    } catch (error) {
      // The response can no longer be assembled: the call closes unscanned, and it is said why.
      this.streamLost = this.adapterFault(`its stream accumulator threw: ${errorText(error)} (not scanned)`)
      this.accumulator = undefined
      return undefined
    }
    if (completed === undefined || completed.length === 0) return undefined
    if (scanTexts(this.ctx.rules, completed).alert !== 'dangerous') return undefined
    const data: Record<string, unknown> = {}
    addFields(data, extra)
    data.blocked_mid_stream = true
    return this.endStream(false, data, true)
  }

  /**
   * The stream ended (`partial`: the user stopped reading it before its end; `stopped`: the monitor stopped
   * it, at a dangerous tool call).
   */
  endStream(partial: boolean, extra?: Record<string, unknown>, stopped = false): MonitorBlockedError | undefined {
    if (this.closed) {
      openCalls.delete(this)
      const accumulator = this.accumulator
      return this.raw && accumulator ? this.judgeLate(this.checked("the stream accumulator's result()", () => accumulator.result())) : undefined
    }
    const accumulator = this.accumulator
    const info: ReadInfo = accumulator ? this.checked("the stream accumulator's result()", () => accumulator.result()) : { unscanned: this.streamLost ?? 'the stream was not read' }
    const ttft = this.firstTokenAt === undefined ? null : round(this.firstTokenAt - this.started)
    const data: Record<string, unknown> = {}
    addFields(data, extra)
    data.time_to_first_token_ms = ttft
    if (partial) data.partial = true
    else if (!stopped && isCutShort(info)) {
      // The stream ended, not left by its reader, before the end of its response (no `message_stop`, no
      // `finish_reason`): the service or the connection cut it short. The call failed, whether or not the
      // client threw; what it delivered is judged all the same.
      const failed = Object.assign(new Error('the stream ended before the end of its response'), { name: 'IncompleteStream' })
      info.data = withoutPartial(info.data)
      return this.close(info, data, failed)
    }
    return this.close(info, data)
  }

  /**
   * The stream cannot be watched (a frozen object whose iterator cannot be hooked): the call closes now, with
   * no response, marked unscanned, and the fault is reported. The stream itself goes to the application as it is.
   */
  unwatchable(error: unknown): void {
    reportFault('stream', new TypeError(this.ctx.recorder.mask(`adapter '${this.ctx.adapter}', call '${this.path}': the stream it returned cannot be watched (${errorText(error)}); the call is recorded without its response`)))
    if (this.closed) return
    this.close({ unscanned: 'the stream could not be watched' }, { stream_unwatched: true })
  }

  /**
   * Closes a call still open at exit: a stream as partial, a call still waiting for its response as an
   * error. The event log has written its queue already, so this is written at once.
   */
  endAtExit(): void {
    if (this.accumulator) this.endStream(true, { unfinished_at_exit: true })
    else this.error(Object.assign(new Error('the process exited before the response arrived'), { name: 'UnfinishedAtExit' }), { unfinished_at_exit: true })
    this.flushNow()
  }

  /** Writes what this call's recorder has queued, now. */
  flushNow(): void {
    this.ctx.recorder.flushNow()
  }

  /** Promise rejection handlers, made once per call: one records the error, the other also rethrows it. */
  readonly recordError = (error: unknown): void => this.error(error)
  readonly onFailure = (error: unknown): never => {
    this.error(error)
    throw error
  }

  error(error: unknown, extra?: Record<string, unknown>): void {
    if (this.closed) return
    this.closed = true
    this.cancelPending()
    openCalls.delete(this)
    const data: Record<string, unknown> = { method: this.method }
    if (this.request.model !== undefined) data.model = this.request.model
    data.duration_ms = round(performance.now() - this.started)
    addFields(data, extra)
    data.error = describeError(error)
    let clean: ReadonlySet<string> | undefined
    const accumulator = this.accumulator
    if (accumulator) {
      // A stream that failed part way (the connection cut, an error event): what it delivered reached the
      // application, and is judged as a cut-short stream's is.
      const info = this.checked("the stream accumulator's result()", () => accumulator.result())
      data.partial_response = info.response ?? null
      if (info.usage !== undefined) data.usage = info.usage
      if (info.unscanned === undefined) {
        const scan = scanTexts(this.ctx.rules, info.texts)
        data.alert = scan.alert
        data.security = securityOf(scan.matches, scan.invalid === undefined ? undefined : this.adapterFault(`the response's ${scan.invalid} (not scanned)`))
        clean = scan.clean
      } else data.security = securityOf([], info.unscanned)
    }
    this.closingEvent = this.ctx.recorder.record('LLM_call_error', 'error', this.id, data, undefined, clean)
  }

  /** Closes the call with its response read: a finish event, or with `failed` (a stream cut short) an error event holding what arrived. */
  private close(info: ReadInfo, extra?: Record<string, unknown>, failed?: Error): MonitorBlockedError | undefined {
    this.closed = true
    this.cancelPending()
    openCalls.delete(this)
    const { ctx } = this
    const scan = scanTexts(ctx.rules, info.texts)
    const unscanned = info.unscanned ?? (scan.invalid === undefined ? undefined : this.adapterFault(`the response's ${scan.invalid} (not scanned)`))
    const model = modelOf(info.response) ?? this.request.model
    // Built field by field, not with spreads: V8 makes an object literal of several spreads here several
    // times slower (measured: 4.3 µs against 0.4 µs a call, bench/overhead.mjs).
    // The adapter's extra fields first: they never replace what the monitor itself records.
    const data: Record<string, unknown> = {}
    addFields(data, info.data)
    data.method = this.method
    if (model !== undefined) data.model = model
    data.duration_ms = round(performance.now() - this.started)
    addFields(data, extra)
    if (failed) {
      data.error = describeError(failed)
      data.partial_response = info.response ?? null
    } else data.response = info.response ?? null
    data.usage = info.usage ?? null
    // A response whose body the monitor did not read was not judged: it has no alert. Nor has one whose
    // adapter reader failed (nothing of it was read); one with some texts unreadable has the alert of the others.
    // One read raw reached the application unscanned, which the event says, as a warning; one that nobody
    // read reached no one.
    let level: MonitorEvent['level'] = scan.alert === 'none' && unscanned === undefined ? 'info' : 'warning'
    if (!this.raw) {
      if (info.unscanned === undefined) data.alert = scan.alert
      data.security = securityOf(scan.matches, unscanned)
    } else if (data.raw_response === true) {
      data.security = { matches: [], unscanned: true }
      level = 'warning'
    }
    if (failed) level = 'error'
    const event = ctx.recorder.record(failed ? 'LLM_call_error' : 'LLM_call_finish', level, this.id, data, undefined, scan.clean)
    this.closingEvent = event
    if (scan.alert === 'dangerous' && ctx.blockDangerousResponses) {
      ctx.recorder.flushNow()
      return new MonitorBlockedError(scan.matches, event)
    }
    return undefined
  }
}

/** Whether an adapter says the response it assembled from a stream is not whole (`data.partial`, as ours do). */
function isCutShort(info: ReadInfo): boolean {
  return info.unscanned === undefined && info.data?.partial === true
}

function withoutPartial(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined
  const { partial: _partial, ...rest } = data
  return rest
}

/** The model a response names, if it can be read (a getter of an adapter's response may throw). */
function modelOf(response: unknown): unknown {
  try {
    return (response as { model?: unknown } | null | undefined)?.model
  } catch {
    return undefined
  }
}

/** The `security` field of an event: the matches, and why the call was not (fully) scanned when it was not. */
function securityOf(matches: RuleMatch[], unscanned: string | undefined): Record<string, unknown> {
  return unscanned === undefined ? { matches } : { matches, unscanned: true, adapter_error: unscanned }
}

function ruleIds(matches: RuleMatch[], severity: RuleMatch['severity']): string {
  return [...new Set(matches.filter((m) => m.severity === severity).map((m) => m.rule_id))].join(', ')
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * The start event's own fields. `method` and `model` come before the request's parameters, which are
 * written among them; the others are written after them. A parameter of the same name and another value
 * is kept in `shadowed_params` (a custom client's own `method: 'POST'`, say), so that the call's events
 * agree on what the monitor records and nothing that was sent is lost.
 */
const START_FIELDS: ReadonlySet<string> = new Set(['method', 'model'])
const LATER_FIELDS = ['alert', 'security', 'reason', 'shadowed_params'] as const

/** What the error event says of an error: the SDKs' errors carry status, request id and type. @internal */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) }
  const e = error as Error & {
    status?: unknown
    requestID?: unknown
    request_id?: unknown
    type?: unknown
    code?: unknown
  }
  const out: Record<string, unknown> = { name: e.name, message: e.message }
  if (typeof e.status === 'number') out.status = e.status
  const requestId = e.requestID ?? e.request_id
  if (typeof requestId === 'string') out.request_id = requestId
  if (typeof e.type === 'string') out.type = e.type
  if (typeof e.code === 'string') out.code = e.code
  return out
}
