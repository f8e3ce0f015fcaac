import { describe, expect, it } from 'vitest'
import { loadRules } from '../../src/rules/index.js'
import { ruleDir } from './helpers.js'

const { write } = ruleDir()

/** Median wall time of `runs` calls, in ms. */
function median(fn: () => void, runs = 5): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  return times.sort((a, b) => a - b)[runs >> 1]
}

describe('patterns that explode backtracking engines run in linear time (RE2)', () => {
  const file = write('redos.yaml', `rules:
  - id: redos.nested-plus
    severity: suspicious
    targets: [user]
    case_sensitive: true
    patterns: ['(a+)+$', '(x+x+)+y', '(\\w+\\s?)+!$']
`)
  const rules = loadRules(file, { defaultRules: false })

  it.each([
    ['(a+)+$', 'a', 'b'],
    ['(x+x+)+y', 'x', 'z'],
  ])('%s: 1 MB of adversarial text scans, and 2 MB costs at most ~2.5× 1 MB', (_, unit, tail) => {
    const oneMb = unit.repeat(1_000_000) + tail
    const twoMb = unit.repeat(2_000_000) + tail
    expect(rules.scan(oneMb, { target: 'user' }).alert).toBe('none') // it finishes, and nothing matches
    const t1 = median(() => rules.scan(oneMb, { target: 'user' }))
    const t2 = median(() => rules.scan(twoMb, { target: 'user' }))
    expect(t1).toBeLessThan(1000)
    expect(t2 / t1).toBeLessThanOrEqual(2.5)
    // The same pattern still matches where it should.
    expect(rules.scan(`${unit.repeat(1000)}${unit === 'a' ? '' : 'y'}`, { target: 'user' }).alert).toBe('suspicious')
  })
})
