/**
 * Watches a server-sent-events response body that the SDK parses itself, out of the monitor's sight
 * (a message thread's streamed turn reads the raw response and builds its own stream from it). The
 * body is read event by event: each complete event goes to the call as a chunk, and only then on to
 * the SDK, so a chunk that completes a dangerous tool call can be withheld, as on a watched stream.
 * @internal
 */
import type { CallRecord } from './call.js'

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
  // Taken when the watched body is first read: until then the response's body is free for another reader
  // (the stream a parse made), which is then the one watched.
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  const decoder = new TextDecoder()
  /** Bytes read and not handed on yet (an event not complete), in the pieces they came in. */
  let pieces: Uint8Array[] = []
  /** The last bytes of `pieces`, to find an event's end split across two reads. */
  let tail = new Uint8Array(0)
  /**
   * Hands on the complete events of `bytes` (all of it when `last`), each as the bytes that came (a byte
   * order mark or an invalid byte passes as it is); returns what is left, or undefined when one was blocked.
   */
  const deliver = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array, last: boolean): Uint8Array | undefined => {
    const ends = eventEnds(bytes)
    if (last && (ends.at(-1) ?? 0) < bytes.length) ends.push(bytes.length)
    let from = 0
    for (const to of ends) {
      const event = new Uint8Array(bytes.subarray(from, to)) // a copy: the consumer may keep or transfer it
      const data = dataOf(decoder.decode(event))
      const blocked = data === undefined ? undefined : call.chunk(data, extra)
      if (blocked) {
        controller.error(blocked)
        reader?.cancel(blocked).catch(() => {})
        return undefined
      }
      controller.enqueue(event)
      from = to
    }
    return bytes.subarray(from)
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= body.getReader()
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
          if (deliver(controller, concat(pieces), true) === undefined) return
          const blocked = call.endStream(false, extra)
          if (blocked) controller.error(blocked)
          else controller.close()
          return
        }
        const value = step.value
        if (value.length === 0) continue
        // Only a read that ends an event joins the pieces: a long event read in small pieces is copied once.
        const around = concat([tail, value])
        pieces.push(value)
        tail = around.slice(-3)
        if (eventEnds(around).length === 0) continue
        const left = deliver(controller, concat(pieces), false)
        if (left === undefined) return
        pieces = left.length > 0 ? [left] : []
        tail = left.slice(-3)
        // Something was handed on: the SDK gets to read it before the next network read.
        return
      }
    },
    cancel(reason) {
      call.endStream(true, extra)
      return (reader ?? body).cancel(reason)
    },
    // Pulled only when read (the default would pull at once, taking the response's body before anyone reads).
  }, { highWaterMark: 0 })
}

/**
 * Byte offsets just after each event's end in `bytes`, which start at the start of a line: an event ends at
 * a blank line, a line ending being `\r\n`, `\n` or `\r`, in any mix (`\n\n`, `\r\n\r\n`, `\n\r`, `\r\n\n`…),
 * as the SDK's decoder reads them.
 */
function eventEnds(bytes: Uint8Array): number[] {
  const ends: number[] = []
  let lineStart = true
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b !== 0x0a && b !== 0x0d) {
      lineStart = false
      continue
    }
    const end = b === 0x0d && bytes[i + 1] === 0x0a ? i + 2 : i + 1
    if (lineStart) ends.push(end)
    lineStart = true
    i = end - 1
  }
  return ends
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!
  return Buffer.concat(parts)
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
