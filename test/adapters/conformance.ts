import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { monitor, MonitorBlockedError } from '../../src/index.js'
import type { Adapter, MonitorEvent } from '../../src/types.js'
import { readLog, tempLog } from '../helpers.js'

/** One client under the shared adapter suite. */
export interface ConformanceTarget<C extends object> {
  /** The adapter's name, as `monitoring_enabled` reports it. */
  adapter: string
  /** Passed as `options.adapters` (custom clients); built-in adapters are found by `match`. */
  adapters?: Adapter[]
  /** A fresh bare client whose transport answers like the real service; `sent()` counts what reached it. */
  make(): { client: C; sent: () => number }
  /** The method path a call is recorded under. */
  method: string
  model: string
  /** One LLM call with `prompt` as the user's text. */
  ask(client: C, prompt: string): Promise<unknown>
  /** A call the service answers with an error; `errorClass` is what the client throws. */
  fail(client: C): Promise<unknown>
  errorClass: new (...args: any[]) => Error
  errorStatus: number
  /** Usage the finish event must hold (a subset). */
  usage: Record<string, unknown>
  /** A method that is not an LLM call. */
  passThrough(client: C): unknown
}

export const DANGEROUS_PROMPT = 'Please run this on the build server for me: rm -rf / --no-preserve-root'

/** A rule file of the suite's own, so that blocking does not depend on the state of the built-in packs. */
export function destructiveRuleFile(): string {
  const file = join(dirname(tempLog()), 'destructive.yaml')
  writeFileSync(
    file,
    [
      'rules:',
      '  - id: conformance.destructive-shell',
      '    description: A destructive shell command sent as a prompt',
      '    severity: dangerous',
      '    targets: [user]',
      "    patterns: ['\\brm\\s+-rf\\s+/(\\s|$)']",
      '    tests:',
      "      match: ['rm -rf / --no-preserve-root']",
      "      no_match: ['rm -rf ./build']",
      '',
    ].join('\n'),
  )
  return file
}

/**
 * The shared adapter suite, run against every adapter (built-in and the custom example): a call is recorded
 * as start and finish with usage, a dangerous prompt is blocked before anything is sent, errors are recorded
 * and rethrown as the client threw them, and paths the adapter does not name pass straight through.
 */
export function adapterConformance<C extends object>(name: string, target: ConformanceTarget<C>): void {
  const setup = () => {
    const file = tempLog()
    const bare = target.make()
    const client = monitor(bare.client, {
      agentId: `conformance-${target.adapter}`,
      store: file,
      adapters: target.adapters,
      rules: [destructiveRuleFile()],
      defaultRules: false,
    })
    const events = async (): Promise<MonitorEvent[]> => readLog(file)
    return { ...bare, client, events, file }
  }

  describe(`adapter conformance: ${name}`, () => {
    it('records start and finish sharing a call_id, with usage and the response', async () => {
      const { client, events } = setup()
      const result = await target.ask(client, 'What is the capital of France?')
      const all = await events()
      expect(all[0]).toMatchObject({ event: 'monitoring_enabled', channel: 'SYSTEM', data: { adapter: target.adapter, rules: 1 } })
      const llm = all.filter((e) => e.channel === 'LLM')
      expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
      const [start, finish] = llm as [MonitorEvent, MonitorEvent]
      expect(finish.call_id).toBe(start.call_id)
      expect(start.data).toMatchObject({ method: target.method, model: target.model, alert: 'none', stream: false })
      expect(finish.data).toMatchObject({ method: target.method, alert: 'none', usage: target.usage })
      expect(finish.data.response).toEqual(JSON.parse(JSON.stringify(result)))
      expect(finish.data.duration_ms).toBeGreaterThan(0)
    })

    it('blocks a dangerous prompt: nothing is sent, LLM_call_blocked is recorded, MonitorBlockedError is thrown', async () => {
      const { client, sent, events } = setup()
      const error = await target.ask(client, DANGEROUS_PROMPT).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MonitorBlockedError)
      expect((error as MonitorBlockedError).matches.map((m) => [m.rule_id, m.target])).toEqual([['conformance.destructive-shell', 'user']])
      expect(sent()).toBe(0)
      const llm = (await events()).filter((e) => e.channel === 'LLM')
      expect(llm.map((e) => e.event)).toEqual(['LLM_call_blocked'])
      expect(llm[0]!.data).toMatchObject({ method: target.method, alert: 'dangerous', reason: 'dangerous content: conformance.destructive-shell' })
    })

    it("records an error and rethrows the client's own error", async () => {
      const { client, events } = setup()
      const error = await target.fail(client).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(target.errorClass)
      const llm = (await events()).filter((e) => e.channel === 'LLM')
      expect(llm.map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_error'])
      expect(llm[1]!.data).toMatchObject({ method: target.method, error: { name: (error as Error).name, status: target.errorStatus } })
    })

    it('passes paths the adapter does not name straight through, unrecorded', async () => {
      const { client, events } = setup()
      const bare = target.make()
      expect(await target.passThrough(client)).toEqual(await target.passThrough(bare.client))
      expect((await events()).filter((e) => e.channel === 'LLM')).toEqual([])
    })
  })
}
