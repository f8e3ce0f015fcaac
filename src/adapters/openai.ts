import type { Adapter, CallSpec, RequestInfo, ResponseInfo, StreamAccumulator, Target, TextPart } from '../types.js'
import { protoNamed, safeJson } from './anthropic.js'
import { asSent, toolInputText } from './tool-input.js'

/**
 * The built-in adapter for the `openai` package, recognised by its shape (the package is never imported):
 * `chat.completions.create` and `responses.create`, plain and `stream: true`. `chat.completions.parse()`,
 * `.stream()`, `.runTools()` and `responses.parse()`, `.stream()` are helpers that call `create` inside, so
 * each of their requests is recorded once.
 *
 * Request texts: system and developer messages (and `instructions`) at `system`, always; the newest turn
 * (what came after the last assistant message) at `user`, `tool_result` and `assistant`, unless
 * `scanHistory`; function definitions at `tool_definition`. Response texts: the answer at `response`, the
 * arguments of each tool call at `tool_input`. Usage is kept as sent, with `input_tokens`/`output_tokens`
 * added for chat completions (which name them `prompt_tokens`/`completion_tokens`).
 */

type Item = Record<string, unknown> & { type?: string; role?: string; content?: unknown }

interface TurnOptions {
  scanHistory: boolean
}

/** Where the newest turn starts: after the last assistant message (earlier turns were scanned when sent). */
function newestTurn(items: Item[], isAssistant: (item: Item) => boolean, { scanHistory }: TurnOptions): number {
  if (scanHistory) return 0
  // Trailing assistant items (a prefill) belong to the newest turn: the message before them is new too.
  let i = items.length - 1
  while (i >= 0 && isAssistant(items[i] ?? {})) i--
  for (; i >= 0; i--) if (isAssistant(items[i] ?? {})) return i + 1
  return 0
}

/**
 * Text of OpenAI content: a string, or parts of type `text`/`input_text`/`output_text`/`refusal`. Every value
 * is read as the SDK sends it (`JSON.stringify`: a `toJSON()`'s result, a `String` object's string; see `asSent`).
 */
function pushContent(texts: TextPart[], given: unknown, target: Target, key = 'content'): void {
  const content = asSent(given, key)
  if (typeof content === 'string') {
    if (content !== '') texts.push({ target, text: content })
    return
  }
  if (!Array.isArray(content)) return
  content.forEach((p: unknown, i) => {
    const part = asSent(p, i)
    if (!isObject(part)) return
    const text = asSent(part.text, 'text') ?? asSent(part.refusal, 'refusal')
    if (typeof text === 'string') texts.push({ target, text })
  })
}

/** `value` as sent, when it is an object (not an array); else an empty one. */
function sentObject(value: unknown, key: string | number): Item {
  const sent = asSent(value, key)
  return (isObject(sent) ? sent : {}) as Item
}

/** `value` as sent, when it is an array; else an empty one. */
function sentArray(value: unknown, key: string): unknown[] {
  const sent = asSent(value, key)
  return Array.isArray(sent) ? sent : []
}

/** How the SDK reads the response (a stream or not): from the params it was given, not the body it sends. */
function readStream(given: unknown): unknown {
  return isObject(given) ? given.stream : undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The array a field should hold, or none: a server or caller may send anything. */
function arrayOf<T>(value: unknown): Array<T | undefined> {
  return Array.isArray(value) ? (value as Array<T | undefined>) : []
}

function roleTarget(role: unknown): Target {
  if (role === 'system' || role === 'developer') return 'system'
  if (role === 'assistant') return 'assistant'
  if (role === 'tool' || role === 'function') return 'tool_result'
  return 'user'
}

function toolDefinitions(texts: TextPart[], tools: unknown): void {
  for (const [i, given] of sentArray(tools, 'tools').entries()) {
    const tool = asSent(given, i)
    if (!isObject(tool)) continue
    // Chat completions nest the function (`{ type: 'function', function: {…} }`); responses do not.
    const nested = asSent(tool.function, 'function')
    const fn = (isObject(nested) ? nested : tool) as { name?: unknown; description?: unknown; parameters?: unknown }
    const parts = [asSent(fn.name, 'name'), asSent(fn.description, 'description'), fn.parameters ? safeJson(fn.parameters) : '']
    const text = parts.filter((p) => typeof p === 'string' && p !== '').join('\n')
    if (text) texts.push({ target: 'tool_definition', text })
  }
}

// ---- chat.completions ----

interface ChatParams {
  model?: string
  messages?: Item[]
  tools?: unknown
  stream?: boolean
}

function readChatRequest(args: unknown[], options: TurnOptions): RequestInfo {
  // Malformed entries are skipped, never thrown over: a reader that throws leaves the whole request unscanned.
  // The SDK sends its params with `JSON.stringify`: they are read as it sends them (see `asSent`).
  const params = sentObject(args[0], '') as ChatParams & Item
  const messages = sentArray(params.messages, 'messages').map((m, i) => sentObject(m, i))
  const roles = messages.map((m) => asSent(m.role, 'role'))
  const roleOf = new Map(messages.map((m, i) => [m, roles[i]]))
  const from = newestTurn(messages, (m) => roleOf.get(m) === 'assistant', options)
  const texts: TextPart[] = []
  messages.forEach((m, i) => {
    const target = roleTarget(roles[i])
    if (target !== 'system' && i < from) return
    pushContent(texts, m.content, target)
    for (const [j, call] of sentArray(m.tool_calls, 'tool_calls').entries()) {
      const args = asSent(sentObject(sentObject(call, j).function, 'function').arguments, 'arguments')
      if (typeof args === 'string') texts.push({ target: 'assistant', text: args })
    }
  })
  toolDefinitions(texts, params.tools)
  const model = asSent(params.model, 'model')
  return { model: typeof model === 'string' ? model : undefined, params, texts, stream: Boolean(readStream(args[0])) }
}

interface ChatMessage {
  content?: string | null
  refusal?: string | null
  tool_calls?: Array<{ function?: { arguments?: string } }>
}

function chatUsage(usage: unknown): Record<string, unknown> | undefined {
  if (!usage || typeof usage !== 'object') return undefined
  const u = usage as Record<string, unknown>
  return { ...u, input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens }
}

/** A body that is not JSON (a proxy's `text/plain` answer) reaches the application as the text: judged as the response's text. */
function textBody(text: string): ResponseInfo {
  return { response: text, texts: [{ target: 'response', text }], data: { stop_reason: null } }
}

function readChatResponse(result: unknown): ResponseInfo {
  if (typeof result === 'string') return textBody(result)
  const completion = (isObject(result) ? result : {}) as { choices?: Array<{ message?: ChatMessage; finish_reason?: unknown }>; usage?: unknown }
  const texts: TextPart[] = []
  for (const choice of arrayOf<{ message?: ChatMessage }>(completion.choices)) {
    const m = choice?.message
    if (!isObject(m)) continue
    if (typeof m.content === 'string' && m.content !== '') texts.push({ target: 'response', text: m.content })
    if (typeof m.refusal === 'string' && m.refusal !== '') texts.push({ target: 'response', text: m.refusal })
    for (const call of arrayOf<{ function?: { arguments?: unknown } }>(m.tool_calls)) {
      if (typeof call?.function?.arguments === 'string') texts.push({ target: 'tool_input', text: toolInputText(call.function.arguments) })
    }
  }
  return {
    response: result,
    usage: chatUsage(completion.usage),
    texts,
    data: { stop_reason: arrayOf<{ finish_reason?: unknown }>(completion.choices)[0]?.finish_reason ?? null },
  }
}

interface ToolCallDelta {
  index: number
  id?: string
  type?: string
  function?: { name?: string; arguments?: string }
}
interface ChunkChoice {
  index: number
  delta?: { role?: string; content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] }
  finish_reason?: string | null
  logprobs?: unknown
}

/** Assembles a `chat.completion` from `chat.completion.chunk`s, as `ChatCompletionStream` does. */
class ChatCompletionAccumulator implements StreamAccumulator {
  private completion: Record<string, unknown> | undefined
  private choices: Array<{ index: number; message: Record<string, unknown>; finish_reason: unknown; logprobs: unknown }> = []
  private usage: unknown

  push(chunk: unknown): boolean {
    if (!isObject(chunk)) return false
    const c = chunk as { choices?: ChunkChoice[]; usage?: unknown; object?: string }
    if (!this.completion) {
      const { choices: _c, usage: _u, object: _o, ...head } = c as Record<string, unknown>
      this.completion = { ...head, object: 'chat.completion' }
    }
    if (c.usage) this.usage = c.usage
    let token = false
    for (const delta of arrayOf<ChunkChoice>(c.choices)) {
      if (!isObject(delta) || !Number.isInteger(delta.index) || delta.index < 0 || delta.index >= 10_000) continue
      const choice = (this.choices[delta.index] ??= {
        index: delta.index,
        message: { role: 'assistant', content: null, refusal: null },
        finish_reason: null,
        logprobs: null,
      })
      const d = isObject(delta.delta) ? delta.delta : {}
      if (d.role) choice.message.role = d.role
      if (typeof d.content === 'string' && d.content !== '') {
        choice.message.content = `${(choice.message.content as string | null) ?? ''}${d.content}`
        token = true
      }
      if (typeof d.refusal === 'string' && d.refusal !== '') {
        choice.message.refusal = `${(choice.message.refusal as string | null) ?? ''}${d.refusal}`
        token = true
      }
      for (const t of arrayOf<ToolCallDelta>(d.tool_calls)) {
        if (!isObject(t) || !Number.isInteger(t.index) || t.index < 0 || t.index >= 10_000) continue
        const calls = (choice.message.tool_calls ??= []) as Array<{ id?: string; type: string; function: { name: string; arguments: string } }>
        const call = (calls[t.index] ??= { type: 'function', function: { name: '', arguments: '' } })
        if (t.id) call.id = t.id
        if (t.type) call.type = t.type
        if (t.function?.name) call.function.name += t.function.name
        if (t.function?.arguments) {
          call.function.arguments += t.function.arguments
          token = true
        }
      }
      if (delta.finish_reason) choice.finish_reason = delta.finish_reason
      if (delta.logprobs) choice.logprobs = delta.logprobs
    }
    return token
  }

  result(): ResponseInfo {
    if (!this.completion) return { response: null, data: { partial: true } }
    const response = { ...this.completion, choices: this.choices.filter(Boolean), usage: this.usage ?? null }
    const info = readChatResponse(response)
    if (this.choices.length === 0 || this.choices.some((c) => c && !c.finish_reason)) info.data = { ...info.data, partial: true }
    return info
  }
}

// ---- responses ----

interface ResponsesParams {
  model?: string
  instructions?: unknown
  input?: string | Item[]
  tools?: unknown
  stream?: boolean
}

function readResponsesRequest(args: unknown[], options: TurnOptions): RequestInfo {
  const params = sentObject(args[0], '') as ResponsesParams & Item
  const texts: TextPart[] = []
  const instructions = asSent(params.instructions, 'instructions')
  if (typeof instructions === 'string') texts.push({ target: 'system', text: instructions })
  const input = asSent(params.input, 'input')
  if (typeof input === 'string') texts.push({ target: 'user', text: input })
  else if (Array.isArray(input)) {
    const items = input.map((item, i) => {
      const sent = sentObject(item, i)
      return { ...sent, type: asSent(sent.type, 'type'), role: asSent(sent.role, 'role') } as Item
    })
    const isAssistant = (item: Item) => item.role === 'assistant' || item.type === 'function_call'
    const from = newestTurn(items, isAssistant, options)
    items.forEach((item, i) => {
      if (item.type === 'function_call_output') {
        if (i >= from) pushContent(texts, item.output, 'tool_result', 'output')
      } else if (item.type === 'function_call') {
        const args = asSent(item.arguments, 'arguments')
        if (i >= from && typeof args === 'string') texts.push({ target: 'assistant', text: args })
      } else if (item.role !== undefined) {
        const target = roleTarget(item.role)
        if (target === 'system' || i >= from) pushContent(texts, item.content, target)
      }
    })
  }
  toolDefinitions(texts, params.tools)
  const model = asSent(params.model, 'model')
  return { model: typeof model === 'string' ? model : undefined, params, texts, stream: Boolean(readStream(args[0])) }
}

function readResponsesResponse(result: unknown): ResponseInfo {
  if (typeof result === 'string') return textBody(result)
  const response = (isObject(result) ? result : {}) as { output?: Item[]; usage?: Record<string, unknown>; status?: unknown }
  const texts: TextPart[] = []
  for (const item of arrayOf<Item>(response.output)) {
    if (!isObject(item)) continue
    if (item.type === 'message') pushContent(texts, item.content, 'response')
    else if (item.type === 'function_call' && typeof item.arguments === 'string') texts.push({ target: 'tool_input', text: toolInputText(item.arguments) })
  }
  return { response: result, usage: isObject(response.usage) ? response.usage : undefined, texts, data: { stop_reason: response.status ?? null } }
}

/**
 * Follows a Responses API event stream: `response.completed` (or `.incomplete`/`.failed`) carries the whole
 * response; a stream that stops before it keeps the last snapshot plus the text deltas seen since.
 */
class ResponseAccumulator implements StreamAccumulator {
  private snapshot: Record<string, unknown> | undefined
  private final = false
  private deltas = new Map<string, string>()

  push(chunk: unknown): boolean {
    if (!isObject(chunk)) return false
    const event = chunk as { type?: string; response?: Record<string, unknown>; delta?: unknown; output_index?: number; content_index?: number }
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.snapshot = event.response
        return false
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.snapshot = event.response
        this.final = true
        return false
      case 'response.output_text.delta':
      case 'response.function_call_arguments.delta': {
        const key = `${event.type}:${event.output_index}:${event.content_index ?? 0}`
        this.deltas.set(key, `${this.deltas.get(key) ?? ''}${String(event.delta ?? '')}`)
        return true
      }
      default:
        return false
    }
  }

  result(): ResponseInfo {
    if (!this.snapshot) return { response: null, data: { partial: true } }
    const info = readResponsesResponse(this.snapshot)
    if (this.final) return info
    // Cut short: what was generated so far is in the deltas, not in the snapshot.
    for (const [key, text] of this.deltas) {
      info.texts!.push(key.startsWith('response.output_text') ? { target: 'response', text } : { target: 'tool_input', text: toolInputText(text) })
    }
    info.data = { ...info.data, partial: true, partial_output: Object.fromEntries(this.deltas) }
    return info
  }
}

const chatCreate: CallSpec = {
  request: readChatRequest,
  response: readChatResponse,
  stream: () => new ChatCompletionAccumulator(),
}

const responsesCreate: CallSpec = {
  request: readResponsesRequest,
  response: readResponsesResponse,
  stream: () => new ResponseAccumulator(),
}

export const openaiAdapter: Adapter = {
  name: 'openai',
  channel: 'LLM',
  match: (client) => {
    const c = client as { chat?: { completions?: { create?: unknown } }; responses?: { create?: unknown } }
    return typeof c.chat?.completions?.create === 'function' && protoNamed(client as object, /OpenAI/)
  },
  calls: {
    'chat.completions.create': chatCreate,
    'responses.create': responsesCreate,
  },
  helpers: [
    'chat.completions.parse',
    'chat.completions.stream',
    'chat.completions.runTools',
    'responses.parse',
    'responses.stream',
  ],
}
