import { describe, expect, it } from 'vitest'
import { loadRules } from '../../src/rules/index.js'
import { ruleDir } from './helpers.js'

const { write } = ruleDir()

/**
 * Median wall times of `a` and `b`, in ms, over `runs` rounds that alternate them, so that a busy
 * machine (other test files run in parallel) slows both alike.
 */
function medians(a: () => void, b: () => void, runs = 9): [number, number] {
  const times: [number[], number[]] = [[], []]
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const t0 = performance.now()
      fn()
      times[k].push(performance.now() - t0)
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]
  return [median(times[0]), median(times[1])]
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
    const [t1, t2] = medians(
      () => rules.scan(oneMb, { target: 'user' }),
      () => rules.scan(twoMb, { target: 'user' }),
    )
    expect(t1).toBeLessThan(1000)
    expect(t2 / t1).toBeLessThanOrEqual(2.5)
    // The same pattern still matches where it should.
    expect(rules.scan(`${unit.repeat(1000)}${unit === 'a' ? '' : 'y'}`, { target: 'user' }).alert).toBe('suspicious')
  })
})
