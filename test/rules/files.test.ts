/**
 * Reading rule files, and saying where they are wrong:
 * - a YAML syntax error names its line and the rule it lies in (an unclosed quote or bracket: the line
 *   where it opens);
 * - a file that is not UTF-8 is refused at its first bad byte;
 * - the sub-folders of a folder are left out, and rules lint says so;
 * - a failing rule test names its line.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RuleError } from '../../src/errors.js'
import { lintRules, loadRules } from '../../src/rules/index.js'
import { ruleDir, runRulesCli } from './helpers.js'

const { dir, write } = ruleDir()

/** The RuleError that loading `file` raises. */
function loadError(file: string): RuleError {
  try {
    loadRules(file, { defaultRules: false })
  } catch (error) {
    expect(error).toBeInstanceOf(RuleError)
    expect((error as RuleError).code).toBe('RULE_INVALID')
    return error as RuleError
  }
  throw new Error(`${file} loaded without an error`)
}

const where = (e: RuleError) => ({ message: e.message, file: e.file, line: e.line, ruleId: e.ruleId })

describe('a YAML syntax error names the line where the problem is and the rule it lies in', () => {
  const rule = (id: string, last: string) => `  - id: ${id}\n    severity: suspicious\n    targets: [user]\n${last}`

  it('an unclosed quote, reported by the parser at the end of the file, is reported where it opens', () => {
    const file = write('quote.yaml', `rules:\n${rule('b.one', '    keywords: [foo]\n')}${rule('b.two', '    keywords: ["unclosed]\n')}${rule('b.three', '    keywords: [baz]\n')}`)
    expect(where(loadError(file))).toEqual({ message: `${file}:9 (rule b.two): YAML error: Missing closing "quote`, file, line: 9, ruleId: 'b.two' })
    expect(lintRules([file], { defaultRules: false }).problems.map((p) => p.message)).toEqual([
      `${file}:9 (rule b.two): YAML error: Missing closing "quote`,
      `${file}:9 (rule b.two): YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ])
  })

  it('a quote left open inside a list over several lines is reported at the quote', () => {
    const file = write('quote-in-list.yaml', `rules:\n${rule('m.one', '    keywords: [\n      "fine",\n      "left open\n      ]\n')}${rule('m.two', '    keywords: [x]\n')}`)
    expect(where(loadError(file))).toEqual({ message: `${file}:7 (rule m.one): YAML error: Missing closing "quote`, file, line: 7, ruleId: 'm.one' })
  })

  it('an unclosed bracket is reported where it opens, before the errors it causes below', () => {
    const file = write('bracket.yaml', `rules:\n${rule('c.one', '    patterns: [foo\n')}${rule('c.two', '    keywords: [x]\n')}`)
    const flow = 'YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]'
    expect(where(loadError(file))).toEqual({ message: `${file}:5 (rule c.one): ${flow}`, file, line: 5, ruleId: 'c.one' })
    expect(lintRules([file], { defaultRules: false }).problems.map((p) => [p.line, p.ruleId])).toEqual([
      [5, 'c.one'],
      [6, undefined],
      [6, undefined],
      [7, undefined],
      [7, undefined],
    ])
  })

  it('a file cut off inside a bracket, and a tab as indentation, name their line and rule', () => {
    const cut = write('cut.yaml', 'rules:\n  - id: a.tr\n    severity: suspicious\n    targets: [user\n')
    expect(where(loadError(cut))).toEqual({ message: `${cut}:4 (rule a.tr): YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]`, file: cut, line: 4, ruleId: 'a.tr' })
    const tab = write('tab.yaml', 'rules:\n\t- id: a.tab\n')
    expect(where(loadError(tab))).toEqual({ message: `${tab}:2 (rule a.tab): YAML error: Tabs are not allowed as indentation`, file: tab, line: 2, ruleId: 'a.tab' })
  })

  it('an error after the rules is in no rule', () => {
    const file = write('disable-open.yaml', `rules:\n${rule('a.one', '    keywords: [x]\n')}disable: [a.two\n`)
    expect(where(loadError(file))).toEqual({
      message: `${file}:6: YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      file,
      line: 6,
      ruleId: undefined,
    })
  })

  it('rules lint prints them so', () => {
    const file = write('cut-cli.yaml', 'rules:\n  - id: a.tr\n    severity: suspicious\n    targets: [user\n')
    expect(runRulesCli('lint', file)).toEqual({
      code: 1,
      out: '',
      err: `${file}:4 (rule a.tr): YAML error: Flow sequence in block collection must be sufficiently indented and end with a ]\n1 problem in 1 file\n`,
    })
  })
})

describe('a rule file with thousands of YAML errors', () => {
  // One walk of the document for all errors, and the entry of each found by bisection: 16,000 broken
  // entries took 40 s (an error times an entry) and take about 2 s. The bound leaves room for a busy machine.
  it('is read in time linear in its size, each error still naming its line and rule', () => {
    const entry = (i: number) => `  - id: t.r${i}\n    severity: suspicious\n     targets: [user]\n    patterns: ['foo${i}bar']\n`
    const file = write('many-errors.yaml', `rules:\n${Array.from({ length: 16_000 }, (_, i) => entry(i)).join('')}`)
    const started = performance.now()
    const { problems } = lintRules([file], { defaultRules: false })
    expect(performance.now() - started).toBeLessThan(20_000)
    expect(problems.length).toBeGreaterThanOrEqual(16_000)
    expect(problems[0]).toMatchObject({ line: 3, ruleId: 't.r0' })
    expect(problems.at(-1)).toMatchObject({ ruleId: 't.r15999' })
  }, 60_000)
})

describe('a rule file that is not UTF-8 is refused', () => {
  const oneRule = 'rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    keywords: ["cat"]\n'
  // Saved in Latin-1: é is the single byte E9, which UTF-8 decoding turned into U+FFFD (`café` became `caf`).
  const latin1 = write('latin1.yaml', Buffer.from('rules:\n  - id: a.latin\n    severity: suspicious\n    targets: [user]\n    keywords: ["caf\xe9"]\n', 'latin1'))
  const latin1Error = `${latin1}:5 (rule a.latin): the file is not UTF-8: byte 0xE9 at column 20 (Latin-1 or Windows-1252?); save it as UTF-8`

  it('loadRules names the file, the line, the column and the byte, and the rule it lies in', () => {
    expect(where(loadError(latin1))).toEqual({ message: latin1Error, file: latin1, line: 5, ruleId: 'a.latin' })
  })

  it('the first bad byte is found past a U+FFFD written in the file and past multi-byte characters', () => {
    const before = 'rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    description: "� is fine, and ça too"\n    keywords: [x]\n  - id: a.two\n    severity: suspicious\n    targets: [user]\n    description: "ça va '
    const file = write('cp1252.yaml', Buffer.concat([Buffer.from(before), Buffer.from([0x92]), Buffer.from('s quote"\n    keywords: [y]\n')]))
    expect(where(loadError(file))).toEqual({
      message: `${file}:10 (rule a.two): the file is not UTF-8: byte 0x92 at column 25 (Latin-1 or Windows-1252?); save it as UTF-8`,
      file,
      line: 10,
      ruleId: 'a.two',
    })
    const valid = write('replacement-char.yaml', 'rules:\n  - id: a.one\n    severity: suspicious\n    targets: [user]\n    description: "� is a character too"\n    keywords: [x]\n')
    expect(loadRules(valid, { defaultRules: false }).size).toBe(1)
  })

  it.each([
    ['UTF-16 LE with a byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(oneRule, 'utf16le')]), 'byte order mark FF FE'],
    ['UTF-16 BE with a byte order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(oneRule, 'utf16le').swap16()]), 'byte order mark FE FF'],
    ['UTF-16 LE without one', Buffer.from(oneRule, 'utf16le'), 'NUL bytes between the characters'],
    ['UTF-16 BE without one', Buffer.from(oneRule, 'utf16le').swap16(), 'NUL bytes between the characters'],
  ])('%s is named as UTF-16', (name, bytes, sign) => {
    const file = write(`${name.replaceAll(' ', '-')}.yaml`, bytes)
    expect(where(loadError(file))).toEqual({
      message: `${file}:1: the file is not UTF-8: UTF-16 detected (${sign}); save it as UTF-8`,
      file,
      line: 1,
      ruleId: undefined,
    })
  })

  it('a UTF-8 byte order mark is still accepted', () => {
    const rules = loadRules(write('utf8-bom.yaml', `\uFEFF${oneRule}`), { defaultRules: false })
    expect(rules.scan('a cat', { target: 'user' }).matches.map((m) => m.rule_id)).toEqual(['a.one'])
  })

  it('rules lint, check and test exit 1 with the error, and check does not run', () => {
    expect(runRulesCli('lint', latin1)).toEqual({ code: 1, out: '', err: `${latin1Error}\n1 problem in 1 file\n` })
    expect(runRulesCli('check', '--rules', latin1, 'the caf is open')).toEqual({ code: 1, out: '', err: `${latin1Error}\n` })
    expect(runRulesCli('test', latin1)).toEqual({ code: 1, out: '', err: `${latin1Error}\n` })
  })
})

describe('sub-folders of a rules folder are not read, and rules lint says so', () => {
  const folder = join(dir, 'nested')
  for (const sub of ['team', 'deeper/more', 'notes', '.git']) mkdirSync(join(folder, sub), { recursive: true })
  write('nested/a.yaml', 'rules:\n  - id: s.top\n    severity: suspicious\n    targets: [user]\n    keywords: [top]\n')
  write('nested/team/b.yaml', 'rules:\n  - id: s.team\n    severity: suspicious\n    targets: [user]\n    keywords: [team]\n')
  write('nested/deeper/more/c.yml', 'rules: [oops\n')
  write('nested/notes/README.md', 'notes\n')
  write('nested/.git/config.yaml', 'not: [rules\n')
  const warning = 'sub-folder not read: the rule files in it are not loaded (give it as a path of its own)'

  it('loadRules reads the folder’s own files only', () => {
    expect(loadRules(folder, { defaultRules: false }).rules.map((r) => r.id)).toEqual(['s.top'])
  })

  it('rules lint warns about each sub-folder holding YAML files, not hidden ones or others', () => {
    expect(runRulesCli('lint', folder)).toEqual({
      code: 0,
      out: 'ok: 1 rule in 1 file\n',
      err: `warning: ${folder}/deeper: ${warning}\nwarning: ${folder}/team: ${warning}\n`,
    })
  })

  it('a sub-folder named like a rule file (archive.yaml/) is a sub-folder: not read, and lint says so', () => {
    const named = join(dir, 'folder-named-yaml')
    mkdirSync(join(named, 'archive.yaml'), { recursive: true })
    write('folder-named-yaml/a.yaml', 'rules:\n  - id: s.own\n    severity: suspicious\n    targets: [user]\n    keywords: [own]\n')
    write('folder-named-yaml/archive.yaml/old.yaml', 'rules:\n  - id: s.old\n    severity: suspicious\n    targets: [user]\n    keywords: [old]\n')
    expect(loadRules(named, { defaultRules: false }).rules.map((r) => r.id)).toEqual(['s.own'])
    expect(runRulesCli('lint', named)).toEqual({ code: 0, out: 'ok: 1 rule in 1 file\n', err: `warning: ${named}/archive.yaml: ${warning}\n` })
  })

  it('a folder whose rule files are all in sub-folders is an error, with the warning saying why', () => {
    const empty = join(dir, 'only-subfolders')
    mkdirSync(join(empty, 'team'), { recursive: true })
    write('only-subfolders/team/b.yaml', 'rules: []\n')
    expect(runRulesCli('lint', empty)).toEqual({
      code: 1,
      out: '',
      err: `warning: ${empty}/team: ${warning}\n${empty}: no .yaml/.yml rule files in this folder\n1 problem in 1 file\n`,
    })
  })
})

describe('rules test names the line of each failing test', () => {
  const file = write(
    'test-lines.yaml',
    'rules:\n  - id: t.lines\n    severity: suspicious\n    targets: [user]\n    keywords: [secret]\n    tests:\n      match:\n        - a secret\n        - nothing here\n      no_match: [fine, "a secret again"]\n',
  )

  it('in the FAIL lines and in --json', () => {
    expect(runRulesCli('test', file)).toEqual({
      code: 1,
      out: `FAIL t.lines (${file}:9): should match "nothing here"\nFAIL t.lines (${file}:10): should not match "a secret again"\n1 rule, 4 tests, 2 failed\n`,
      err: '',
    })
    const json = runRulesCli('test', file, '--json')
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out).failures).toEqual([
      { rule_id: 't.lines', file, line: 9, expected: 'match', text: 'nothing here' },
      { rule_id: 't.lines', file, line: 10, expected: 'no_match', text: 'a secret again' },
    ])
  })
})
