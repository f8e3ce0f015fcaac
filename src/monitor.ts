import { builtinAdapters } from './adapters/index.js'
import type { MonitorContext } from './call.js'
import { CylestioError } from './errors.js'
import { pathTree, realOf, wrapObject } from './proxy.js'
import { Recorder } from './recorder.js'
import { loadRules, type RuleSet } from './rules/index.js'
import { resolveSink } from './store/index.js'
import type { Adapter, MonitorOptions, RuleSetLike } from './types.js'

/**
 * Wraps an LLM client so that every call it makes is recorded and checked. The client is not modified:
 * the returned proxy behaves exactly like it (same type, `instanceof`, helpers, streams, errors).
 *
 * @example
 * import Anthropic from '@anthropic-ai/sdk'
 * import { monitor } from 'cylestio-monitor'
 *
 * const client = monitor(new Anthropic(), { agentId: 'support-bot' })
 * await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }] })
 */
export function monitor<T extends object>(client: T, options: MonitorOptions = {}): T {
  if (realOf.has(client)) return client
  if (client === null || typeof client !== 'object') {
    throw new CylestioError('MONITOR_BAD_CLIENT', `monitor(client): expected an LLM client object, got ${client === null ? 'null' : typeof client}`)
  }
  checkOptions(options)
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

function checkOptions(options: MonitorOptions): void {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): unknown option '${key}' (known: ${[...KNOWN_OPTIONS].join(', ')})`)
    }
  }
  if (options.agentId !== undefined && (typeof options.agentId !== 'string' || options.agentId === '')) {
    throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): option 'agentId' must be a non-empty string`)
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): option 'onEvent' must be a function`)
  }
  if (options.adapters !== undefined) {
    if (!Array.isArray(options.adapters)) {
      throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): option 'adapters' must be an array of adapters`)
    }
    options.adapters.forEach((a, i) => {
      if (!a || typeof a.name !== 'string' || !a.calls || typeof a.calls !== 'object') {
        throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): adapters[${i}] must have a 'name' and a 'calls' map`)
      }
      for (const [path, spec] of Object.entries(a.calls)) {
        if (!spec || typeof spec.request !== 'function') {
          throw new CylestioError('MONITOR_BAD_OPTION', `monitor(): adapter '${a.name}', call '${path}' needs a 'request' function`)
        }
      }
    })
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
