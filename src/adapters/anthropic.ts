import type { Adapter, CallSpec, RequestInfo, ResponseInfo, StreamAccumulator, Target, TextPart } from '../types.js'
import { asSent, toolInputText } from './tool-input.js'

/**
 * The built-in adapter for `@anthropic-ai/sdk`: `messages.create` (plain and `stream: true`) under
 * `messages` and `beta.messages`. `stream()` and `parse()` are helpers that call `create` inside, so each
 * of their requests is recorded once, under the helper's name (`messages.stream`).
 *
 * Message threads (`beta.messages.thread()`) and tool runners (`beta.messages.toolRunner()`) keep the client
 * they are built on and send each turn through its `beta.messages.create`: the methods that build them are
 * helpers too, so that client is the monitored one, and each turn is scanned and recorded as a
 * `beta.messages.create` call of its own (its `thread` field says which thread it continues).
 *
 * Not recorded, passed straight through: `countTokens` (it generates nothing), `models.*`, and
 * `messages.batches.*` — a batch is an asynchronous job whose results arrive hours later as a file, not a
 * call with a response; its requests are not scanned either (a known gap, documented in the README).
 */

type Block = Record<string, unknown> & { type?: string }

function readRequest(args: unknown[], { scanHistory }: { scanHistory: boolean }): RequestInfo {
  // Malformed parts (null entries, numbers, circular schemas) are skipped, never thrown over: a reader that
  // throws leaves the whole request unscanned, so one bad element would hide every other text.
  // Every value is read as the SDK will serialise it (see `asSent`), and from the body it will send.
  const first = args[0]
  const body = sentBody(first, args[1])
  const params = isObject(body) ? body : {}
  const texts: TextPart[] = typeof body === 'string' ? [{ target: 'user', text: body }] : []
  const system = asSent(params.system, 'system')
  if (system !== undefined) pushContent(texts, system, 'system')
  // The newest turn is what came after the last assistant message: earlier turns were scanned when sent.
  // Trailing assistant messages (a prefill the model is to continue) are part of the newest turn, not its
  // start: the user message before them is new too. Read from the end, so older turns are not read at all.
  const list = asSent(params.messages, 'messages')
  const turn: Array<Record<string, unknown>> = []
  const roles: unknown[] = []
  if (Array.isArray(list)) {
    let pastPrefill = false
    for (let i = list.length - 1; i >= 0; i--) {
      const message = asSent(list[i], i)
      const role = isObject(message) ? asSent(message.role, 'role') : undefined
      if (role !== 'assistant') pastPrefill = true
      else if (pastPrefill && !scanHistory) break
      if (isObject(message)) {
        turn.push(message)
        roles.push(role)
      }
    }
  }
  for (let i = turn.length - 1; i >= 0; i--) {
    const role = roles[i]
    pushContent(texts, asSent(turn[i]!.content, 'content'), role === 'assistant' ? 'assistant' : role === 'system' ? 'system' : 'user')
  }
  const tools = asSent(params.tools, 'tools')
  if (Array.isArray(tools)) tools.forEach((tool, i) => pushToolDefinition(texts, asSent(tool, i)))
  // A structured output's schema is read by the model as a tool's is (`output_format` is its older place).
  const outputConfig = asSent(params.output_config, 'output_config')
  if (isObject(outputConfig)) pushSchema(texts, asSent(outputConfig.format, 'format'))
  pushSchema(texts, asSent(params.output_format, 'output_format'))
  const model = asSent(params.model, 'model')
  // How the SDK reads the response (a stream or not) follows the params it was given, not the body it sends:
  // any truthy `stream` (a `new Boolean(true)`, say) makes it read a stream.
  const stream = isObject(first) && Boolean(first.stream)
  return { model: typeof model === 'string' ? model : undefined, params: typeof body === 'string' ? body : params, texts, stream }
}

/**
 * What `create(params, options)` sends: the SDK spreads `options` over `{ body: params }`, so an `options.body`
 * is the body; `params` are sent as their own enumerable fields (a `toJSON` among them is honoured). A body in a
 * form the monitor cannot read before it is sent (a stream, a Blob, FormData) is an error: the call is then
 * recorded as unscanned.
 */
function sentBody(params: unknown, options: unknown): unknown {
  if (options !== null && typeof options === 'object' && Object.prototype.propertyIsEnumerable.call(options, 'body')) {
    const body = (options as { body?: unknown }).body
    if (typeof body === 'string') return parsedBody(body)
    if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) {
      const bytes = ArrayBuffer.isView(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(body)
      return parsedBody(new TextDecoder().decode(bytes))
    }
    if (body instanceof URLSearchParams) return body.toString()
    if (isUnreadableBody(body)) {
      throw new TypeError(`options.body is a ${(body as object).constructor?.name ?? 'stream'}, which the monitor cannot read before it is sent`)
    }
    return asSent(body, '')
  }
  const own = params !== null && typeof params === 'object' && typeof (params as { toJSON?: unknown }).toJSON === 'function'
  return own && Object.prototype.propertyIsEnumerable.call(params, 'toJSON') ? asSent(params, '') : params
}

/** The bodies the SDK sends as they are, which can be read only once or only asynchronously (as its `isStreamBody`). */
function isUnreadableBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false
  if (body instanceof Blob || body instanceof FormData || body instanceof ReadableStream || Symbol.asyncIterator in body) return true
  return Symbol.iterator in body && typeof (body as { next?: unknown }).next === 'function'
}

/** A body given as text: the request it holds, or the text itself when it is not a JSON object. */
function parsedBody(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text)
    return isObject(parsed) ? parsed : text
  } catch {
    return text
  }
}

function pushText(texts: TextPart[], value: unknown, target: Target): void {
  if (typeof value === 'string' && value !== '') texts.push({ target, text: value })
}

function pushContent(texts: TextPart[], content: unknown, target: Target): void {
  if (typeof content === 'string') {
    texts.push({ target, text: content })
    return
  }
  if (Array.isArray(content)) {
    for (let i = 0; i < content.length; i++) {
      const block = asSent(content[i], i)
      if (isObject(block)) pushBlock(texts, block, target)
    }
  } else if (isObject(content)) {
    // The content of a server tool's result is one block.
    pushBlock(texts, content, target)
  }
}

/** Every text of a content block that reaches the model (the block types of `ContentBlockParam` and its beta). */
function pushBlock(texts: TextPart[], block: Block, target: Target): void {
  const type = asSent(block.type, 'type')
  switch (type) {
    case 'text':
      pushText(texts, asSent(block.text, 'text'), target)
      pushCitations(texts, asSent(block.citations, 'citations'), target)
      break
    case 'tool_result':
    case 'mcp_tool_result':
      // What a tool returned goes back to the model: the path of indirect prompt injection.
      pushContent(texts, asSent(block.content, 'content'), 'tool_result')
      break
    case 'document':
      pushText(texts, asSent(block.title, 'title'), target)
      pushText(texts, asSent(block.context, 'context'), target)
      pushDocumentSource(texts, asSent(block.source, 'source'), target)
      break
    case 'search_result':
      pushText(texts, asSent(block.title, 'title'), target)
      pushText(texts, asSent(block.source, 'source'), target)
      pushContent(texts, asSent(block.content, 'content'), target)
      break
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      // An earlier assistant turn's tool call, sent back as history.
      texts.push({ target: 'assistant', text: toolInputText(asSent(block.input, 'input') ?? {}) })
      break
    case 'thinking':
      pushText(texts, asSent(block.thinking, 'thinking'), target)
      break
    case 'compaction': {
      // A summary of the turns it replaces, and the tool changes they made.
      pushContent(texts, asSent(block.content, 'content'), target)
      const changes = asSent(block.tool_changes, 'tool_changes')
      if (Array.isArray(changes)) pushContent(texts, changes, target)
      break
    }
    case 'tool_addition': {
      const tool = asSent(block.tool, 'tool')
      if (isObject(tool)) pushToolDefinition(texts, asSent(tool.definition, 'definition') ?? tool)
      break
    }
    case 'mcp_tool_listing': {
      const tools = asSent(block.tools, 'tools')
      if (Array.isArray(tools)) tools.forEach((tool, i) => pushToolDefinition(texts, asSent(tool, i)))
      break
    }
    case 'browser_state': {
      const tabs = asSent(block.tabs, 'tabs')
      if (!Array.isArray(tabs)) break
      for (let i = 0; i < tabs.length; i++) {
        const tab = asSent(tabs[i], i)
        if (isObject(tab)) pushText(texts, asSent(tab.title, 'title'), target)
      }
      break
    }
    case 'image':
    case 'redacted_thinking':
    case 'container_upload':
    case 'tool_removal':
    case 'tool_reference':
    case 'fallback':
      // No text: image data, an encrypted block, a file id, tool names, a model name.
      break
    default: {
      // The results of server tools (web search and fetch, code execution, the text editor, the advisor) and
      // types newer than this adapter: what they carry comes from outside, as a tool's result does.
      const inner = typeof type === 'string' && type.endsWith('_tool_result') ? 'tool_result' : target
      for (const key of PLAIN_TEXT_FIELDS) pushText(texts, asSent(block[key], key), inner)
      const lines = asSent(block.lines, 'lines')
      if (Array.isArray(lines)) lines.forEach((line, i) => pushText(texts, asSent(line, i), inner))
      const content = asSent(block.content, 'content')
      if (content !== undefined) pushContent(texts, content, inner)
      break
    }
  }
}

/** Fields that hold text the model reads, in blocks read by their fields (`encrypted_*` and ids hold none). */
const PLAIN_TEXT_FIELDS = ['text', 'title', 'stdout', 'stderr'] as const

function pushDocumentSource(texts: TextPart[], source: unknown, target: Target): void {
  if (!isObject(source)) return
  switch (asSent(source.type, 'type')) {
    case 'text':
      pushText(texts, asSent(source.data, 'data'), target)
      break
    case 'content':
      pushContent(texts, asSent(source.content, 'content'), target)
      break
    case 'base64': {
      // A text document sent encoded: the model reads it decoded. (A PDF's text is not extracted.)
      const mediaType = asSent(source.media_type, 'media_type')
      const data = asSent(source.data, 'data')
      if (typeof mediaType === 'string' && mediaType.startsWith('text/') && typeof data === 'string') {
        pushText(texts, Buffer.from(data, 'base64').toString('utf8'), target)
      }
      break
    }
  }
}

/** What a text block cites (sent back with an earlier answer): the cited text and the titles of its sources. */
function pushCitations(texts: TextPart[], citations: unknown, target: Target): void {
  if (!Array.isArray(citations)) return
  for (let i = 0; i < citations.length; i++) {
    const citation = asSent(citations[i], i)
    if (!isObject(citation)) continue
    pushText(texts, asSent(citation.cited_text, 'cited_text'), target)
    pushText(texts, asSent(citation.title, 'title'), target)
    pushText(texts, asSent(citation.document_title, 'document_title'), target)
  }
}

function pushSchema(texts: TextPart[], format: unknown): void {
  const schema = isObject(format) ? asSent(format.schema, 'schema') : undefined
  if (schema !== undefined) texts.push({ target: 'tool_definition', text: safeJson(schema) })
}

/** A tool definition as the model reads it: its name, description and input schema. */
function pushToolDefinition(texts: TextPart[], tool: unknown): void {
  if (!isObject(tool)) return
  const schema = asSent(tool.input_schema, 'input_schema')
  const description = [asSent(tool.name, 'name'), asSent(tool.description, 'description'), schema ? safeJson(schema) : '']
  texts.push({ target: 'tool_definition', text: description.filter((d) => typeof d === 'string' && d !== '').join('\n') })
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
  // A body that is not JSON (a proxy's `text/plain` answer) reaches the application as the text itself: it
  // is judged as the response's text, not passed as a response with nothing in it.
  if (typeof result === 'string') return { response: result, texts: [{ target: 'response', text: result }], data: { stop_reason: null } }
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
    // They send nothing themselves: they build threads on their `this._client`, which must be the monitored one.
    'beta.messages.thread',
    'beta.messages.toolRunner',
    'beta.messages._toolRunnerThread',
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
