import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { flush } from '../src/store/index.js'
import type { MonitorEvent } from '../src/types.js'

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
