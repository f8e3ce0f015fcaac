/**
 * Reads one YAML rule file and validates it field by field. Every error is a `RuleError` naming the
 * file, the line and (once known) the rule id. Internal to the rule engine.
 */
import { readFileSync } from 'node:fs'
import RE2 from 're2'
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLError, type YAMLMap, type YAMLSeq } from 'yaml'
import { RuleError } from '../errors.js'
import { TARGETS, type Severity, type Target } from '../types.js'
import { checkCompiles, checkSource, keywordSource, patternSource, withEscapesDecoded } from './compile.js'
import { firstChanged, normalizeLiteral } from './normalize.js'
import { VALIDATORS, type ValidatorName } from './validators.js'

/** One rule, as loaded from a file. */
export interface Rule {
  /** Unique, dotted namespace (`prompt-injection.ignore-previous`). */
  id: string
  description: string
  severity: Severity
  /** Where the rule applies. */
  targets: Target[]
  tags: string[]
  /** Matches are masked by `RuleSet.redact()` and in excerpts. */
  redact: boolean
  /** The file the rule was read from, and the line of its entry. */
  file: string
  line: number
  /** RE2 patterns, as written. */
  patterns: string[]
  /** Literal phrases, whole-word, case-insensitive. */
  keywords: string[]
  /** Patterns are case-insensitive unless this is true. */
  caseSensitive: boolean
  /** Match on the normalised text (default) or on the raw text (rules that look for invisible characters). */
  normalize: boolean
  /** A check run on each match after the RE2 pass. */
  validate?: ValidatorName
  tests: { match: string[]; no_match: string[] }
  /** The line of each text of `tests`, in the same order. */
  testLines: { match: number[]; no_match: number[] }
  /** The RE2 source of the whole rule: its patterns and keywords as one alternation. */
  source: string
}

export interface RuleFile {
  rules: Rule[]
  /** Ids of rules of earlier files to turn off, with the line of each. */
  disable: { id: string; line?: number }[]
}

const RULE_FIELDS = new Set([
  'id', 'description', 'severity', 'targets', 'patterns', 'keywords', 'redact', 'tags', 'tests',
  'validate', 'case_sensitive', 'normalize',
])
const SEVERITIES: readonly Severity[] = ['suspicious', 'dangerous']
const ID = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/

/**
 * Parses and validates one rule file. Throws `RuleError` on the first problem, or, given `problems`,
 * adds every problem found to it and goes on (see `parseRuleFile`).
 */
export function readRuleFile(file: string, problems?: RuleError[]): RuleFile {
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (error) {
    return giveUp(new RuleError(`cannot read the file: ${(error as Error).message}`, file), problems)
  }
  const utf16 = utf16Sign(bytes)
  if (utf16) return giveUp(new RuleError(`the file is not UTF-8: UTF-16 detected (${utf16}); save it as UTF-8`, file, 1), problems)
  // Decoded as it is, a byte that is not UTF-8 (Latin-1 `café`) becomes U+FFFD and a keyword loses a letter.
  const text = bytes.toString('utf8')
  const bad = firstInvalidByte(bytes, text)
  if (bad) {
    const lineCounter = new LineCounter()
    const doc = parseDocument(text, { lineCounter })
    const { line, col } = lineCounter.linePos(bad.index)
    const message = `the file is not UTF-8: byte 0x${bad.byte.toString(16).toUpperCase()} at column ${col} (Latin-1 or Windows-1252?); save it as UTF-8`
    return giveUp(new RuleError(message, file, line, ruleIdAt(doc, lineCounter, bad.index)), problems)
  }
  return parseRuleFile(text, file, problems)
}

/** What shows a file is UTF-16: its byte order mark, or a NUL among its first two bytes (ASCII text without one). */
function utf16Sign(bytes: Buffer): string | undefined {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return `byte order mark ${bytes[0] === 0xff ? 'FF FE' : 'FE FF'}`
  }
  if (bytes.length >= 2 && (bytes[0] === 0 || bytes[1] === 0)) return 'NUL bytes between the characters'
  return undefined
}

/**
 * The first byte of `bytes` that is not valid UTF-8, and the index in `text` (the bytes decoded) of the
 * U+FFFD that stands for it. A U+FFFD written in the file (bytes EF BF BD) is valid and passed over.
 */
function firstInvalidByte(bytes: Buffer, text: string): { index: number; byte: number } | undefined {
  let offset = 0
  let counted = 0
  for (let i = text.indexOf('\uFFFD'); i !== -1; i = text.indexOf('\uFFFD', i + 1)) {
    offset += Buffer.byteLength(text.slice(counted, i))
    counted = i
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return { index: i, byte: bytes[offset]! }
  }
  return undefined
}

/** Throws `error`, or with `problems` records it and returns a file that changes nothing. */
function giveUp(error: RuleError, problems: RuleError[] | undefined): RuleFile {
  if (!problems) throw error
  problems.push(error)
  return { rules: [], disable: [] }
}

/**
 * Parses and validates the YAML text of a rule file (`file` names it in errors). Throws `RuleError` on
 * the first problem. Given `problems` (a lint run), it records each problem there instead and goes on:
 * every YAML syntax error, then one problem per bad rule (the first found in it; the rule is left out)
 * and per bad top-level field; the rules that are valid are returned.
 */
export function parseRuleFile(text: string, file: string, problems?: RuleError[]): RuleFile {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  const lineOf = (node: Node | null | undefined): number | undefined =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined
  const fail = (message: string, node?: Node | null, ruleId?: string): never => {
    throw new RuleError(message, file, lineOf(node), ruleId)
  }
  /** Runs one independent part of the file: its problem is thrown, or recorded and the part skipped. */
  const part = (check: () => void): void => {
    try {
      check()
    } catch (error) {
      if (!problems || !(error instanceof RuleError)) throw error
      problems.push(error)
    }
  }

  if (doc.errors.length > 0) {
    let opened: Map<number, number> | undefined
    // In file order: the first error is most often the cause of those after it.
    const [first, ...rest] = doc.errors
      .map((e) => ({ e, pos: errorStart(e, (opened ??= openedAt(doc))) }))
      .sort((a, b) => a.pos - b.pos)
      .map(({ e, pos }) => new RuleError(`YAML error: ${e.message.split('\n')[0]}`, file, lineCounter.linePos(pos).line, ruleIdAt(doc, lineCounter, pos)))
    const read = giveUp(first!, problems) // throws unless `problems` is given
    problems!.push(...rest)
    return read
  }
  // Aliases (`*name`) and merge keys would let one entry stand for another: rule files are written out.
  let alias: Node | undefined
  visit(doc, {
    Alias(_, node) {
      alias = node
      return visit.BREAK
    },
  })
  if (alias) {
    const name = isAlias(alias) ? alias.source : ''
    return giveUp(
      new RuleError(`YAML aliases (\`*${name}\`) are not supported in rule files: write the rule or value out in full`, file, lineOf(alias), ruleIdAt(doc, lineCounter, alias.range?.[0] ?? -1)),
      problems,
    )
  }

  const result: RuleFile = { rules: [], disable: [] }
  const root = doc.contents
  part(() => {
    // An empty file (or one of comments only) is a mistake, not a rule file that changes nothing.
    if (root === null || (isScalar(root) && root.value === null)) return fail('no rules in this file (expected `rules` and/or `disable`)')
    if (!isMap(root)) return fail('expected a mapping with `rules` and/or `disable`', root)
    if (root.items.length === 0) return fail('no rules in this file (expected `rules` and/or `disable`)')

    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      const value = pair.value as Node | null
      if (key === 'rules') {
        part(() => {
          if (!isSeq(value)) return fail('`rules` must be a list of rules', value ?? (pair.key as Node))
          const seen = new Map<string, number | undefined>()
          for (const item of value.items as Node[]) {
            part(() => {
              const rule = readRule(item, file, lineOf, fail)
              if (seen.has(rule.id)) fail(`duplicate rule id (first defined on line ${seen.get(rule.id)})`, item, rule.id)
              seen.set(rule.id, rule.line)
              result.rules.push(rule)
            })
          }
        })
      } else if (key === 'disable') {
        part(() => {
          const ids = stringList(value, 'disable', fail)
          result.disable = ids.map((id, i) => ({ id, line: isSeq(value) ? lineOf(value.items[i] as Node) : lineOf(value) }))
        })
      } else {
        part(() => fail(`unknown top-level field \`${key}\` (expected \`rules\` or \`disable\`)`, pair.key as Node))
      }
    }
  })
  return result
}

type Fail = (message: string, node?: Node | null, ruleId?: string) => never

/**
 * Where a YAML error is best reported. An unclosed quote or bracket swallows the text after it, and the
 * parser reports it where that text ends (often the end of the file); the quoted scalar or flow
 * collection it left open ends there too in the partly parsed document, and is reported where it opens
 * (the innermost one: an unclosed quote inside a list is the quote's fault).
 */
function errorStart(error: YAMLError, opened: Map<number, number>): number {
  const start = error.pos[0]
  if (error.code !== 'MISSING_CHAR' && error.code !== 'BAD_INDENT') return start
  return opened.get(start) ?? start
}

/**
 * Where each quoted scalar and flow collection of `doc` starts, by where it ends (the innermost wins):
 * found in one walk for all of a file's errors, not one walk per error (a file of 10,000 broken entries).
 */
function openedAt(doc: Document): Map<number, number> {
  const opened = new Map<number, number>()
  visit(doc, (_, node) => {
    const open = (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) || (isCollection(node) && node.flow)
    if (open && node.range) opened.set(node.range[1], node.range[0])
  })
  return opened
}

/**
 * The id of the rule entry offset `pos` lies in, when it has one: the last entry that starts on the
 * line of `pos` or before it (an entry's first line includes its `- ` and indentation), unless `pos` is
 * past its end.
 */
function ruleIdAt(doc: Document, lineCounter: LineCounter, pos: number): string | undefined {
  const root = doc.contents
  if (!isMap(root)) return undefined
  const rules = root.items.find((pair) => isScalar(pair.key) && pair.key.value === 'rules')?.value
  if (!isSeq(rules)) return undefined
  // The entries are in file order: the last one starting before the next line is found by bisection.
  const nextLine = lineCounter.lineStarts[lineCounter.linePos(pos).line] ?? Infinity
  const items = rules.items as Node[]
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((items[mid]!.range?.[0] ?? Infinity) < nextLine) lo = mid + 1
    else hi = mid
  }
  const item = items[lo - 1]
  if (!isMap(item) || pos > item.range![2]) return undefined
  const id = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'id')?.value
  return isScalar(id) && typeof id.value === 'string' ? id.value : undefined
}

function stringList(node: Node | null, field: string, fail: Fail, ruleId?: string): string[] {
  if (!isSeq(node)) return fail(`\`${field}\` must be a list of strings`, node, ruleId)
  return (node.items as Node[]).map((item) => {
    if (!isScalar(item) || typeof item.value !== 'string') return fail(`\`${field}\` must hold only strings`, item, ruleId)
    return item.value
  })
}

function readRule(node: Node, file: string, lineOf: (n: Node | null | undefined) => number | undefined, fail: Fail): Rule {
  if (!isMap(node)) return fail('each rule must be a mapping', node)
  const map = node as YAMLMap<Node, Node | null>
  const fields = new Map<string, { key: Node; value: Node | null }>()
  for (const pair of map.items) fields.set(isScalar(pair.key) ? String(pair.key.value) : '', { key: pair.key, value: pair.value })

  const idField = fields.get('id')
  if (!idField) return fail('a rule needs an `id`', node)
  if (!isScalar(idField.value) || typeof idField.value.value !== 'string') return fail('`id` must be a string', idField.value ?? idField.key)
  const id = idField.value.value
  if (!ID.test(id)) fail('`id` must be lower-case words separated by dots (e.g. `secrets.aws-access-key`)', idField.value, id)

  for (const [name, { key }] of fields) {
    if (!RULE_FIELDS.has(name)) fail(`unknown field \`${name}\` (expected one of ${[...RULE_FIELDS].join(', ')})`, key, id)
  }
  const scalar = <T extends 'string' | 'boolean'>(name: string, type: T): (T extends 'string' ? string : boolean) | undefined => {
    const field = fields.get(name)
    if (!field) return undefined
    if (!isScalar(field.value) || typeof field.value.value !== type) return fail(`\`${name}\` must be a ${type}`, field.value ?? field.key, id)
    return field.value.value as T extends 'string' ? string : boolean
  }
  const list = (name: string): string[] => {
    const field = fields.get(name)
    return field ? stringList(field.value, name, fail, id) : []
  }

  const severity = scalar('severity', 'string')
  if (severity === undefined) fail('a rule needs a `severity` (suspicious or dangerous)', node, id)
  if (!SEVERITIES.includes(severity as Severity)) fail(`unknown severity \`${severity}\` (expected suspicious or dangerous)`, fields.get('severity')!.value, id)

  const targetsField = fields.get('targets')
  if (!targetsField) fail(`a rule needs \`targets\` (any of ${TARGETS.join(', ')})`, node, id)
  const targets = list('targets')
  if (targets.length === 0) fail('`targets` must not be empty', targetsField!.value, id)
  targets.forEach((target, i) => {
    if (!TARGETS.includes(target as Target)) {
      fail(`unknown target \`${target}\` (expected any of ${TARGETS.join(', ')})`, isSeq(targetsField!.value) ? (targetsField!.value.items[i] as Node) : targetsField!.value, id)
    }
  })

  const validate = scalar('validate', 'string')
  if (validate !== undefined && !(validate in VALIDATORS)) {
    fail(`unknown validator \`${validate}\` (expected one of ${Object.keys(VALIDATORS).join(', ')})`, fields.get('validate')!.value, id)
  }

  const caseSensitive = scalar('case_sensitive', 'boolean') ?? false
  const normalize = scalar('normalize', 'boolean') ?? true
  const sources: string[] = []
  const checkItems = (name: 'patterns' | 'keywords', toSource: (s: string) => string): string[] => {
    const items = list(name)
    const nodes = fields.get(name)?.value
    const what = name === 'patterns' ? 'pattern' : 'keyword'
    items.forEach((item, i) => {
      const itemNode = isSeq(nodes) ? (nodes.items[i] as Node) : nodes
      if (item.trim() === '') fail(`${what} ${i + 1} is empty`, itemNode, id)
      if (name === 'patterns') {
        // As written first: the rule's own wrapper `(?i:…)` would hide an unbalanced `a)|(b`.
        const problem = checkCompiles(item)
        if (problem) fail(`${what} ${JSON.stringify(item)}: ${problem}`, itemNode, id)
        // Text is matched normalised, so such characters in a pattern could never match.
        const changed = normalize ? firstChanged(withEscapesDecoded(item)) : undefined
        if (changed !== undefined) {
          fail(`${what} ${JSON.stringify(item)}: ${JSON.stringify(changed)} never occurs in the normalised text the rule is matched against: write ${JSON.stringify(normalizeLiteral(changed))} (or set \`normalize: false\`)`, itemNode, id)
        }
      }
      const source = toSource(item)
      const problem = checkSource(source)
      if (problem) fail(`${what} ${JSON.stringify(item)}: ${problem}`, itemNode, id)
      sources.push(source)
    })
    return items
  }
  const patterns = checkItems('patterns', (p) => patternSource(p, caseSensitive))
  // A keyword is literal: it is normalised as the text is (`ﬁle` → `file`, decomposed → composed).
  const redact = scalar('redact', 'boolean') ?? false
  const keywords = checkItems('keywords', (k) => `(?i:${keywordSource(normalize ? normalizeLiteral(k) : k, redact)})`)
  if (sources.length === 0) fail('a rule needs at least one entry in `patterns` or `keywords`', node, id)
  const source = sources.join('|')
  // Patterns that compile one by one can still be too large together, or in the set the rule joins.
  try {
    new RE2.Set([source], 'u')
  } catch (error) {
    fail(`its patterns and keywords together are too large for RE2 (${(error as Error).message}): split the rule or shorten its patterns`, node, id)
  }

  const tests = { match: [] as string[], no_match: [] as string[] }
  const testLines = { match: [] as number[], no_match: [] as number[] }
  const testsField = fields.get('tests')
  if (testsField) {
    if (!isMap(testsField.value)) fail('`tests` must be a mapping with `match` and/or `no_match`', testsField.value ?? testsField.key, id)
    for (const pair of (testsField.value as YAMLMap<Node, Node | null>).items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : ''
      if (name !== 'match' && name !== 'no_match') fail(`unknown field \`tests.${name}\` (expected match, no_match)`, pair.key, id)
      tests[name as 'match' | 'no_match'] = stringList(pair.value, `tests.${name}`, fail, id)
      testLines[name as 'match' | 'no_match'] = (pair.value as YAMLSeq<Node>).items.map((item) => lineOf(item) ?? 0)
    }
  }

  return {
    id,
    description: scalar('description', 'string') ?? '',
    severity: severity as Severity,
    targets: targets as Target[],
    tags: list('tags'),
    redact,
    file,
    line: lineOf(node) ?? 0,
    patterns,
    keywords,
    caseSensitive,
    normalize,
    validate: validate as ValidatorName | undefined,
    tests,
    testLines,
    source,
  }
}
