/**
 * A compiled rule set: every rule of a target in RE2 sets, matched in one pass over the text.
 * Only the rules a set reports are run on their own, to find the excerpt and run validators.
 */
import RE2 from 're2'
import type { Alert, RuleMatch, RuleSetLike, ScanResult, Target } from '../types.js'
import { TARGETS } from '../types.js'
import { isAscii, normalizeText } from './normalize.js'
import type { Rule } from './schema.js'
import { VALIDATORS } from './validators.js'

type RE2Set = InstanceType<typeof RE2.Set>

/** A rule with its own global RE2, for excerpts, validators and redaction. */
interface CompiledRule {
  rule: Rule
  regex: RE2
  validate?: (match: string) => boolean
}

/**
 * Rules in one or more RE2 sets. A set that RE2 cannot build (too large) is split in two; a set that
 * runs out of memory while matching falls back to its rules one by one, so a scan never misses.
 */
class RuleGroup {
  private readonly sets: { set: RE2Set; rules: CompiledRule[] }[] = []

  constructor(rules: CompiledRule[]) {
    this.add(rules)
  }

  private add(rules: CompiledRule[]): void {
    if (rules.length === 0) return
    try {
      this.sets.push({ set: new RE2.Set(rules.map((r) => r.rule.source), 'u'), rules })
    } catch (error) {
      if (rules.length === 1) throw error
      const half = rules.length >> 1
      this.add(rules.slice(0, half))
      this.add(rules.slice(half))
    }
  }

  get empty(): boolean {
    return this.sets.length === 0
  }

  /** The rules whose patterns occur in `text`. */
  candidates(text: string): CompiledRule[] {
    const found: CompiledRule[] = []
    for (const { set, rules } of this.sets) {
      let indices: number[]
      try {
        indices = set.match(text)
      } catch {
        indices = rules.flatMap((r, i) => (r.regex.test(text) ? [i] : []))
        for (const r of rules) r.regex.lastIndex = 0
      }
      for (const i of indices) found.push(rules[i])
    }
    return found
  }

  test(text: string): boolean {
    return this.sets.some(({ set }) => set.test(text))
  }
}

/** The sets serving one target: all rules for ASCII text; normalised and raw rules apart otherwise. */
interface TargetPlan {
  all: RuleGroup
  normalized: RuleGroup
  raw: RuleGroup
}

const EXCERPT_CONTEXT = 24
const EXCERPT_MAX = 80
const NO_MATCHES: ScanResult = Object.freeze({ alert: 'none', matches: Object.freeze([]) as unknown as RuleMatch[] }) as ScanResult

/** Masks a secret for display: its first four characters, then `…[REDACTED]`. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, Math.min(4, secret.length >> 1))}…[REDACTED]`
}

/**
 * A compiled rule set, from `loadRules()`.
 *
 * @example
 * const rules = loadRules()
 * rules.scan('Ignore all previous instructions', { target: 'user' })
 * // → { alert: 'suspicious', matches: [{ rule_id: 'prompt-injection.ignore-previous', … }] }
 */
export class RuleSet implements RuleSetLike {
  /** The active rules, in load order. */
  readonly rules: readonly Rule[]
  private readonly plans = new Map<Target, TargetPlan>()
  private readonly redactors: RuleGroup

  constructor(rules: readonly Rule[]) {
    this.rules = Object.freeze([...rules])
    const compiled = this.rules.map((rule): CompiledRule => ({
      rule,
      regex: new RE2(rule.source, 'gu'),
      validate: rule.validate ? VALIDATORS[rule.validate] : undefined,
    }))
    for (const target of TARGETS) {
      const own = compiled.filter((c) => c.rule.targets.includes(target))
      this.plans.set(target, {
        all: new RuleGroup(own),
        normalized: new RuleGroup(own.filter((c) => c.rule.normalize)),
        raw: new RuleGroup(own.filter((c) => !c.rule.normalize)),
      })
    }
    this.redactors = new RuleGroup(compiled.filter((c) => c.rule.redact))
  }

  /** The number of active rules. */
  get size(): number {
    return this.rules.length
  }

  /**
   * Which rules fire on `text` where it appears at `target`. `alert` is the highest severity that fired.
   *
   * @example
   * rules.scan(toolArguments, { target: 'tool_input' }).alert === 'dangerous'
   */
  scan(text: string, options: { target: Target }): ScanResult {
    const plan = this.plans.get(options.target)
    if (!plan) throw new TypeError(`unknown target ${JSON.stringify(options.target)}`)
    if (!text) return NO_MATCHES
    const matches: RuleMatch[] = []
    if (isAscii(text)) {
      this.collect(plan.all, text, options.target, matches)
    } else {
      if (!plan.normalized.empty) this.collect(plan.normalized, normalizeText(text), options.target, matches)
      this.collect(plan.raw, text, options.target, matches)
    }
    if (matches.length === 0) return NO_MATCHES
    const alert: Alert = matches.some((m) => m.severity === 'dangerous') ? 'dangerous' : 'suspicious'
    return { alert, matches }
  }

  /**
   * Masks every match of the rules marked `redact: true` as `[REDACTED:<rule id>]`. Returns `text`
   * itself when nothing matched. The marker needs no JSON escaping, and redact patterns never cut a
   * JSON escape in two, so this may run on a serialised JSON line.
   */
  redact(text: string): string {
    if (this.redactors.empty || !this.redactors.test(text)) return text
    let out = text
    for (const { rule, regex, validate } of this.redactors.candidates(text)) {
      regex.lastIndex = 0
      out = regex.replace(out, (m: string) => (!validate || validate(m) ? `[REDACTED:${rule.id}]` : m))
    }
    return out
  }

  private collect(group: RuleGroup, text: string, target: Target, into: RuleMatch[]): void {
    for (const compiled of group.candidates(text)) {
      const found = firstMatch(compiled, text)
      if (!found) continue
      const { rule } = compiled
      const match: RuleMatch = {
        rule_id: rule.id,
        severity: rule.severity,
        target,
        excerpt: this.excerpt(text, found.index, found.value, rule.redact),
      }
      if (rule.tags.length > 0) match.tags = [...rule.tags]
      into.push(match)
    }
  }

  /** A short, single-line window around the match; the match itself masked for redact rules. */
  private excerpt(text: string, index: number, value: string, redact: boolean): string {
    const shown = redact ? maskSecret(value) : value.length > EXCERPT_MAX ? `${value.slice(0, EXCERPT_MAX - 1)}…` : value
    const room = Math.max(0, (EXCERPT_MAX - shown.length) >> 1)
    const context = Math.min(EXCERPT_CONTEXT, room)
    const start = Math.max(0, index - context)
    const end = Math.min(text.length, index + value.length + context)
    const before = (start > 0 ? '…' : '') + text.slice(start, index)
    const after = text.slice(index + value.length, end) + (end < text.length ? '…' : '')
    // Secrets of other rules in the surrounding window are masked too.
    return this.redact(`${before}${shown}${after}`.replace(/\s+/g, ' '))
  }
}

/** The first match of a rule in `text` that passes its validator. */
function firstMatch({ regex, validate }: CompiledRule, text: string): { index: number; value: string } | undefined {
  regex.lastIndex = 0
  for (let m = regex.exec(text); m; m = regex.exec(text)) {
    if (m[0] === '') regex.lastIndex++
    else if (!validate || validate(m[0])) {
      regex.lastIndex = 0
      return { index: m.index, value: m[0] }
    }
  }
  regex.lastIndex = 0
  return undefined
}
