import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getMonitorHealth } from '../../src/faults.js'
import { scanBytesBackward, scanLines } from '../../src/store/scan.js'
import { getAgentStats, getEventsByChannel, getEventsByType, getRecentEvents, JsonlEventLog, searchEvents } from '../../src/store/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { removeDir, tempDir } from './helpers.js'
import { makeEvent } from './make-event.js'

// The backward reader (newest-first, for `limit` queries) and the byte-level forward scan, on the edges:
// chunk boundaries, lines longer than a chunk, torn last lines, rotated files; and getAgentStats'
// reading of finish events without parsing them, against a full parse.

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => removeDir(dir))

const lines = (events: MonitorEvent[]) => events.map((e) => `${JSON.stringify(e)}\n`).join('')

async function backward(file: string, needle?: string, stopAfter = Infinity): Promise<{ lines: string[]; end: number; stopped: boolean }> {
  const out: string[] = []
  const result = await scanBytesBackward(file, needle, (buf, start, end) => {
    out.push(buf.toString('utf8', start, end))
    return out.length >= stopAfter
  })
  return { lines: out, ...result }
}

describe('scanBytesBackward', () => {
  it('hands on every line newest first, across many chunk boundaries (the first read is 64 KiB, then doubling)', async () => {
    const file = join(dir, 'many.jsonl')
    const events = Array.from({ length: 30_000 }, (_, i) => makeEvent(i, { pad: i % 13 }))
    const text = lines(events)
    writeFileSync(file, text)
    const all = await backward(file)
    expect(all.lines).toEqual(events.map((e) => JSON.stringify(e)).reverse())
    expect(all.end).toBe(Buffer.byteLength(text))
    expect(all.stopped).toBe(false)
    // With a needle: only the lines holding it, still newest first.
    const system = await backward(file, '"channel":"SYSTEM"')
    expect(system.lines).toEqual(events.filter((e) => e.channel === 'SYSTEM').map((e) => JSON.stringify(e)).reverse())
  })

  it('limit queries across chunk boundaries return what a full forward read returns', async () => {
    const file = join(dir, 'limits.jsonl')
    const events = Array.from({ length: 20_000 }, (_, i) => makeEvent(i, { pad: 40 }))
    writeFileSync(file, lines(events))
    for (const limit of [1, 99, 700, 5000, 19_999, 20_000, 25_000]) {
      expect(await getRecentEvents({ file, limit })).toEqual(events.slice(-limit))
      expect(await getEventsByChannel('SYSTEM', { file, limit })).toEqual(events.filter((e) => e.channel === 'SYSTEM').slice(-limit))
      expect(await getEventsByType('LLM_call_error', { file, limit, agentId: 'agent-1' })).toEqual(
        events.filter((e) => e.event === 'LLM_call_error' && e.agent_id === 'agent-1').slice(-limit),
      )
    }
    expect(await getRecentEvents({ file, limit: 0 })).toEqual([])
    const answers = events.filter((e) => JSON.stringify(e.data).toLowerCase().includes('answer number 1999'))
    expect(answers.length).toBeGreaterThan(3)
    expect(await searchEvents('ANSWER NUMBER 1999', { file, limit: 3 })).toEqual(answers.slice(-3))
  })

  it('a line longer than the chunk (and than the buffer) is read whole, in both directions', async () => {
    const file = join(dir, 'long.jsonl')
    const huge = makeEvent(2, { pad: 20 * 1024 * 1024 }) // 20 MiB: longer than the 8 MiB buffer
    const events = [makeEvent(0), makeEvent(1), huge, makeEvent(3), makeEvent(4, { pad: 200_000 }), makeEvent(5)]
    writeFileSync(file, lines(events))
    expect(await getRecentEvents({ file, limit: 100 })).toEqual(events)
    expect(await getRecentEvents({ file, limit: 4 })).toEqual(events.slice(-4))
    expect((await backward(file, '"seq":2,')).lines).toEqual([JSON.stringify(huge)])
    const forward: string[] = []
    await scanLines(file, undefined, (line) => forward.push(line))
    expect(forward).toEqual(events.map((e) => JSON.stringify(e)))
    forward.length = 0
    await scanLines(file, '"seq":2,', (line) => forward.push(line))
    expect(forward).toEqual([JSON.stringify(huge)])
  })

  it('skips and reports a torn last line, also one longer than a chunk; the offset is after the last complete line', async () => {
    const file = join(dir, 'torn-back.jsonl')
    const whole = lines([0, 1, 2].map((i) => makeEvent(i)))
    for (const torn of ['{"event":"LLM_call_fin', `{"event":"LLM_call_finish","data":{"pad":"${'y'.repeat(300_000)}`]) {
      writeFileSync(file, whole + torn)
      const before = getMonitorHealth().faults['event-log-read'] ?? 0
      const r = await backward(file)
      expect(r.lines.map((l) => (JSON.parse(l) as MonitorEvent).data.seq)).toEqual([2, 1, 0])
      expect(r.end).toBe(Buffer.byteLength(whole))
      expect(getMonitorHealth().faults['event-log-read']).toBe(before + 1)
      expect((await getRecentEvents({ file, limit: 2 })).map((e) => e.data.seq)).toEqual([1, 2])
    }
    // A file that is one torn line, and an empty file.
    writeFileSync(file, '{"event":"LLM_ca')
    expect(await backward(file)).toEqual({ lines: [], end: 0, stopped: false })
    writeFileSync(file, '')
    expect(await backward(file)).toEqual({ lines: [], end: 0, stopped: false })
    expect(await backward(join(dir, 'missing.jsonl'))).toEqual({ lines: [], end: 0, stopped: false })
  })

  it('stops when the handler says so, still reporting the end of the complete lines', async () => {
    const file = join(dir, 'stop.jsonl')
    const text = lines(Array.from({ length: 1000 }, (_, i) => makeEvent(i)))
    writeFileSync(file, text)
    const r = await backward(file, undefined, 3)
    expect(r.lines.map((l) => (JSON.parse(l) as MonitorEvent).data.seq)).toEqual([999, 998, 997])
    expect(r).toMatchObject({ end: Buffer.byteLength(text), stopped: true })
  })

  it('limit queries read rotated files newest first and stop in the file that completes them', async () => {
    const file = join(dir, 'rotated-back.jsonl')
    const events = Array.from({ length: 600 }, (_, i) => makeEvent(i))
    const log = new JsonlEventLog({ path: file, maxBytes: 20_000, keep: 100 })
    for (const [i, e] of events.entries()) {
      log.write(JSON.stringify(e), e)
      if (i % 20 === 19) await log.flush()
    }
    log.close()
    for (const limit of [1, 5, 30, 61, 250, 599, 600, 1000]) {
      expect(await getRecentEvents({ file, limit })).toEqual(events.slice(-limit))
      expect(await getEventsByChannel('LLM', { file, limit, agentId: 'agent-2' })).toEqual(
        events.filter((e) => e.channel === 'LLM' && e.agent_id === 'agent-2').slice(-limit),
      )
    }
  })
})

describe('getAgentStats reads finish events of the recorder shape without parsing them', () => {
  /** A finish event in the recorder's key order (CallRecord.close): …, response, usage, alert, security. */
  function finish(i: number, extra: Record<string, unknown> = {}, usage: unknown = { input_tokens: 100 + i, output_tokens: i % 7 }): MonitorEvent {
    return {
      event: 'LLM_call_finish',
      channel: 'LLM',
      level: 'info',
      agent_id: `agent-${i % 3}`,
      call_id: `call-${i}`,
      timestamp: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      data: {
        method: 'messages.create',
        model: i % 2 ? 'claude-haiku-4-5' : 'claude-sonnet-4-5',
        duration_ms: Math.round(i * 1.37 * 1000) / 1000,
        stop_reason: 'end_turn',
        ...extra,
        response: { model: 'other', usage: { input_tokens: 999_999, output_tokens: 999_999 }, content: [{ type: 'text', text: `"usage":{"input_tokens":5} ,"usage":` }] },
        usage,
        alert: 'none',
        security: { matches: [] },
      },
    }
  }

  /** The stats from a plain parse of every line, the reference. */
  function reference(events: MonitorEvent[]) {
    const rows = new Map<string, { agent_id: string; model: string; calls: number; input_tokens: number; output_tokens: number; d: number[] }>()
    for (const e of events) {
      if (!['LLM_call_finish', 'LLM_call_error', 'LLM_call_blocked'].includes(e.event)) continue
      const model = typeof e.data.model === 'string' ? e.data.model : 'unknown'
      const key = `${e.agent_id}|${model}`
      const row = rows.get(key) ?? { agent_id: e.agent_id, model, calls: 0, input_tokens: 0, output_tokens: 0, d: [] }
      rows.set(key, row)
      row.calls++
      const u = (e.data.usage ?? {}) as Record<string, unknown>
      if (typeof u.input_tokens === 'number') row.input_tokens += u.input_tokens
      if (typeof u.output_tokens === 'number') row.output_tokens += u.output_tokens
      if (typeof e.data.duration_ms === 'number') row.d.push(e.data.duration_ms)
    }
    return [...rows.values()]
      .sort((a, b) => (a.agent_id + a.model < b.agent_id + b.model ? -1 : 1))
      .map(({ d, ...row }) => {
        const sorted = [...d].sort((a, b) => a - b)
        return { ...row, mean: d.length ? d.reduce((a, b) => a + b, 0) / d.length : null, p95: d.length ? sorted[Math.ceil(0.95 * d.length) - 1] : null }
      })
  }

  it('gives the same figures as a full parse, for the usual shape and for shapes that must fall back', async () => {
    const file = join(dir, 'stats-shapes.jsonl')
    const events: MonitorEvent[] = []
    for (let i = 0; i < 3000; i++) events.push(finish(i))
    // Shapes the byte reader must not take at face value (each falls back to a parse, or is read right).
    events.push(finish(3000, {}, null))
    events.push(finish(3001, {}, { cache_creation: { ephemeral_5m_input_tokens: 3 }, input_tokens: 7, service_tier: 'standard', output_tokens: 2 }))
    events.push(finish(3002, {}, { input_tokens: '12', output_tokens: 1e21 }))
    events.push(finish(3003, { time_to_first_token_ms: 1.5, partial: true }))
    events.push(finish(3004, {}, { input_tokens: 1.25e2, output_tokens: -0 }))
    events.push({ ...finish(3005), agent_id: 'agent-"quoted"' })
    events.push({ ...finish(3006), data: { ...finish(3006).data, model: undefined } })
    events.push({ ...finish(3007), data: { ...finish(3007).data, duration_ms: 12345678.123456789 } })
    events.push({ ...finish(3008), data: { ...finish(3008).data, security: { matches: [{ rule_id: 'x', usage: { input_tokens: 1 } }] } } })
    const reordered = finish(3009)
    const { usage, ...rest } = reordered.data
    events.push({ ...reordered, data: { usage, ...rest } }) // usage before response
    events.push(makeEvent(3)) // error, from the synthetic log
    events.push(makeEvent(4))
    const text = lines(events)
    // A line cut short and repaired (a killed writer): not an event, skipped like before.
    const cut = JSON.stringify(finish(4000))
    writeFileSync(file, `${text}${cut.slice(0, cut.length - 3)}\n`)
    const stats = await getAgentStats({ file })
    expect(
      stats.map((s) => ({ agent_id: s.agent_id, model: s.model, calls: s.calls, input_tokens: s.input_tokens, output_tokens: s.output_tokens, mean: s.mean_duration_ms, p95: s.p95_duration_ms })),
    ).toEqual(reference(events))
    const one = await getAgentStats({ file, agentId: 'agent-1' })
    expect(one.map((s) => [s.agent_id, s.model, s.calls])).toEqual(reference(events).filter((r) => r.agent_id === 'agent-1').map((r) => [r.agent_id, r.model, r.calls]))
  })
})
