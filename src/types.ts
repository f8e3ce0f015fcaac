/**
 * Public types of cylestio-monitor, kept together so that the shape of the product reads in one place.
 * Data flows one way: call → adapter reads it → rules scan → event → sink.
 */

/** Where a piece of text appears in a call. Request side first, then response side. */
export type Target =
  | 'system'
  | 'user'
  | 'assistant'
  | 'tool_result'
  | 'tool_definition'
  | 'response'
  | 'tool_input'

export const TARGETS: readonly Target[] = [
  'system',
  'user',
  'assistant',
  'tool_result',
  'tool_definition',
  'response',
  'tool_input',
]

export type Severity = 'suspicious' | 'dangerous'
export type Alert = 'none' | Severity

/** One rule that fired on one text. Never holds a raw secret: `excerpt` is masked for `redact` rules. */
export interface RuleMatch {
  rule_id: string
  severity: Severity
  target: Target
  /** A short window of the text around the match (masked where the rule redacts). */
  excerpt: string
  tags?: string[]
}

export interface ScanResult {
  alert: Alert
  matches: RuleMatch[]
  /**
   * A redaction rule had more candidates than the scan validates (e.g. hundreds of digit runs failing
   * Luhn): the text is not known to be free of what that rule masks, so it is checked again when stored.
   */
  redactionUnsure?: boolean
}

/** A piece of text an adapter pulled out of a request or a response, to be scanned at `target`. */
export interface TextPart {
  target: Target
  text: string
}

/** What an adapter reads from the arguments of an LLM call. */
export interface RequestInfo {
  /** The model asked for, when the call names one. */
  model?: string
  /** The request parameters as sent; they are stored in the start event (secrets masked). */
  params?: unknown
  /** Texts to scan before the request is sent. */
  texts?: TextPart[]
  /** True when the call returns a stream of chunks (the finish event waits for the last chunk). */
  stream?: boolean
  /** The name the call is recorded under, when it differs from the method path (e.g. `messages.stream`). */
  method?: string
}

/** What an adapter reads from the result of an LLM call. */
export interface ResponseInfo {
  /** The response as the application sees it (for streams: assembled from the chunks). */
  response?: unknown
  usage?: Record<string, unknown>
  /** Texts to scan in the response (`response` text, `tool_input` arguments). */
  texts?: TextPart[]
  /** Extra fields for the finish event's `data` (e.g. `stop_reason`). */
  data?: Record<string, unknown>
}

/** Assembles a streamed response, chunk by chunk. One accumulator serves one call. */
export interface StreamAccumulator {
  /** Takes one chunk; returns true when the chunk carries the first generated token. */
  push(chunk: unknown): boolean | void
  /**
   * Optional: the texts that the chunk just pushed completes (a tool call's arguments, at the chunk that
   * closes its block), or undefined. With `blockDangerousResponses`, a dangerous one stops the stream
   * instead of that chunk reaching the application; without this method, a dangerous response is blocked
   * at the end of the stream. Called only when that option is on.
   */
  completedTexts?(chunk: unknown): TextPart[] | undefined
  /**
   * The response assembled so far (called once, when the stream ends or is abandoned). `data.partial: true`
   * says the response is not whole: a stream that ended so (its reader did not leave it) was cut short, and
   * is recorded as an `LLM_call_error` (`IncompleteStream`) holding what arrived.
   */
  result(): ResponseInfo
}

/** How one method of a client is read. */
export interface CallSpec {
  /** Reads the call's arguments. Runs before the call; a dangerous text here blocks it. */
  request: (args: unknown[], options: { scanHistory: boolean }) => RequestInfo
  /** Reads a non-streamed result. */
  response?: (result: unknown) => ResponseInfo
  /** Starts an accumulator for a streamed result (`request(...).stream === true`). */
  stream?: () => StreamAccumulator
}

/**
 * Tells the proxy which method chains of a client are LLM calls and how to read them.
 *
 * @example
 * const acme: Adapter = {
 *   name: 'acme',
 *   match: (client) => client instanceof AcmeClient,
 *   calls: {
 *     'chat.send': {
 *       request: (args) => {
 *         const req = args[0] as AcmeRequest
 *         return { model: req.model, params: req, texts: [{ target: 'user', text: req.prompt }] }
 *       },
 *       response: (result) => {
 *         const r = result as AcmeResult
 *         return { response: r, usage: { input_tokens: r.tokensIn, output_tokens: r.tokensOut },
 *                  texts: [{ target: 'response', text: r.text }] }
 *       },
 *     },
 *   },
 * }
 */
export interface Adapter {
  name: string
  /** Channel of the events this adapter records. @default 'LLM' */
  channel?: string
  /** Whether this adapter serves a client. Optional for adapters passed in `options.adapters`. */
  match?: (client: unknown) => boolean
  /** Method paths (`'messages.create'`) that are LLM calls. */
  calls: Record<string, CallSpec>
  /**
   * Method paths that are not recorded themselves but run with the monitored object as `this`, so that
   * the LLM calls they make inside are recorded once, as their own calls (e.g. `messages.stream` calls
   * `messages.create`).
   */
  helpers?: string[]
}

export type EventName =
  | 'LLM_call_start'
  | 'LLM_call_finish'
  | 'LLM_call_blocked'
  | 'LLM_call_error'
  | 'monitoring_enabled'
  | (string & {})

/** One event, as written to the log (one JSON object per line). */
export interface MonitorEvent {
  event: EventName
  channel: string
  level: 'info' | 'warning' | 'error'
  agent_id: string
  call_id?: string
  /** ISO-8601 UTC with milliseconds. */
  timestamp: string
  data: Record<string, unknown>
}

/**
 * Receives every event. The built-in JSONL event log is one; pass your own as `options.store`.
 * `write` must not block: queue and write later. The line is the event serialised once (secrets masked).
 */
export interface EventSink {
  write(line: string, event: MonitorEvent): void
  /** Resolves when every event written so far is on disk (or wherever the sink keeps them). */
  flush(): Promise<void>
  /** Writes what is queued before returning (used before a blocked call is reported, and at exit). */
  flushSync?(): void
}

/** A compiled rule set, from `loadRules()`. */
export interface RuleSetLike {
  readonly size: number
  scan(text: string, options: { target: Target }): ScanResult
  /** Masks matches of rules marked `redact: true`; returns `text` itself when nothing matched. */
  redact(text: string): string
}

/** What a lowdb `Low` or `LowSync` instance offers (structural, so lowdb stays the user's copy). */
export interface LowdbLike {
  adapter: unknown
  data: { events?: MonitorEvent[] } | null
  read(): unknown
  write(): unknown
}

/** The `store` option. */
export type StoreOption = string | EventSink | false | { kind: 'lowdb-json'; path: string } | LowdbLike

export interface MonitorOptions {
  /** Names the agent in every event. @default 'default' */
  agentId?: string
  /**
   * Where events go: the path of a JSONL event log, a sink object, `false` for none, a single lowdb JSON
   * document (`{ kind: 'lowdb-json', path }`: rewritten whole on every write, small stores only), or a
   * lowdb `Low`/`LowSync` instance you have read (events go to `db.data.events`).
   * @default process.env.CYLESTIO_EVENTS_FILE ?? './cylestio-events.jsonl'
   */
  store?: StoreOption
  /** YAML rule files or folders loaded after the built-in packs, or a rule set from `loadRules()`. */
  rules?: string | string[] | RuleSetLike
  /** Load the packs shipped in `rules/` first. @default true */
  defaultRules?: boolean
  /** Throw `MonitorBlockedError` instead of sending a dangerous request. @default true */
  blockDangerous?: boolean
  /** After recording it, throw `MonitorBlockedError` instead of returning a dangerous response. @default false */
  blockDangerousResponses?: boolean
  /** Extra adapters (custom clients), tried before the built-in ones. @default [] */
  adapters?: Adapter[]
  /** Mask matches of rules marked `redact: true` in stored events. @default true */
  redact?: boolean
  /** Receives each event after it is recorded. Its errors are reported, never thrown into the call. */
  onEvent?: (event: MonitorEvent) => void
  /**
   * Scan the whole conversation instead of only the newest turn (what came after the last assistant turn).
   * @default false
   */
  scanHistory?: boolean
}
