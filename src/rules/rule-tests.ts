import type { RuleSet } from './rule-set.js'

/** A rule's own test that did not hold. */
export interface RuleTestFailure {
  rule_id: string
  file: string
  /** The line of the test's text in the file. */
  line: number
  /** `match`: the text should make the rule fire and did not; `no_match`: the reverse. */
  expected: 'match' | 'no_match'
  text: string
}

/**
 * Runs every rule's `tests.match` and `tests.no_match` through the whole set (at the rule's first
 * target), so each test goes through the same sets, normalisation and validators as a real scan.
 * `untested`: the rules that have no test at all (not a failure; said, so that it is not mistaken for a pass).
 */
export function runRuleTests(ruleSet: RuleSet): { rules: number; tests: number; failures: RuleTestFailure[]; untested: { rule_id: string; file: string }[] } {
  const failures: RuleTestFailure[] = []
  const untested: { rule_id: string; file: string }[] = []
  let tests = 0
  for (const rule of ruleSet.rules) {
    if (rule.tests.match.length === 0 && rule.tests.no_match.length === 0) untested.push({ rule_id: rule.id, file: rule.file })
    const fires = (text: string) =>
      ruleSet.scan(text, { target: rule.targets[0] }).matches.some((m) => m.rule_id === rule.id)
    for (const expected of ['match', 'no_match'] as const) {
      rule.tests[expected].forEach((text, i) => {
        tests++
        if (fires(text) !== (expected === 'match')) failures.push({ rule_id: rule.id, file: rule.file, line: rule.testLines[expected][i]!, expected, text })
      })
    }
  }
  return { rules: ruleSet.size, tests, failures, untested }
}
