import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { flush } from '../src/store/index.js'
import type { MonitorEvent } from '../src/types.js'
import { afterAll, beforeAll } from 'vitest'

/** A fresh event-log path in its own temp directory. */
export function tempLog(name = 'events.jsonl'): string {
  return join(mkdtempSync(join(tmpdir(), 'cylestio-test-')), name)
}

/** Every event in a log file, after the queued ones are written. */
export async function readLog(file: string): Promise<MonitorEvent[]> {
  await flush()
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as MonitorEvent)
}

/** A `fetch` that answers every request with the given body and status, counting what it was sent. */
export function fakeFetch(answer: (url: string, body: any) => { status?: number; body: unknown; headers?: Record<string, string>; sse?: boolean }) {
  const calls: Array<{ url: string; body: any }> = []
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input)
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    calls.push({ url, body })
    const a = answer(url, body)
    return new Response(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), {
      status: a.status ?? 200,
      headers: { 'content-type': a.sse ? 'text/event-stream' : 'application/json', 'request-id': 'req_test_1', ...a.headers },
    })
  }
  return { fetch, calls }
}

/** The text of a file under `test/fixtures/` (real API payloads: JSON bodies and SSE transcripts). */
export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
}

export interface WireAnswer {
  status?: number
  /** A JSON body (object) or raw text; `.sse` and `.jsonl` fixtures are streamed. */
  body: unknown
  headers?: Record<string, string>
  /** Stream the body in small pieces, `delayMs` apart, as a server does (SSE and JSONL). */
  stream?: 'sse' | 'jsonl'
  delayMs?: number
}

/**
 * A `fetch` that answers as the real API does on the wire: JSON bodies, or SSE transcripts streamed in small
 * pieces that split lines and events, honouring the request's abort signal. Records each request.
 */
export function wireFetch(
  answer: (url: URL, body: any, init: RequestInit | undefined) => WireAnswer,
  /** Headers of every answer: Anthropic's request id by default (OpenAI's is `x-request-id`). */
  defaultHeaders: Record<string, string> = { 'request-id': 'req_011CWire' },
) {
  const requests: Array<{ url: string; method: string; body: any; headers: Headers }> = []
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input instanceof Request ? input.url : input))
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    requests.push({ url: url.href, method: init?.method ?? 'GET', body, headers: new Headers(init?.headers) })
    const a = answer(url, body, init)
    const headers = { ...defaultHeaders, ...a.headers }
    if (!a.stream) {
      return new Response(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), {
        status: a.status ?? 200,
        headers: { 'content-type': 'application/json', ...headers },
      })
    }
    const text = String(a.body)
    const signal = init?.signal
    const piece = 37 // splits lines, events and UTF-8 characters across reads
    let at = 0
    const bytes = new TextEncoder().encode(text)
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (signal?.aborted) return controller.error(signal.reason)
        if (at >= bytes.length) return controller.close()
        if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs))
        controller.enqueue(bytes.slice(at, (at += piece)))
      },
    })
    return new Response(stream, {
      status: a.status ?? 200,
      headers: { 'content-type': a.stream === 'sse' ? 'text/event-stream' : 'application/binary', ...headers },
    })
  }
  return { fetch, requests }
}

/** The monitor's process warnings (CylestioMonitorWarning) emitted while the test file runs. */
export function collectMonitorWarnings(): Error[] {
  const warnings: Error[] = []
  const onWarning = (w: Error) => {
    if (w.name === 'CylestioMonitorWarning') warnings.push(w)
  }
  beforeAll(() => {
    process.on('warning', onWarning)
  })
  afterAll(() => {
    process.off('warning', onWarning)
  })
  return warnings
}
