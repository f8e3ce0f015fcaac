import { describe, expect, it } from 'vitest'
import { loadRules } from '../../src/rules/index.js'
import { ruleDir } from './helpers.js'

const { write } = ruleDir()

/**
 * The fastest wall times of `a` and `b`, in ms, over `runs` rounds that alternate them: the fastest run is
 * the one the least disturbed by other work on a busy machine (other test files run in parallel).
 */
function fastest(a: () => void, b: () => void, runs = 7): [number, number] {
  const times: [number[], number[]] = [[], []]
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const t0 = performance.now()
      fn()
      times[k].push(performance.now() - t0)
    }
  }
  return [Math.min(...times[0]), Math.min(...times[1])]
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
  ])('%s: 1 MB of adversarial text scans, and 4 MB costs about 4× 1 MB (at most 8×: quadratic would be 16×)', (_, unit, tail) => {
    const oneMb = unit.repeat(1_000_000) + tail
    const fourMb = unit.repeat(4_000_000) + tail
    expect(rules.scan(oneMb, { target: 'user' }).alert).toBe('none') // it finishes, and nothing matches
    const [t1, t4] = fastest(
      () => rules.scan(oneMb, { target: 'user' }),
      () => rules.scan(fourMb, { target: 'user' }),
    )
    expect(t1).toBeLessThan(1000)
    expect(t4 / t1).toBeLessThanOrEqual(8)
    // The same pattern still matches where it should.
    expect(rules.scan(`${unit.repeat(1000)}${unit === 'a' ? '' : 'y'}`, { target: 'user' }).alert).toBe('suspicious')
  })
})
