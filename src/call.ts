import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MonitorBlockedError } from './errors.js'
import { reportFault } from './faults.js'
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

/** What a scan found, and the texts it found clean of every redaction rule (not checked again when stored). */
interface TextScan extends ScanResult {
  clean?: Set<string>
}

const NO_MATCHES: TextScan = { alert: 'none', matches: [] }

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

/** Scans texts grouped by target: one scan per target, however many parts the call has. @internal */
export function scanTexts(rules: RuleSetLike, texts: TextPart[] | undefined): TextScan {
  if (!texts || texts.length === 0) return NO_MATCHES
  try {
    const byTarget = new Map<Target, string[]>()
    for (const { target, text } of texts) {
      if (typeof text !== 'string' || text === '') continue
      const parts = byTarget.get(target)
      if (parts) parts.push(text)
      else byTarget.set(target, [text])
    }
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
    return { alert, matches: matches ?? [], clean }
  } catch (error) {
    reportFault('rules', error)
    return NO_MATCHES
  }
}

/**
 * Streams handed to the application and not finished yet. A stream nobody reads or aborts has no end of
 * its own: at exit it is closed as partial, so no call is left without its closing event.
 */
const openStreams = new Set<CallRecord>()
/** Calls read only through `.asResponse()` so far, whose closing event waits a turn for a parse (see `rawFinish`). */
const pendingRaw = new Map<CallRecord, () => void>()
let closingAtExit = false

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
  for (const call of openStreams) call.endAtExit()
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

  constructor(
    private readonly ctx: MonitorContext,
    private readonly spec: CallSpec,
    readonly method: string,
    readonly request: RequestInfo,
    /** Set when the adapter could not read the request (its error message): the call was not scanned. */
    private readonly unread?: string,
  ) {}

  /** Records the start (or the block). Returns the error to throw when the request must not be sent. */
  start(): MonitorBlockedError | undefined {
    const { request, ctx } = this
    const scan = scanTexts(ctx.rules, request.texts)
    let data: Record<string, unknown>
    try {
      data = { method: this.method }
      if (request.model !== undefined) data.model = request.model
      const params = request.params
      if (params !== null && typeof params === 'object' && !Array.isArray(params)) Object.assign(data, params)
      else data.params = params
      data.stream = request.stream === true
    } catch (error) {
      // Parameters that cannot be read (a getter that throws, a revoked proxy): the call is still recorded,
      // and the client, not the monitor, reports what is wrong with them.
      reportFault('serialize', error)
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
      data.security = { matches: scan.matches }
      const event = ctx.recorder.record('LLM_call_blocked', 'warning', this.id, data, undefined, scan.clean)
      ctx.recorder.flushNow()
      return new MonitorBlockedError(scan.matches, event)
    }
    data.alert = scan.alert
    data.security = this.unread === undefined ? { matches: scan.matches } : { matches: scan.matches, unscanned: true, adapter_error: this.unread }
    ctx.recorder.record('LLM_call_start', scan.alert === 'none' && this.unread === undefined ? 'info' : 'warning', this.id, data, undefined, scan.clean)
    return undefined
  }

  /** A non-streamed result arrived. Returns the error to throw when a dangerous response must be blocked. */
  finish(result: unknown, extra?: Record<string, unknown>): MonitorBlockedError | undefined {
    if (this.closed) return this.raw ? this.judgeLate(this.read(result)) : undefined
    return this.close(this.read(result), extra)
  }

  private read(result: unknown): ResponseInfo {
    try {
      return this.spec.response ? this.spec.response(result) : { response: result }
    } catch (error) {
      reportFault('adapter', error)
      return {}
    }
  }

  /**
   * The raw response was handed to the user (`.asResponse()`) and its body has not been parsed. The closing
   * event waits a turn: a parse started by then (`withResponse()`, `await` right after) closes the call
   * with the parsed response instead. Without one, the call closes as a raw response; a parse after that
   * is still judged (see `judgeLate`).
   */
  rawFinish(extra: Record<string, unknown>, parsed: () => boolean): void {
    if (this.closed || pendingRaw.has(this)) return
    const finish = () => {
      pendingRaw.delete(this)
      if (this.closed || parsed()) return
      this.raw = true
      this.finish(null, { ...extra, raw_response: true })
    }
    pendingRaw.set(this, finish)
    closeAtExit()
    setImmediate(finish)
  }

  /** Closed as a raw response before its body was parsed: the parsed body, when it comes, is still judged. */
  private raw = false
  private closingEvent: MonitorEvent | undefined

  /** A dangerous response read after the call closed is blocked all the same (nothing more is recorded). */
  private judgeLate(info: ResponseInfo): MonitorBlockedError | undefined {
    if (!this.ctx.blockDangerousResponses || !this.closingEvent) return undefined
    const scan = scanTexts(this.ctx.rules, info.texts)
    return scan.alert === 'dangerous' ? new MonitorBlockedError(scan.matches, this.closingEvent) : undefined
  }

  /** Starts watching a streamed result. */
  beginStream(): boolean {
    if (!this.spec.stream) return false
    try {
      this.accumulator = this.spec.stream()
      openStreams.add(this)
      closeAtExit()
      return true
    } catch (error) {
      reportFault('adapter', error)
      return false
    }
  }

  chunk(value: unknown): void {
    if ((this.closed && !this.raw) || !this.accumulator) return
    try {
      if (this.accumulator.push(value) === true && this.firstTokenAt === undefined) this.firstTokenAt = performance.now()
    } catch (error) {
      reportFault('adapter', error)
      this.accumulator = undefined
    }
  }

  /** The stream ended (`partial`: the user stopped reading it before its end). */
  endStream(partial: boolean, extra?: Record<string, unknown>): MonitorBlockedError | undefined {
    if (this.closed) {
      openStreams.delete(this)
      return this.raw && this.accumulator ? this.judgeLate(this.accumulator.result()) : undefined
    }
    let info: ResponseInfo = {}
    try {
      if (this.accumulator) info = this.accumulator.result()
    } catch (error) {
      reportFault('adapter', error)
    }
    const ttft = this.firstTokenAt === undefined ? null : round(this.firstTokenAt - this.started)
    return this.close(info, { ...extra, time_to_first_token_ms: ttft, ...(partial ? { partial: true } : {}) })
  }

  /** Closes a stream still open at exit; the event log has written its queue already, so this is written at once. */
  endAtExit(): void {
    this.endStream(true, { unfinished_at_exit: true })
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

  error(error: unknown): void {
    if (this.closed) return
    this.closed = true
    openStreams.delete(this)
    const data: Record<string, unknown> = {
      method: this.method,
      ...(this.request.model === undefined ? {} : { model: this.request.model }),
      duration_ms: round(performance.now() - this.started),
      error: describeError(error),
    }
    if (this.accumulator) {
      try {
        data.partial_response = this.accumulator.result().response
      } catch (e) {
        reportFault('adapter', e)
      }
    }
    this.ctx.recorder.record('LLM_call_error', 'error', this.id, data)
  }

  private close(info: ResponseInfo, extra?: Record<string, unknown>): MonitorBlockedError | undefined {
    this.closed = true
    openStreams.delete(this)
    const { ctx } = this
    const scan = scanTexts(ctx.rules, info.texts)
    const model = (info.response as { model?: unknown } | undefined)?.model ?? this.request.model
    const event = ctx.recorder.record('LLM_call_finish', scan.alert === 'none' ? 'info' : 'warning', this.id, {
      method: this.method,
      ...(model === undefined ? {} : { model }),
      duration_ms: round(performance.now() - this.started),
      ...extra,
      ...info.data,
      response: info.response ?? null,
      usage: info.usage ?? null,
      alert: scan.alert,
      security: { matches: scan.matches },
    }, undefined, scan.clean)
    this.closingEvent = event
    if (scan.alert === 'dangerous' && ctx.blockDangerousResponses) {
      ctx.recorder.flushNow()
      return new MonitorBlockedError(scan.matches, event)
    }
    return undefined
  }
}

function ruleIds(matches: RuleMatch[], severity: RuleMatch['severity']): string {
  return [...new Set(matches.filter((m) => m.severity === severity).map((m) => m.rule_id))].join(', ')
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

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
