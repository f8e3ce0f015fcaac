import { describe, expect, it } from 'vitest'
import { monitor } from '../../src/index.js'
import { isoNow } from '../../src/recorder.js'

describe('event timestamps', () => {
  it('are exactly Date#toISOString, across second, minute, hour, day and year boundaries', () => {
    const instants = [
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 0),
      Date.UTC(2026, 11, 3, 15, 28, 16, 123),
      Date.UTC(2026, 11, 3, 15, 28, 9, 7),
      Date.UTC(2026, 11, 3, 15, 28, 9, 70),
      Date.UTC(2024, 1, 29, 12, 0, 0, 1),
      0,
      1,
      Date.UTC(275760, 8, 12, 23, 59, 59, 999),
    ]
    let t = Date.UTC(2026, 11, 3, 23, 58, 0, 0)
    // Every millisecond of a few seconds around a minute change, then random instants.
    for (let i = 0; i < 5000; i++) instants.push(t + 117_000 + i)
    for (let i = 0; i < 5000; i++) instants.push(Math.floor(Math.random() * 4e12))
    for (const instant of instants) expect(isoNow(instant)).toBe(new Date(instant).toISOString())
    // Going back in time (a clock set back) gives the right minute too.
    t = Date.UTC(2026, 11, 3, 10, 0, 30, 5)
    expect(isoNow(t + 3_600_000)).toBe(new Date(t + 3_600_000).toISOString())
    expect(isoNow(t)).toBe(new Date(t).toISOString())
    expect(isoNow(-1)).toBe(new Date(-1).toISOString())
  })

  it('read the clock: now is between two readings of Date.now()', () => {
    const before = Date.now()
    const stamp = Date.parse(isoNow())
    expect(stamp).toBeGreaterThanOrEqual(before)
    expect(stamp).toBeLessThanOrEqual(Date.now())
  })
  it('come from a clock that is not a whole number as Date would make them, and never throw', () => {
    expect(isoNow(Date.UTC(2026, 11, 3, 15, 0, 0, 5) + 0.7)).toBe('2026-12-03T15:00:00.005Z')
    expect(isoNow(1.5)).toBe(new Date(1.5).toISOString())
    for (const broken of [Number.NaN, Number.POSITIVE_INFINITY, 9e15]) {
      const stamp = isoNow(broken)
      expect(Math.abs(Date.parse(stamp) - (performance.timeOrigin + performance.now()))).toBeLessThan(5000)
    }
  })
  it('a broken Date.now() does not break a monitored call', async () => {
    const events: Array<{ timestamp: string }> = []
    const client = { messages: { create: async (params: { model: string }) => ({ model: params.model, text: 'ok' }) } }
    const adapter = { name: 'plain', calls: { 'messages.create': { request: (args: unknown[]) => ({ params: args[0], texts: [] }) } } }
    const monitored = monitor(client, { store: false, adapters: [adapter], onEvent: (e) => events.push(e) })
    const now = Date.now
    try {
      for (const broken of [() => Number.NaN, () => 1.5e12 + 0.25]) {
        Date.now = broken
        await expect(monitored.messages.create({ model: 'm' })).resolves.toEqual({ model: 'm', text: 'ok' })
      }
    } finally {
      Date.now = now
    }
    // monitoring_enabled, then a start and a finish per call
    expect(events).toHaveLength(5)
    for (const e of events) expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })
})
