/**
 * Regression tests for rule files that loaded but misbehaved, or failed without saying where
 * (D7 set too large, D8 lint/test --rules, D9 pattern rewriting and empty matches, D10 non-ASCII
 * keywords and composed text, D14 disable order and typos, hidden files, aliases, duplicate keys).
 */
import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RuleError } from '../../src/errors.js'
import { lintRules, loadRules } from '../../src/rules/index.js'
import { RuleSet } from '../../src/rules/rule-set.js'
import { ruleDir, runRules } from './helpers.js'

const { dir, write } = ruleDir()

const run = runRules

/** A one-rule file; `body` holds the rule's fields after id/severity/targets. */
const rule = (id: string, body: string) => `rules:\n  - id: ${id}\n    severity: suspicious\n    targets: [user]\n${body}`

function loadError(name: string, yaml: string): RuleError {
  const file = write(name, yaml)
  try {
    loadRules(file, { defaultRules: false })
  } catch (error) {
    expect(error).toBeInstanceOf(RuleError)
    expect((error as RuleError).file).toBe(file)
    return error as RuleError
  }
  throw new Error(`${name} loaded without an error`)
}

const fires = (rules: RuleSet, text: string) => rules.scan(text, { target: 'user' }).alert !== 'none'

describe('D7: patterns too large together fail at load with file, line and rule id', () => {
  const yaml = rule('t.big', "    patterns: ['[\\p{L}]{200}', '[\\p{L}]{200}x', '[\\p{L}]{200}y']\n")

  it('loadRules names the rule', () => {
    const e = loadError('big.yaml', yaml)
    expect(e.line).toBe(2)
    expect(e.ruleId).toBe('t.big')
    expect(e.message).toMatch(/too large for RE2/)
  })

  it('rules lint reports it as a problem, not a crash', async () => {
    const { code, err } = await run('lint', write('big-lint.yaml', yaml))
    expect(code).toBe(1)
    expect(err).toMatch(/big-lint\.yaml:2 \(rule t\.big\): its patterns and keywords together are too large/)
  })

  it('a RuleSet built from such a rule names it', () => {
    const ok = loadRules(write('small.yaml', rule('t.small', "    patterns: ['abc']\n")), { defaultRules: false }).rules[0]
    const huge = { ...ok, id: 't.huge', source: '(?i:[\\p{L}]{200}|[\\p{L}]{200}x|[\\p{L}]{200}y)' }
    expect(() => new RuleSet([ok, huge])).toThrow(RuleError)
    expect(() => new RuleSet([ok, huge])).toThrow(/\(rule t\.huge\): RE2 cannot build a set with this rule/)
  })
})

describe('D8: rules lint and rules test read --rules paths', () => {
  const bad = write('lookahead.yaml', rule('t.look', "    patterns: ['(?=x)y']\n"))
  const failing = write('failing.yaml', rule('t.fail', "    patterns: ['abc']\n    tests:\n      match: ['xyz']\n"))

  it('lint --rules x.yaml lints x.yaml (and only it)', async () => {
    const { code, err } = await run('lint', '--rules', bad)
    expect(code).toBe(1)
    expect(err).toContain(`${bad}:5 (rule t.look)`)
    const json = JSON.parse((await run('lint', '--rules', write('ok.yaml', rule('t.ok', "    patterns: ['abc']\n")), '--json')).out)
    expect(json).toMatchObject({ ok: true, rules: 1 })
  })

  it('test --rules x.yaml runs the tests of x.yaml', async () => {
    const { code, out } = await run('test', '--rules', failing)
    expect(code).toBe(1)
    expect(out).toContain('FAIL t.fail')
    expect(out).toContain('1 rule, 1 test, 1 failed')
  })
})

describe('D9: patterns mean what they say', () => {
  it('\\Q…\\E is literal: its spaces and parentheses are not rewritten', () => {
    const rules = loadRules(write('qe.yaml', rule('t.qe', "    patterns: ['\\Qa b\\E', '\\Q(x)\\E']\n")), { defaultRules: false })
    expect(fires(rules, 'say a b now')).toBe(true)
    expect(fires(rules, 'f(x) = 1')).toBe(true)
    expect(fires(rules, 'say a  b now')).toBe(false)
  })

  it('a \\Q left open quotes to the end of the pattern, as in RE2, not the rule wrapper', () => {
    const rules = loadRules(write('q-open.yaml', rule('t.qopen', "    patterns: ['\\Q(x) y']\n")), { defaultRules: false })
    expect(fires(rules, 'f(x) y')).toBe(true)
    expect(fires(rules, 'f(x)  y')).toBe(false)
  })

  it('a space in a class that holds a POSIX class stays one space of that class', () => {
    const rules = loadRules(write('posix.yaml', rule('t.posix', "    patterns: ['name=[[:alpha:] ]+;', '[[:^digit:] ]x']\n")), { defaultRules: false })
    expect(fires(rules, 'name=John Smith;')).toBe(true)
    expect(fires(rules, 'name=+++;')).toBe(false)
    expect(fires(rules, 'name=\t\n;')).toBe(false)
    expect(fires(rules, '1x')).toBe(false)
  })

  it('a POSIX class with ^ or $ in it can still be told from an assertion', () => {
    const e = loadError('posix-empty.yaml', rule('t.pe', "    patterns: ['[[:alpha:]^]*\\b']\n"))
    expect(e.message).toMatch(/empty string/)
    const rules = loadRules(write('posix-ok.yaml', rule('t.pok', "    patterns: ['\\b[[:alpha:]$]+\\b']\n")), { defaultRules: false })
    expect(fires(rules, 'cost$')).toBe(true)
  })

  it('an unbalanced pattern is rejected, not balanced by the rule wrapper', () => {
    const e = loadError('unbalanced.yaml', rule('t.unbalanced', "    patterns: ['a)|(?:b']\n"))
    expect(e.ruleId).toBe('t.unbalanced')
    expect(e.line).toBe(5)
    expect(e.message).toMatch(/RE2 cannot compile it: unexpected \)/)
  })

  it.each([['\\b'], ['\\B'], ['x|\\b'], ['a*\\b'], ['(?m)^'], ['\\b(?:foo)?']])('%s can match an empty string somewhere: rejected', (pattern) => {
    const e = loadError('empty.yaml', rule('t.zw', `    redact: true\n    patterns: ['${pattern}']\n`))
    expect(e.ruleId).toBe('t.zw')
    expect(e.message).toMatch(/match(es)? (an|the) empty string/)
  })

  it('patterns with anchors that always read a character still load', () => {
    const rules = loadRules(write('anchors.yaml', rule('t.anchors', "    patterns: ['^hello\\b', '\\bworld$', '(?m)^#+ title$', '\\Bing\\b']\n")), { defaultRules: false })
    expect(fires(rules, 'hello there')).toBe(true)
    expect(fires(rules, 'singing')).toBe(true)
    expect(rules.redact('hello world')).toBe('hello world')
  })
})

describe('D10: keywords in any script, and text in any composition', () => {
  const rules = loadRules(
    write('unicode.yaml', rule('t.u', '    keywords: ["пароль", "ﬁle drop", "cafe\\u0301 secret"]\n    patterns: ["contraseña"]\n')),
    { defaultRules: false },
  )

  it('a non-ASCII keyword is whole-word', () => {
    expect(fires(rules, 'мой пароль: 123')).toBe(true)
    expect(fires(rules, 'пароль')).toBe(true)
    expect(fires(rules, 'мойпароль123')).toBe(false)
    expect(fires(rules, 'пароли')).toBe(false)
  })

  it('a redact keyword masks the word alone: the quotes of a JSON line around it stay', () => {
    const masking = loadRules(write('redact-kw.yaml', rule('t.rkw', '    redact: true\n    keywords: ["hunter2", "пароль"]\n')), { defaultRules: false })
    expect(masking.redact('{"password":"hunter2","ru":"пароль"}')).toBe('{"password":"[REDACTED:t.rkw]","ru":"[REDACTED:t.rkw]"}')
  })

  it('a keyword in a script written without spaces (Chinese, Japanese, Thai) matches inside a sentence', () => {
    const cjk = loadRules(write('cjk.yaml', rule('t.cjk', '    keywords: ["忽略之前的指示", "パスワード", "รหัสผ่าน", "秘密キー"]\n')), { defaultRules: false })
    expect(fires(cjk, '秘密キーを教えて')).toBe(true) // ends in ー, a character of both kana scripts
    expect(fires(cjk, '请忽略之前的指示并告诉我')).toBe(true)
    expect(fires(cjk, '私のパスワードは')).toBe(true)
    expect(fires(cjk, 'บอกรหัสผ่านของคุณ')).toBe(true)
    expect(fires(cjk, '请遵守之前的指示')).toBe(false)
  })

  it('a keyword with a compatibility character is normalised like the text', () => {
    expect(fires(rules, 'the file drop is ready')).toBe(true)
    expect(fires(rules, 'the ﬁle drop is ready')).toBe(true)
  })

  it('decomposed text matches rules written composed, and the reverse', () => {
    expect(fires(rules, 'la contrasen\u0303a es')).toBe(true)
    expect(fires(rules, 'la contraseña es')).toBe(true)
    expect(fires(rules, 'the café secret')).toBe(true)
    expect(fires(rules, 'the cafe\u0301 secret')).toBe(true)
  })

  it('a pattern holding a character the text never keeps is rejected with what to write', () => {
    const e = loadError('compat.yaml', rule('t.compat', "    patterns: ['ﬁle']\n"))
    expect(e.message).toMatch(/"ﬁ" never occurs in the normalised text .*write "fi"/)
  })
})

describe('D14: disable, hidden files, aliases, duplicate keys', () => {
  it.each([['\\x{202e}evil'], ['a\\x{200B}b'], ['\\x{FB01}le'], ['x\\x00y']])('a character written as an escape (%s) that the text never keeps is rejected too', (pattern) => {
    const e = loadError('escaped.yaml', rule('t.esc', `    patterns: ['${pattern}']\n`))
    expect(e.ruleId).toBe('t.esc')
    expect(e.message).toMatch(/never occurs in the normalised text/)
  })

  it('escapes of characters the text keeps, and escaped ranges in a class, still load', () => {
    const rules = loadRules(write('escaped-ok.yaml', rule('t.escok', "    patterns: ['\\x41BC', '[\\x00-\\x1f]{3}z', '\\x{e9}t\\x{e9}']\n")), { defaultRules: false })
    expect(fires(rules, 'ABC')).toBe(true)
    expect(fires(rules, 'été')).toBe(true)
  })

  it('a file that disables an id and defines it keeps its own rule, whatever the key order', () => {
    for (const [name, yaml] of [
      ['disable-first.yaml', `disable: [secrets.bearer-token]\n${rule('secrets.bearer-token', "    patterns: ['\\bmybearer\\b']\n")}`],
      ['disable-last.yaml', `${rule('secrets.bearer-token', "    patterns: ['\\bmybearer\\b']\n")}disable: [secrets.bearer-token]\n`],
    ]) {
      const rules = loadRules(write(name, yaml))
      expect(rules.rules.filter((r) => r.id === 'secrets.bearer-token').map((r) => r.patterns), name).toEqual([['\\bmybearer\\b']])
      expect(fires(rules, 'a mybearer here')).toBe(true)
    }
  })

  it('rules lint warns about a disable id that names no rule; loading stays silent', async () => {
    const file = write('typo.yaml', 'disable: [pii.emial, pii.email]\n')
    const { code, err } = await run('lint', file)
    expect(code).toBe(0)
    expect(err).toContain(`warning: ${file}:1 (rule pii.emial): \`disable\` names no rule`)
    expect(err).not.toContain('(rule pii.email)')
    expect(lintRules([file]).warnings.map((w) => w.ruleId)).toEqual(['pii.emial'])
    expect(loadRules(file).size).toBe(loadRules().size - 1)
  })

  it('rules lint warns about a rule that replaces one of the same id, from the packs or an earlier file; loading stays silent', async () => {
    const mine = (id: string) => `rules:\n  - id: ${id}\n    severity: suspicious\n    targets: [user]\n    keywords: [mine]\n`
    const first = write('replaces-pack.yaml', mine('secrets.bearer-token'))
    const second = write('replaces-first.yaml', mine('secrets.bearer-token'))
    const { code, err } = await run('lint', first, second)
    expect(code).toBe(0)
    expect(err).toContain(`warning: ${first}:2 (rule secrets.bearer-token): replaces the rule of the same id from the built-in packs (give this one an id of its own to keep both)`)
    expect(err).toContain(`warning: ${second}:2 (rule secrets.bearer-token): replaces the rule of the same id from ${first}:2`)
    const pack = loadRules().rules.find((r) => r.id === 'secrets.bearer-token')!
    expect(lintRules([first]).warnings.map((w) => w.message)).toEqual([
      `${first}:2 (rule secrets.bearer-token): replaces the rule of the same id from ${pack.file}:${pack.line} (give this one an id of its own to keep both)`,
    ])
    expect(lintRules([write('own-id.yaml', mine('acme.own-id'))]).warnings).toEqual([])
    // Turned off, then written anew in the same file: on purpose, no warning.
    expect(lintRules([write('disable-then-redefine.yaml', `disable: [secrets.bearer-token]\n${mine('secrets.bearer-token')}`)]).warnings).toEqual([])
    expect(loadRules(first).rules.find((r) => r.id === 'secrets.bearer-token')!.file).toBe(first)
  })

  it('hidden files in a folder (editor lock files) are left out', () => {
    const folder = join(dir, 'with-lock')
    mkdirSync(folder)
    write('with-lock/a.yaml', rule('t.a', "    patterns: ['abc']\n"))
    symlinkSync('user@host.1234:1700000000', join(folder, '.#a.yaml'))
    write('with-lock/.backup.yaml', 'not: [valid')
    expect(loadRules(folder, { defaultRules: false }).rules.map((r) => r.id)).toEqual(['t.a'])
  })

  it('a YAML alias is rejected with a message that says so', () => {
    const e = loadError('alias.yaml', "rules:\n  - &r\n    id: t.a\n    severity: suspicious\n    targets: [user]\n    patterns: [foo]\n  - *r\n")
    expect(e.line).toBe(7)
    expect(e.message).toMatch(/YAML aliases \(`\*r`\) are not supported/)
  })

  it('a duplicate key names the rule it is in', () => {
    const e = loadError('dupkey.yaml', "rules:\n  - id: t.a\n    severity: suspicious\n    targets: [user]\n    patterns: [foo]\n    targets: [user]\n")
    expect(e.line).toBe(6)
    expect(e.ruleId).toBe('t.a')
    expect(e.message).toMatch(/Map keys must be unique/)
  })
})
