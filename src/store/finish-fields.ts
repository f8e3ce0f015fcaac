/**
 * The few fields `getAgentStats` reads of a finish event (agent, model, duration, usage), read straight
 * from the line's bytes without decoding or parsing it: a finish event is mostly its response, which the
 * stats never read. Only the recorder's exact shape is read this way (`Recorder.record` writes the
 * envelope `event, channel, level, agent_id, call_id?, timestamp, data`; `CallRecord.close` writes
 * `data` as `method, model?, duration_ms, …, response, usage, alert, security`); anything else (an
 * escape in a field read, a number with an exponent, keys in another order) returns null and the caller
 * parses the line whole. The tail from `usage` to the end of the line is walked as JSON (strings,
 * nesting), so a `usage` key found inside `security` or a line cut short does not pass.
 * @internal
 */

const Q = 0x22 // "
const BS = 0x5c // \
const OPEN = 0x7b // {
const CLOSE = 0x7d // }
const OPEN_ARR = 0x5b // [
const CLOSE_ARR = 0x5d // ]

const bytes = (s: string) => Buffer.from(s)
const HEAD = bytes('{"event":"LLM_call_finish","channel":"')
const LEVEL = bytes(',"level":"')
const AGENT = bytes(',"agent_id":"')
const CALL_ID = bytes(',"call_id":"')
const TIMESTAMP = bytes(',"timestamp":"')
const DATA_METHOD = bytes(',"data":{"method":"')
const MODEL = bytes(',"model":"')
const DURATION = bytes(',"duration_ms":')
const USAGE = bytes(',"usage":')
const ALERT = bytes(',"alert":"')
const SECURITY = bytes(',"security":')
const INPUT_TOKENS = bytes('input_tokens')
const OUTPUT_TOKENS = bytes('output_tokens')

/** What `getAgentStats` reads of an event that ends a call; filled in place, one object per query. @internal */
export interface CallEnd {
  agent_id: unknown
  kind: string
  model: unknown
  input_tokens: unknown
  output_tokens: unknown
  duration_ms: unknown
}

/** Whether `lit` is at `buf[pos]` (before `end`). */
function at(buf: Buffer, pos: number, end: number, lit: Buffer): boolean {
  if (pos + lit.length > end) return false
  for (let i = 0; i < lit.length; i++) if (buf[pos + i] !== lit[i]) return false
  return true
}

/** The end (the closing quote) of a string without escapes starting at `pos`, or -1. */
function plainString(buf: Buffer, pos: number, end: number): number {
  for (let i = pos; i < end; i++) {
    const c = buf[i]
    if (c === Q) return i
    if (c === BS) return -1
  }
  return -1
}

/** Just after the JSON string whose opening quote is at `pos` (escapes allowed), or -1. */
function skipString(buf: Buffer, pos: number, end: number): number {
  for (let i = pos + 1; i < end; i++) {
    const c = buf[i]
    if (c === BS) i++
    else if (c === Q) return i + 1
  }
  return -1
}

/** Just after the JSON value at `pos` (object, array, string, number, literal), or -1 when it is not one. */
function skipValue(buf: Buffer, pos: number, end: number): number {
  const c = buf[pos]
  if (c === Q) return skipString(buf, pos, end)
  if (c === OPEN || c === OPEN_ARR) {
    let depth = 0
    for (let i = pos; i < end; i++) {
      const d = buf[i]
      if (d === Q) {
        i = skipString(buf, i, end) - 1
        if (i < 0) return -1
      } else if (d === OPEN || d === OPEN_ARR) depth++
      else if (d === CLOSE || d === CLOSE_ARR) {
        if (--depth === 0) return i + 1
      }
    }
    return -1
  }
  // A number or true/false/null: up to the next delimiter.
  let i = pos
  while (i < end) {
    const d = buf[i]
    if (d === 0x2c || d === CLOSE || d === CLOSE_ARR) break
    i++
  }
  return i > pos ? i : -1
}

/**
 * The JSON number at `buf[pos, stop)` when it is plain (`-?digits(.digits)?`, at most 15 significant
 * digits): then the integer mantissa divided by a power of ten is exactly what JSON.parse returns (both
 * are exact doubles, and IEEE division rounds correctly). NaN otherwise.
 */
function plainNumber(buf: Buffer, pos: number, stop: number): number {
  let i = pos
  let negative = false
  if (buf[i] === 0x2d) {
    negative = true
    i++
  }
  let mantissa = 0
  let digits = 0
  let fraction = -1
  for (; i < stop; i++) {
    const c = buf[i]!
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30)
      digits++
      if (fraction >= 0) fraction++
    } else if (c === 0x2e && fraction === -1 && digits > 0) {
      fraction = 0
    } else {
      return Number.NaN
    }
  }
  if (digits === 0 || digits > 15 || fraction === 0) return Number.NaN
  const value = fraction > 0 ? mantissa / 10 ** fraction : mantissa
  return negative ? -value : value
}

/** Decoded agent and model names, keyed by their bytes' hash: the same few names recur on every line. */
class Names {
  private readonly map = new Map<number, Array<[Buffer, string]>>()
  get(buf: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193)
    const bucket = this.map.get(h)
    if (bucket !== undefined) {
      outer: for (const [b, s] of bucket) {
        if (b.length !== end - start) continue
        for (let i = 0; i < b.length; i++) if (b[i] !== buf[start + i]) continue outer
        return s
      }
    }
    const s = buf.toString('utf8', start, end)
    if (this.map.size < 4096) {
      const entry: [Buffer, string] = [Buffer.from(buf.subarray(start, end)), s]
      if (bucket) bucket.push(entry)
      else this.map.set(h, [entry])
    }
    return s
  }
}

/**
 * A reader of finish lines with its own cache of names (one per query): fills `out` and returns true,
 * or returns false (`out` then holds garbage) when the line is not of the recorder's shape.
 * @internal
 */
export function finishReader(): (buf: Buffer, start: number, end: number, out: CallEnd) => boolean {
  const names = new Names()
  return (buf, start, end, out) => {
    // The head: envelope and the first keys of data, in the recorder's order.
    if (!at(buf, start, end, HEAD)) return false
    let p = plainString(buf, start + HEAD.length, end)
    if (p === -1 || !at(buf, p + 1, end, LEVEL)) return false
    p = plainString(buf, p + 1 + LEVEL.length, end)
    if (p === -1 || !at(buf, p + 1, end, AGENT)) return false
    const agentStart = p + 1 + AGENT.length
    const agentEnd = plainString(buf, agentStart, end)
    if (agentEnd === -1) return false
    p = agentEnd + 1
    if (at(buf, p, end, CALL_ID)) {
      p = plainString(buf, p + CALL_ID.length, end)
      if (p === -1) return false
      p++
    }
    if (!at(buf, p, end, TIMESTAMP)) return false
    p = plainString(buf, p + TIMESTAMP.length, end)
    if (p === -1 || !at(buf, p + 1, end, DATA_METHOD)) return false
    p = plainString(buf, p + 1 + DATA_METHOD.length, end)
    if (p === -1) return false
    p++
    out.model = undefined
    if (at(buf, p, end, MODEL)) {
      const modelStart = p + MODEL.length
      p = plainString(buf, modelStart, end)
      if (p === -1) return false
      out.model = names.get(buf, modelStart, p)
      p++
    }
    if (!at(buf, p, end, DURATION)) return false
    const durationStart = p + DURATION.length
    p = skipValue(buf, durationStart, end)
    if (p === -1) return false
    const duration = plainNumber(buf, durationStart, p)
    if (Number.isNaN(duration)) return false
    // The tail: the last `,"usage":`, then usage, alert, security and the two closing braces, walked as JSON.
    let u = end - USAGE.length
    while (u > p && !(buf[u + 2] === 0x75 && buf[u] === 0x2c && at(buf, u, end, USAGE))) u--
    if (u <= p) return false
    p = readUsage(buf, u + USAGE.length, end, out)
    if (p === -1) return false
    if (!at(buf, p, end, ALERT)) return false
    p = skipString(buf, p + ALERT.length - 1, end)
    if (p === -1 || !at(buf, p, end, SECURITY)) return false
    p = skipValue(buf, p + SECURITY.length, end)
    if (p === -1 || p + 2 !== end || buf[p] !== CLOSE || buf[p + 1] !== CLOSE) return false
    out.agent_id = names.get(buf, agentStart, agentEnd)
    out.kind = 'LLM_call_finish'
    out.duration_ms = duration
    return true
  }
}

/** Reads the usage value at `pos` (null, or an object whose top-level token counts are read) into `out`; where it ends, or -1. */
function readUsage(buf: Buffer, pos: number, end: number, out: CallEnd): number {
  out.input_tokens = undefined
  out.output_tokens = undefined
  if (at(buf, pos, end, NULL)) return pos + 4
  if (buf[pos] !== OPEN) return -1
  let p = pos + 1
  if (buf[p] === CLOSE) return p + 1
  for (;;) {
    if (buf[p] !== Q) return -1
    const keyEnd = plainString(buf, p + 1, end)
    if (keyEnd === -1 || buf[keyEnd + 1] !== 0x3a) return -1
    const valueStart = keyEnd + 2
    const next = skipValue(buf, valueStart, end)
    if (next === -1) return -1
    const isInput = keyEnd - p - 1 === INPUT_TOKENS.length && at(buf, p + 1, keyEnd, INPUT_TOKENS)
    const isOutput = !isInput && keyEnd - p - 1 === OUTPUT_TOKENS.length && at(buf, p + 1, keyEnd, OUTPUT_TOKENS)
    if (isInput || isOutput) {
      const c = buf[valueStart]!
      // A number is read; anything else (a string, null) is not a count, as for a parsed event.
      let n: number | undefined
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        n = plainNumber(buf, valueStart, next)
        if (Number.isNaN(n)) return -1
      }
      if (isInput) out.input_tokens = n
      else out.output_tokens = n
    }
    p = next
    if (buf[p] === CLOSE) return p + 1
    if (buf[p] !== 0x2c) return -1
    p++
  }
}

const NULL = bytes('null')
