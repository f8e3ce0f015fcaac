import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { builtinAdapters } from './adapters/index.js'
import type { MonitorContext } from './call.js'
import { CylestioError } from './errors.js'
import { layerOf, pathTree, wrapObject } from './proxy.js'
import { Recorder } from './recorder.js'
import { loadRules, type RuleSet } from './rules/index.js'
import { resolveSink } from './store/index.js'
import { eventsFileFromEnv, logPathProblem } from './store/files.js'
import type { Adapter, MonitorOptions, RuleSetLike } from './types.js'

/**
 * Wraps an LLM client so that every call it makes is recorded and checked. The client is not modified:
 * the returned proxy behaves exactly like it (same type, `instanceof`, helpers, streams, errors).
 * Monitoring a monitored client returns it as it is when no options, or the same ones, are given; with
 * other options, its real client is monitored anew with them (one layer, never two).
 *
 * @example
 * import Anthropic from '@anthropic-ai/sdk'
 * import { monitor } from 'cylestio-monitor'
 *
 * const client = monitor(new Anthropic(), { agentId: 'support-bot' })
 * await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }] })
 */
export function monitor<T extends object>(client: T, options: MonitorOptions = {}): T {
  // Checked first: a bad option is reported even when the client is already monitored (and stays one layer).
  checkOptions(options)
  const layer = layerOf.get(client)
  if (layer) {
    // Already monitored: the same client, unless these options ask for something else. Then the real
    // client is monitored anew with exactly these options (still one layer; the first monitored client
    // keeps its own): a second monitor() that asks for blocking must not silently get none.
    if (asksForNothing(options) || sameOptions(options, layer.ctx.options)) return client
    client = layer.real as T
  }
  if (client === null || typeof client !== 'object') {
    throw new CylestioError('MONITOR_BAD_CLIENT', `monitor(client): expected an LLM client object, got ${client === null ? 'null' : typeof client}`)
  }
  const adapter = pickAdapter(client, options.adapters ?? [])
  const rules = resolveRules(options)
  const { sink, path } = resolveSink(options.store)
  const recorder = new Recorder(
    options.agentId ?? 'default',
    adapter.channel ?? 'LLM',
    sink,
    rules,
    options.redact ?? true,
    options.onEvent,
  )
  const ctx: MonitorContext = {
    recorder,
    rules,
    blockDangerous: options.blockDangerous ?? true,
    blockDangerousResponses: options.blockDangerousResponses ?? false,
    scanHistory: options.scanHistory ?? false,
    adapter: adapter.name,
    options: { ...options },
  }
  recorder.record(
    'monitoring_enabled',
    'info',
    undefined,
    { adapter: adapter.name, rules: rules.size, store: path ?? (sink ? 'custom sink' : null) },
    'SYSTEM',
  )
  return wrapObject(client, pathTree(adapter), ctx, new WeakMap()) as T
}

const KNOWN_OPTIONS = new Set([
  'agentId',
  'store',
  'rules',
  'defaultRules',
  'blockDangerous',
  'blockDangerousResponses',
  'adapters',
  'redact',
  'onEvent',
  'scanHistory',
])

/** The value each option has when left out (those with a fixed default). */
const DEFAULTS: Partial<Record<keyof MonitorOptions, unknown>> = {
  agentId: 'default',
  defaultRules: true,
  blockDangerous: true,
  blockDangerousResponses: false,
  redact: true,
  scanHistory: false,
  rules: [],
  adapters: [],
}

function asksForNothing(options: MonitorOptions): boolean {
  return Object.values(options).every((value) => value === undefined)
}

/** Whether two sets of options make the same monitor: each option's value (or its default) is the same value, arrays item by item. */
function sameOptions(a: MonitorOptions, b: MonitorOptions): boolean {
  for (const key of KNOWN_OPTIONS as Set<keyof MonitorOptions>) {
    const x: unknown = a[key] ?? DEFAULTS[key]
    const y: unknown = b[key] ?? DEFAULTS[key]
    if (Object.is(x, y)) continue
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.some((item, i) => !Object.is(item, y[i]))) return false
  }
  return true
}

const BOOLEAN_OPTIONS = ['defaultRules', 'blockDangerous', 'blockDangerousResponses', 'redact', 'scanHistory'] as const

function bad(message: string): CylestioError {
  return new CylestioError('MONITOR_BAD_OPTION', `monitor(): ${message}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

function checkOptions(options: unknown): asserts options is MonitorOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw bad(`options must be an object (or left out), got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw bad(`unknown option '${key}' (known: ${[...KNOWN_OPTIONS].join(', ')})`)
    }
  }
  if (o.agentId !== undefined && (typeof o.agentId !== 'string' || o.agentId === '')) {
    throw bad(`option 'agentId' must be a non-empty string, got ${describe(o.agentId)}`)
  }
  // `blockDangerous: 'false'` is truthy: a non-boolean here would silently do the opposite of what was meant.
  for (const key of BOOLEAN_OPTIONS) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') {
      throw bad(`option '${key}' must be true or false, got ${describe(o[key])}`)
    }
  }
  if (o.onEvent !== undefined && typeof o.onEvent !== 'function') {
    throw bad(`option 'onEvent' must be a function, got ${describe(o.onEvent)}`)
  }
  checkStore(o.store)
  checkRulesOption(o.rules)
  if (o.defaultRules === true && o.rules !== null && typeof o.rules === 'object' && !Array.isArray(o.rules)) {
    // A compiled rule set already holds the packs or not (loadRules(paths, { defaultRules })): nothing is added to it.
    throw bad(`option 'defaultRules: true' does not apply when 'rules' is a compiled rule set (nothing is added to it); pass { defaultRules } to loadRules() instead`)
  }
  if (o.adapters !== undefined) {
    if (!Array.isArray(o.adapters)) throw bad(`option 'adapters' must be an array of adapters, got ${describe(o.adapters)}`)
    o.adapters.forEach((a: unknown, i: number) => checkAdapter(a, i))
  }
}

/** A log path that is a directory would drop every event: refused at monitor(), naming where it came from. */
function checkLogPath(path: string, source: string): void {
  const problem = logPathProblem(path)
  if (problem !== undefined) throw bad(`${source} ${problem}`)
  let isDir = false
  try {
    isDir = statSync(resolve(path)).isDirectory()
  } catch {
    // Not there yet: created on the first write.
  }
  if (isDir) throw bad(`${source} is a directory (${resolve(path)}); give the path of the event log file inside it, e.g. ${join(path, 'cylestio-events.jsonl')}`)
}

function checkStore(store: unknown): void {
  if (store === false) return
  if (store === undefined) {
    const fromEnv = eventsFileFromEnv()
    if (fromEnv !== undefined) checkLogPath(fromEnv, 'CYLESTIO_EVENTS_FILE (the default store)')
    return
  }
  if (typeof store === 'string') {
    if (store.trim() === '') throw bad(`option 'store' must be the path of the event log file, got an empty string`)
    checkLogPath(store, `option 'store'`)
    return
  }
  if (store === null || typeof store !== 'object' || Array.isArray(store)) {
    throw bad(`option 'store' must be a file path, a sink object ({ write(line, event), flush() }) or false, got ${describe(store)}`)
  }
  const s = store as Record<string, unknown>
  if (s.kind === 'lowdb-json') {
    if (typeof s.path !== 'string' || s.path.trim() === '') throw bad(`option 'store' ({ kind: 'lowdb-json' }) needs a 'path' string`)
    checkLogPath(s.path, `option 'store' ({ kind: 'lowdb-json' }) path`)
    return
  }
  if ('adapter' in s && 'data' in s && typeof s.read === 'function' && typeof s.write === 'function') return // a lowdb instance
  if (typeof s.write !== 'function') {
    throw bad(`option 'store': a sink object needs a 'write(line, event)' function${s.kind !== undefined ? ` (unknown kind ${describe(s.kind)}; the only kind is 'lowdb-json')` : ''}`)
  }
  if (s.flush !== undefined && typeof s.flush !== 'function') throw bad(`option 'store': the sink's 'flush' must be a function`)
  if (s.flushSync !== undefined && typeof s.flushSync !== 'function') throw bad(`option 'store': the sink's 'flushSync' must be a function`)
}

function checkRulesOption(rules: unknown): void {
  if (rules === undefined || typeof rules === 'string') {
    if (rules === '') throw bad(`option 'rules' is an empty string; give a YAML file or folder`)
    return
  }
  if (Array.isArray(rules)) {
    rules.forEach((path: unknown, i: number) => {
      if (typeof path !== 'string' || path === '') throw bad(`option 'rules[${i}]' must be the path of a YAML file or folder, got ${describe(path)}`)
    })
    return
  }
  if (rules !== null && typeof rules === 'object') {
    const r = rules as Record<string, unknown>
    for (const fn of ['scan', 'redact'] as const) {
      if (typeof r[fn] !== 'function') throw bad(`option 'rules': a rule set needs a '${fn}' function (use loadRules())`)
    }
    return
  }
  throw bad(`option 'rules' must be a YAML file or folder path, an array of them, or a rule set from loadRules(), got ${describe(rules)}`)
}

function checkAdapter(a: unknown, i: number): void {
  const adapter = a as Partial<Adapter> | null
  if (!adapter || typeof adapter !== 'object' || typeof adapter.name !== 'string' || !adapter.calls || typeof adapter.calls !== 'object') {
    throw bad(`adapters[${i}] must have a 'name' and a 'calls' map`)
  }
  const where = `adapter '${adapter.name}' (adapters[${i}])`
  if (adapter.match !== undefined && typeof adapter.match !== 'function') throw bad(`${where}: 'match' must be a function`)
  if (adapter.channel !== undefined && (typeof adapter.channel !== 'string' || adapter.channel === '')) {
    throw bad(`${where}: 'channel' must be a non-empty string`)
  }
  if (adapter.helpers !== undefined && (!Array.isArray(adapter.helpers) || adapter.helpers.some((h) => typeof h !== 'string' || h === ''))) {
    throw bad(`${where}: 'helpers' must be an array of method paths`)
  }
  for (const [path, spec] of Object.entries(adapter.calls)) {
    if (path === '' || path.split('.').some((part) => part === '')) throw bad(`${where}: call path '${path}' is not a method path like 'chat.send'`)
    if (!spec || typeof spec.request !== 'function') {
      throw bad(`adapter '${adapter.name}', call '${path}' needs a 'request' function`)
    }
    for (const fn of ['response', 'stream'] as const) {
      if (spec[fn] !== undefined && typeof spec[fn] !== 'function') throw bad(`${where}, call '${path}': '${fn}' must be a function`)
    }
  }
}

function pickAdapter(client: object, extra: Adapter[]): Adapter {
  // An adapter the user passed without `match` is meant for this client.
  for (const adapter of extra) if (!adapter.match || adapter.match(client)) return adapter
  for (const adapter of builtinAdapters) if (adapter.match?.(client)) return adapter
  const name = client.constructor?.name ?? 'object'
  throw new CylestioError(
    'MONITOR_NO_ADAPTER',
    `monitor(): no adapter recognises this client (${name}); built-in adapters: ${builtinAdapters
      .map((a) => a.name)
      .join(', ')}. Pass one in options.adapters.`,
  )
}

/** The default packs compile once per process; monitor() is called once per client. */
let defaultRuleSet: RuleSet | undefined

function resolveRules(options: MonitorOptions): RuleSetLike {
  const { rules, defaultRules = true } = options
  if (rules !== undefined && typeof rules === 'object' && !Array.isArray(rules)) return rules
  if (rules === undefined || (Array.isArray(rules) && rules.length === 0)) {
    if (!defaultRules) return loadRules([], { defaultRules: false })
    return (defaultRuleSet ??= loadRules())
  }
  return loadRules(rules, { defaultRules })
}
