import { appendFileSync, readFileSync, existsSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { monitor } from '../../src/index.js'
import type { MonitorEvent, MonitorOptions } from '../../src/types.js'
import { readLog, tempLog } from '../helpers.js'

/**
 * What a transparency case runs against: a way to wrap a client, and the event log it wrote. `monitor` is
 * the subject under test; the others are the naive wrappers that users' bug reports describe, kept so the
 * suite is proven able to fail (each case must fail under at least one of them).
 */
export interface Subject {
  name: string
  wrap<T extends object>(client: T, options?: MonitorOptions): T
  /** The LLM events written so far. */
  events(): Promise<MonitorEvent[]>
  /** The raw text of the event log (to look for secrets in clear). */
  logText(): Promise<string>
}

export function monitorSubject(): Subject {
  const file = tempLog()
  return {
    name: 'monitor',
    wrap: (client, options) => monitor(client, { agentId: 'transparency', store: file, ...options }),
    events: async () => (await readLog(file)).filter((e) => e.channel === 'LLM'),
    logText: async () => {
      await readLog(file)
      return existsSync(file) ? readFileSync(file, 'utf8') : ''
    },
  }
}

/** The LLM method paths the naive wrappers intercept, as a naive wrapper would list them. */
const LLM_CALLS = new Set(['create'])

/** A naive recorder: start with the raw params, finish with whatever came back. */
function naiveLog() {
  const file = tempLog()
  const write = (event: string, callId: string, data: Record<string, unknown>) =>
    appendFileSync(
      file,
      `${JSON.stringify({ event, channel: 'LLM', level: 'info', agent_id: 'naive', call_id: callId, timestamp: new Date().toISOString(), data })}\n`,
    )
  const events = async (): Promise<MonitorEvent[]> =>
    existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
  const logText = async () => (existsSync(file) ? readFileSync(file, 'utf8') : '')
  const start = (method: string, args: unknown[]) => {
    const id = randomUUID()
    write('LLM_call_start', id, { method, ...(args[0] as object) })
    return id
  }
  const finish = (id: string, method: string, value: unknown) => {
    const v = value as { usage?: unknown } | null
    write('LLM_call_finish', id, { method, response: value ?? null, usage: v?.usage ?? null })
  }
  const fail = (id: string, method: string, error: unknown) =>
    write('LLM_call_error', id, { method, error: { name: (error as Error)?.name, message: String((error as Error)?.message) } })
  return { events, logText, start, finish, fail }
}

/**
 * `new Proxy(client, { get })` whose trap does not bind to the target: methods run with the proxy as
 * `this`, nested objects get a fresh proxy on every read. LLM calls are observed on a side branch.
 */
export function unboundProxySubject(): Subject {
  const log = naiveLog()
  const wrapDeep = (target: object, path: string): any =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver)
        if (typeof prop !== 'string') return value
        if (typeof value === 'function' && LLM_CALLS.has(prop)) {
          return (...args: unknown[]) => {
            const id = log.start(`${path}${prop}`, args)
            const result = value.apply(receiver, args)
            Promise.resolve(result).then(
              (v) => log.finish(id, `${path}${prop}`, v),
              (e) => log.fail(id, `${path}${prop}`, e),
            )
            return result
          }
        }
        if (value !== null && typeof value === 'object') return wrapDeep(value, `${path}${prop}.`)
        return value
      },
    })
  return { name: 'unbound proxy', wrap: (client) => wrapDeep(client, ''), events: log.events, logText: log.logText }
}

/**
 * A wrapper that binds methods correctly but turns each LLM call into an `async` function: the SDK's
 * `APIPromise` becomes a plain Promise, and helpers run on the bare resource.
 */
function asyncWrapperSubject(name: string, transform: (value: unknown) => unknown): Subject {
  const log = naiveLog()
  const cache = new WeakMap<object, object>()
  const wrapDeep = (target: object, path: string): any => {
    const hit = cache.get(target)
    if (hit) return hit
    const proxy = new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t)
        if (typeof prop !== 'string') return value
        if (typeof value === 'function') {
          if (!LLM_CALLS.has(prop)) return value.bind(t)
          return async (...args: unknown[]) => {
            const id = log.start(`${path}${prop}`, args)
            try {
              const result = await value.apply(t, args)
              log.finish(id, `${path}${prop}`, result)
              return transform(result)
            } catch (error) {
              log.fail(id, `${path}${prop}`, error)
              throw error
            }
          }
        }
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) {
          return wrapDeep(value, `${path}${prop}.`)
        }
        return value
      },
    })
    cache.set(target, proxy)
    return proxy
  }
  return { name, wrap: (client) => wrapDeep(client, ''), events: log.events, logText: log.logText }
}

export const plainPromiseSubject = (): Subject => asyncWrapperSubject('plain-Promise wrapper', (v) => v)

/** The plain-Promise wrapper that also hands back the copy it logged (a "sanitised" response). */
export const copyingSubject = (): Subject =>
  asyncWrapperSubject('copying wrapper', (v) =>
    v !== null && typeof v === 'object' && !(Symbol.asyncIterator in v) ? JSON.parse(JSON.stringify(v)) : v,
  )

export const brokenSubjects = [unboundProxySubject, plainPromiseSubject, copyingSubject]
