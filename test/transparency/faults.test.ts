import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { anthropicAdapter } from '../../src/adapters/index.js'
import { getMonitorHealth, monitor } from '../../src/index.js'
import type { Adapter, EventSink, MonitorOptions } from '../../src/types.js'
import { collectMonitorWarnings } from '../helpers.js'
import { anthropicClient } from './anthropic-cases.js'

// A failure inside the monitor never changes what the user's call returns or throws: it is reported once
// per kind (a process warning) and counted (`getMonitorHealth()`), and the call goes on.

const warnings = collectMonitorWarnings()

const ask = (content: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content }] })
const askStream = (content: string) => ({ ...ask(content), stream: true as const })

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** What the bare client and the faulty monitored one give for the same calls: a value, a stream, an error. */
async function bothWays(options: MonitorOptions) {
  const run = async (c: Anthropic) => ({
    plain: await c.messages.create(ask('Summarise the contract')),
    chunks: await collect(await c.messages.create(askStream('Hello'))),
    final: await c.messages.stream(ask('Hello')).finalMessage(),
    error: await c.messages.create(ask('overloaded?')).then(
      () => null,
      (e: Error) => ({ cls: Object.getPrototypeOf(e), message: e.message }),
    ),
  })
  const expected = await run(anthropicClient().client)
  const actual = await run(monitor(anthropicClient().client, { store: false, defaultRules: false, ...options }))
  expect(actual).toEqual(expected)
  expect(actual.error).not.toBeNull()
}

/** Runs `fault` twice; the kind is counted each time and warned about once. */
async function reportedOnce(kind: string, fault: () => Promise<void>) {
  const before = getMonitorHealth().faults[kind] ?? 0
  await fault()
  await fault()
  await new Promise((r) => setImmediate(r))
  expect(getMonitorHealth().faults[kind]).toBeGreaterThanOrEqual(before + 2)
  const ofKind = warnings.filter((w) => w.message.startsWith(`${kind}:`))
  expect(ofKind).toHaveLength(1)
  expect((ofKind[0] as Error & { code?: string }).code).toBe(`CYLESTIO_${kind.toUpperCase()}`)
}

describe('fault isolation', () => {
  it('an adapter whose request, response and stream readers throw', async () => {
    const boom = () => {
      throw new Error('adapter bug')
    }
    const broken: Adapter = {
      ...anthropicAdapter,
      name: 'broken',
      calls: { 'messages.create': { request: boom, response: boom, stream: boom } },
    }
    const brokenLate: Adapter = {
      ...anthropicAdapter,
      name: 'broken-late',
      calls: {
        'messages.create': {
          ...anthropicAdapter.calls['messages.create']!,
          response: boom,
          stream: () => ({ push: boom, result: boom }),
        },
      },
    }
    await reportedOnce('adapter', async () => {
      await bothWays({ adapters: [broken] })
      await bothWays({ adapters: [brokenLate] })
    })
  })

  it('a sink that throws, and one that rejects', async () => {
    const throwing: EventSink = {
      write() {
        throw new Error('disk full')
      },
      flush: async () => {},
    }
    const rejecting = {
      write: async () => {
        throw new Error('remote sink down')
      },
      flush: async () => {},
    } as unknown as EventSink
    await reportedOnce('sink', async () => {
      await bothWays({ store: throwing })
      await bothWays({ store: rejecting })
    })
  })

  it('a rule set whose scan throws', async () => {
    const rules = {
      size: 1,
      scan(): never {
        throw new Error('rule engine failure')
      },
      redact: (text: string) => text,
    }
    await reportedOnce('rules', () => bothWays({ rules }))
  })

  it('an onEvent callback that throws, or rejects', async () => {
    await reportedOnce('onEvent', async () => {
      await bothWays({
        onEvent: () => {
          throw new Error('callback bug')
        },
      })
      await bothWays({ onEvent: (async () => Promise.reject(new Error('async callback bug'))) as () => void })
    })
  })
})
