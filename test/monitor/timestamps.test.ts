import { describe, expect, it } from 'vitest'
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
})
