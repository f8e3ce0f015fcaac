/** The rule engine: YAML rule files compiled into RE2 sets. */
export { defaultRulesDir, lintRules, loadRules, ruleFiles, type LintResult } from './load.js'
export { RuleSet } from './rule-set.js'
export { runRuleTests, type RuleTestFailure } from './rule-tests.js'
export type { Rule } from './schema.js'
export type { ValidatorName } from './validators.js'
