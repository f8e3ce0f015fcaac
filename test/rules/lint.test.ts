import { describe, expect, it } from 'vitest'
import { RuleError } from '../../src/errors.js'
import { loadRules } from '../../src/rules/index.js'
import { ruleDir } from './helpers.js'

const { write } = ruleDir()

const valid = (id: string, extra = '') => `  - id: ${id}
    description: ok
    severity: suspicious
    targets: [user]
    patterns: ['foo\\d+']
${extra}`

/** Loads `yaml` from a real file and returns the RuleError it must raise. */
function errorOf(name: string, yaml: string): RuleError {
  const file = write(name, yaml)
  try {
    loadRules(file, { defaultRules: false })
  } catch (error) {
    expect(error).toBeInstanceOf(RuleError)
    const e = error as RuleError
    expect(e.code).toBe('RULE_INVALID')
    expect(e.file).toBe(file)
    expect(e.message.startsWith(`${file}:${e.line}`)).toBe(true)
    return e
  }
  throw new Error(`${name} loaded without an error`)
}

describe('rule files are validated field by field', () => {
  it.each([
    ['unknown field', `rules:\n${valid('a.one')}${valid('a.two', '    colour: red\n')}`, 12, 'a.two', /unknown field `colour`/],
    ['wrong type', `rules:\n${valid('a.one')}  - id: a.two\n    severity: suspicious\n    targets: user\n    patterns: ['x']\n`, 9, 'a.two', /`targets` must be a list/],
    ['wrong scalar type', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    redact: "yes"\n    patterns: ['x']\n`, 5, 'a.one', /`redact` must be a boolean/],
    ['unknown target', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user, prompt]\n    patterns: ['x']\n`, 4, 'a.one', /unknown target `prompt`/],
    ['unknown severity', `rules:\n  - id: a.one\n    severity: critical\n    targets: [user]\n    patterns: ['x']\n`, 3, 'a.one', /unknown severity `critical`/],
    ['empty pattern', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    patterns:\n      - 'ok'\n      - ''\n`, 7, 'a.one', /pattern 2 is empty/],
    ['duplicate id', `rules:\n${valid('a.one')}${valid('a.one')}`, 7, 'a.one', /duplicate rule id \(first defined on line 2\)/],
    ['lookahead RE2 rejects', `rules:\n  - id: a.one\n    severity: dangerous\n    targets: [user]\n    patterns: ['ok', 'foo(?=bar)']\n`, 5, 'a.one', /RE2 cannot compile it/],
    ['pattern matching everything', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    patterns:\n      - 'x*'\n`, 6, 'a.one', /matches the empty string/],
    ['unknown validator', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    validate: crc32\n    patterns: ['x']\n`, 5, 'a.one', /unknown validator `crc32`/],
    ['no patterns or keywords', `rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n`, 2, 'a.one', /at least one entry in `patterns` or `keywords`/],
    ['bad id', `rules:\n  - id: Not An Id\n    severity: suspicious\n    targets: [user]\n    patterns: ['x']\n`, 2, 'Not An Id', /`id` must be lower-case/],
  ])('rejects %s with file, line and rule id', (_, yaml, line, ruleId, message) => {
    const e = errorOf(`${ruleId}-${line}.yaml`, yaml)
    expect(e.line).toBe(line)
    expect(e.ruleId).toBe(ruleId)
    expect(e.message).toMatch(message)
    expect(e.message).toContain(`(rule ${ruleId})`)
  })

  it('rejects YAML syntax errors and unknown top-level fields with a line', () => {
    const syntax = errorOf('syntax.yaml', `rules:\n  - id: a.one\n    targets: [user\n`)
    expect([syntax.line, syntax.ruleId]).toEqual([3, 'a.one'])
    const e = errorOf('top.yaml', `rules: []\nversion: 2\n`)
    expect(e.line).toBe(2)
    expect(e.message).toMatch(/unknown top-level field `version`/)
  })

  it('loads nothing when one file of several is bad', () => {
    const good = write('1-good.yaml', `rules:\n${valid('b.good')}`)
    const bad = write('2-bad.yaml', `rules:\n${valid('b.bad', '    severity2: x\n')}`)
    expect(() => loadRules([good, bad], { defaultRules: false })).toThrow(RuleError)
    expect(loadRules([good], { defaultRules: false }).size).toBe(1)
  })

  it('names a missing file', () => {
    expect(() => loadRules('/nonexistent/rules.yaml')).toThrow(/\/nonexistent\/rules\.yaml: no such file/)
  })
})
