/**
 * Watches a server-sent-events response body that the SDK parses itself, out of the monitor's sight
 * (a message thread's streamed turn reads the raw response and builds its own stream from it). The
 * body is read event by event: each complete event goes to the call as a chunk, and only then on to
 * the SDK, so a chunk that completes a dangerous tool call can be withheld, as on a watched stream.
 * @internal
 */
import type { CallRecord } from './call.js'

/** The end of an SSE event: a blank line, with any of the three line endings. */
const EVENT_END = /\r\n\r\n|\n\n|\r\r/g

/**
 * Puts a watching body in place of `props.response`'s and starts the call's stream. The response is replaced
 * by one of the same status, headers and URL whose body is the watched one, so that every way of reading it
 * (`body`, `text()`, `json()`, `arrayBuffer()`, `clone()`) reads through the watch; where that cannot be
 * made, the watched body is put on the response itself (an own `body` property). Returns false when there is
 * no body to watch or the adapter reads no streams.
 */
export function watchSseBody(props: unknown, call: CallRecord, signal: AbortSignal | undefined, extra?: Record<string, unknown>): boolean {
  const response = (props as { response?: unknown } | null)?.response
  const body = (response as { body?: unknown } | null)?.body
  if (!(body instanceof ReadableStream) || body.locked || !call.beginStream()) return false
  const watched = watchedBody(body as ReadableStream<Uint8Array>, call, signal, extra)
  const replaced = response instanceof Response ? responseWith(response, watched) : undefined
  if (replaced) {
    try {
      ;(props as { response: unknown }).response = replaced
      if ((props as { response: unknown }).response === replaced) return true
    } catch {
      // Props that cannot be written: the body goes on the response itself.
    }
  }
  Object.defineProperty(response, 'body', { configurable: true, enumerable: false, value: watched })
  return true
}

/**
 * A response like `original` (status, URL, redirect and type, and its very headers, immutable as a fetched
 * response's are), with `body` as its body. Its `clone()` gives a response like it too.
 */
function responseWith(original: Response, body: ReadableStream<Uint8Array>): Response | undefined {
  try {
    return likeOriginal(new Response(body, { status: original.status, statusText: original.statusText, headers: original.headers }), original)
  } catch {
    return undefined
  }
}

function likeOriginal(copy: Response, original: Response): Response {
  for (const key of ['url', 'redirected', 'type', 'headers'] as const) {
    Object.defineProperty(copy, key, { configurable: true, enumerable: false, value: original[key] })
  }
  Object.defineProperty(copy, 'clone', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function clone(this: Response): Response {
      return likeOriginal(Response.prototype.clone.call(this), original)
    },
  })
  return copy
}

function watchedBody(body: ReadableStream<Uint8Array>, call: CallRecord, signal: AbortSignal | undefined, extra?: Record<string, unknown>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  let text = ''
  /** Hands on the complete events of `text` (all of it when `last`); false when one was blocked. */
  const deliver = (controller: ReadableStreamDefaultController<Uint8Array>, last: boolean): boolean => {
    const ends: number[] = []
    EVENT_END.lastIndex = 0
    for (let m = EVENT_END.exec(text); m; m = EVENT_END.exec(text)) ends.push(m.index + m[0].length)
    if (last && (ends.at(-1) ?? 0) < text.length) ends.push(text.length)
    let from = 0
    for (const to of ends) {
      const event = text.slice(from, to)
      const data = dataOf(event)
      const blocked = data === undefined ? undefined : call.chunk(data, extra)
      if (blocked) {
        controller.error(blocked)
        reader.cancel(blocked).catch(() => {})
        return false
      }
      controller.enqueue(encoder.encode(event))
      from = to
    }
    text = text.slice(from)
    return true
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let step: ReadableStreamReadResult<Uint8Array>
        try {
          step = await reader.read()
        } catch (error) {
          // Aborted through the thread's controller: a stream left early, as on a watched stream.
          if (signal?.aborted) call.endStream(true, extra)
          else call.error(error)
          throw error
        }
        if (step.done) {
          text += decoder.decode()
          if (!deliver(controller, true)) return
          const blocked = call.endStream(false, extra)
          if (blocked) controller.error(blocked)
          else controller.close()
          return
        }
        const before = text.length
        text += decoder.decode(step.value, { stream: true })
        if (text.length === before) continue
        const pending = text.length
        if (!deliver(controller, false)) return
        // Something was handed on: the SDK gets to read it before the next network read.
        if (text.length < pending) return
      }
    },
    cancel(reason) {
      call.endStream(true, extra)
      return reader.cancel(reason)
    },
  })
}

/** The parsed `data:` of one SSE event; undefined for a comment, a ping without data, or data that is not JSON. */
function dataOf(event: string): unknown {
  let data: string | undefined
  for (const line of event.split(/\r\n|\n|\r/)) {
    if (!line.startsWith('data:')) continue
    const value = line.slice(line[5] === ' ' ? 6 : 5)
    data = data === undefined ? value : `${data}\n${value}`
  }
  if (data === undefined) return undefined
  try {
    return JSON.parse(data)
  } catch {
    return undefined
  }
}
