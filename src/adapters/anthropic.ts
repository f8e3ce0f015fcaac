import type { Adapter, CallSpec, RequestInfo, ResponseInfo, StreamAccumulator, Target, TextPart } from '../types.js'
import { toolInputText } from './tool-input.js'

/**
 * The built-in adapter for `@anthropic-ai/sdk`: `messages.create` (plain and `stream: true`) under
 * `messages` and `beta.messages`. `stream()` and `parse()` are helpers that call `create` inside, so each
 * of their requests is recorded once, under the helper's name (`messages.stream`).
 *
 * Not recorded yet: the turns of `beta.messages.toolRunner()`, which sends them through a message thread
 * that the SDK builds on the bare client internally.
 *
 * Not recorded, passed straight through: `countTokens` (it generates nothing), `models.*`, and
 * `messages.batches.*` — a batch is an asynchronous job whose results arrive hours later as a file, not a
 * call with a response; its requests are not scanned either (a known gap, documented in the README).
 */

type Block = Record<string, unknown> & { type?: string }
interface MessageParam {
  role?: string
  content?: string | Block[]
}
interface MessageParams {
  model?: string
  system?: string | Block[]
  messages?: MessageParam[]
  tools?: Block[]
  stream?: boolean
}

function readRequest(args: unknown[], { scanHistory }: { scanHistory: boolean }): RequestInfo {
  // Malformed parts (null entries, numbers, circular schemas) are skipped, never thrown over: a reader that
  // throws leaves the whole request unscanned, so one bad element would hide every other text.
  const params = (isObject(args[0]) ? args[0] : {}) as MessageParams
  const texts: TextPart[] = []
  if (params.system !== undefined) pushContent(texts, params.system, 'system')
  const messages = (Array.isArray(params.messages) ? params.messages : []).map((m) => (isObject(m) ? m : undefined))
  // The newest turn is what came after the last assistant message: earlier turns were scanned when sent.
  // Trailing assistant messages (a prefill the model is to continue) are part of the newest turn, not its
  // start: the user message before them is new too.
  let from = 0
  if (!scanHistory) {
    let i = messages.length - 1
    while (i >= 0 && messages[i]?.role === 'assistant') i--
    for (; i >= 0; i--) {
      if (messages[i]?.role === 'assistant') {
        from = i + 1
        break
      }
    }
  }
  for (let i = from; i < messages.length; i++) {
    const m = messages[i]
    if (m) pushContent(texts, m.content, m.role === 'assistant' ? 'assistant' : 'user')
  }
  if (Array.isArray(params.tools)) {
    for (const tool of params.tools as unknown[]) {
      if (!isObject(tool)) continue
      const description = [tool.name, tool.description, tool.input_schema ? safeJson(tool.input_schema) : '']
      texts.push({ target: 'tool_definition', text: description.filter((d) => typeof d === 'string' && d !== '').join('\n') })
    }
  }
  return { model: params.model, params, texts, stream: params.stream === true }
}

function pushContent(texts: TextPart[], content: unknown, target: Target): void {
  if (typeof content === 'string') {
    texts.push({ target, text: content })
    return
  }
  if (!Array.isArray(content)) return
  for (const block of content as Block[]) {
    if (!block || typeof block !== 'object') continue
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') texts.push({ target, text: block.text })
        break
      case 'tool_result':
        // What a tool returned goes back to the model: the path of indirect prompt injection.
        pushContent(texts, block.content, 'tool_result')
        break
      case 'document': {
        const source = block.source as { type?: string; data?: unknown; content?: unknown } | undefined
        if (source?.type === 'text' && typeof source.data === 'string') texts.push({ target, text: source.data })
        else if (source?.type === 'content') pushContent(texts, source.content, target)
        break
      }
      case 'tool_use':
        // An earlier assistant turn's tool call, sent back as history.
        texts.push({ target: 'assistant', text: toolInputText(block.input ?? {}) })
        break
      case 'image':
        break
      default:
        // Other blocks that carry text (`search_result`, and types newer than this adapter): their text
        // and nested content reach the model as well.
        if (typeof block.text === 'string') texts.push({ target, text: block.text })
        if (typeof block.title === 'string' && block.type === 'search_result') texts.push({ target, text: block.title })
        if (block.content !== undefined) pushContent(texts, block.content, target)
        break
    }
  }
}

/** Texts of a response: the answer's text, and the arguments of each tool call the model asks for. */
function responseTexts(message: { content?: Block[] }): TextPart[] {
  const texts: TextPart[] = []
  if (!Array.isArray(message.content)) return texts
  for (const block of message.content) {
    if (!isObject(block)) continue
    if (block.type === 'text' && typeof block.text === 'string') texts.push({ target: 'response', text: block.text })
    else if (block.type === 'tool_use' || block.type === 'server_tool_use') {
      texts.push({ target: 'tool_input', text: toolInputText(block.input ?? {}) })
    }
  }
  return texts
}

function readResponse(result: unknown): ResponseInfo {
  const message = (isObject(result) ? result : {}) as { content?: Block[]; usage?: Record<string, unknown>; stop_reason?: unknown; id?: unknown }
  return {
    response: result,
    usage: isObject(message.usage) ? message.usage : undefined,
    texts: responseTexts(message),
    data: { stop_reason: message.stop_reason ?? null },
  }
}

/**
 * Assembles the message a stream carries, as the API's own accumulators do: every block type, the deltas
 * of each (text, tool input JSON, thinking, signature, citations), unknown types kept as sent, and usage
 * merged from `message_start` and `message_delta`.
 */
class MessageAccumulator implements StreamAccumulator {
  private message: (Record<string, unknown> & { content: Block[]; usage?: Record<string, unknown> }) | undefined
  private partialJson = new Map<number, string>()
  private stopped = false

  push(chunk: unknown): boolean {
    if (!isObject(chunk)) return false
    const event = chunk as { type?: string; index?: number; message?: any; content_block?: Block; delta?: any; usage?: any }
    switch (event.type) {
      case 'message_start':
        this.message = { ...event.message, content: [...(event.message?.content ?? [])], usage: { ...event.message?.usage } }
        return false
      case 'content_block_start':
        if (this.message && isIndex(event.index)) this.message.content[event.index] = { ...event.content_block }
        return false
      case 'content_block_delta':
        return this.applyDelta(event.index, event.delta)
      case 'content_block_stop':
        this.closeBlock(event.index)
        return false
      case 'message_delta':
        if (this.message) {
          if (isObject(event.delta)) Object.assign(this.message, event.delta)
          if (isObject(event.usage)) {
            // The final counts override; fields `message_delta` leaves null keep their start value.
            for (const [key, value] of Object.entries(event.usage)) {
              if (value !== null && value !== undefined) this.message.usage![key] = value
            }
          }
        }
        return false
      case 'message_stop':
        this.stopped = true
        return false
      default:
        return false
    }
  }

  private applyDelta(index: number | undefined, delta: any): boolean {
    const block = isIndex(index) ? this.message?.content[index] : undefined
    if (!block || !isObject(delta)) return false
    switch (delta.type) {
      case 'text_delta':
        block.text = `${(block.text as string | undefined) ?? ''}${delta.text}`
        return true
      case 'input_json_delta':
        this.partialJson.set(index!, `${this.partialJson.get(index!) ?? ''}${delta.partial_json}`)
        return true
      case 'thinking_delta':
        block.thinking = `${(block.thinking as string | undefined) ?? ''}${delta.thinking}`
        return true
      case 'signature_delta':
        block.signature = delta.signature
        return false
      case 'citations_delta':
        block.citations = [...((block.citations as unknown[] | undefined) ?? []), delta.citation]
        return false
      default: {
        // A delta type this version does not know: keep it with its block, as sent.
        const deltas = (block.unknown_deltas as unknown[] | undefined) ?? []
        block.unknown_deltas = [...deltas, delta]
        return false
      }
    }
  }

  private closeBlock(index: number | undefined): void {
    if (index === undefined || !this.message) return
    const json = this.partialJson.get(index)
    const block = this.message.content[index]
    if (json === undefined || !block) return
    this.partialJson.delete(index)
    try {
      block.input = json === '' ? {} : JSON.parse(json)
    } catch {
      block.input = json
    }
  }

  result(): ResponseInfo {
    if (!this.message) return { response: null, data: { partial: true } }
    for (const index of [...this.partialJson.keys()]) this.closeBlock(index)
    const info = readResponse(this.message)
    if (!this.stopped) info.data = { ...info.data, partial: true }
    return info
  }

  /** A tool call's arguments, at the `content_block_stop` that completes them (pushed just before). */
  completedTexts(chunk: unknown): TextPart[] | undefined {
    const event = chunk as { type?: unknown; index?: unknown } | null
    if (event?.type !== 'content_block_stop' || !isIndex(event.index)) return undefined
    const block = this.message?.content[event.index]
    if (!block || (block.type !== 'tool_use' && block.type !== 'server_tool_use')) return undefined
    return [{ target: 'tool_input', text: toolInputText(block.input ?? {}) }]
  }
}

const messagesCreate: CallSpec = {
  request: readRequest,
  response: readResponse,
  stream: () => new MessageAccumulator(),
}

export const anthropicAdapter: Adapter = {
  name: 'anthropic',
  channel: 'LLM',
  match: (client) => {
    const c = client as { messages?: { create?: unknown }; chat?: unknown }
    return typeof c.messages?.create === 'function' && c.chat === undefined && protoNamed(client as object, /Anthropic/)
  },
  calls: {
    'messages.create': messagesCreate,
    'beta.messages.create': messagesCreate,
  },
  helpers: [
    'messages.stream',
    'messages.parse',
    'beta.messages.stream',
    'beta.messages.parse',
  ],
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A content index as the API sends it; anything else (a string, a huge number) would write a stray key. */
function isIndex(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < 100_000
}

/** JSON of a value the SDK will serialise too; a value it cannot serialise (a cycle, a BigInt) is scanned as far as it goes. @internal */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    const seen = new WeakSet<object>()
    try {
      return (
        JSON.stringify(value, (_key, v: unknown) => {
          if (typeof v === 'bigint') return v.toString()
          if (v !== null && typeof v === 'object') {
            if (seen.has(v)) return '[Circular]'
            seen.add(v)
          }
          return v
        }) ?? ''
      )
    } catch {
      return ''
    }
  }
}

/** Whether a class in the object's prototype chain has a name like `pattern` (Anthropic, AnthropicBedrock, …). */
export function protoNamed(value: object, pattern: RegExp): boolean {
  for (let p = Object.getPrototypeOf(value); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (pattern.test(p.constructor?.name ?? '')) return true
  }
  return false
}
