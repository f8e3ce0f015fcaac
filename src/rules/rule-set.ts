/**
 * A compiled rule set: every rule of a target in RE2 sets, matched in one pass over the text.
 * Only the rules a set reports are run on their own, to find the excerpt and run validators.
 */
import RE2 from 're2'
import { CylestioError, RuleError } from '../errors.js'
import type { Alert, RuleMatch, RuleSetLike, ScanResult, Target } from '../types.js'
import { TARGETS } from '../types.js'
import { hasAnchors, withoutCaptures } from './compile.js'
import { GAP_AS_SPACE, GAP_REMOVED, NOT_PLAIN, normalizedForms, toText, type Edit } from './normalize.js'
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
 * Added to a set of rules, the normaliser's "may change" pattern tells in the same pass over the text
 * whether that pass was enough (most text is plain) or the text must be normalised first, so plain text
 * is read once, not twice.
 */
const NOT_PLAIN_RE = new RE2(NOT_PLAIN, 'u')

/** What one pass of a group found: the rules whose patterns occur, and whether the text is plain. */
interface Candidates {
  rules: CompiledRule[]
  /** No character that normalisation could change (known only for a group made `withPlainCheck`). */
  plain: boolean
}

/**
 * Rules in one or more RE2 sets. A set that RE2 cannot build (too large) is split in two; a set that
 * runs out of memory while matching falls back to its rules one by one, so a scan never misses.
 */
class RuleGroup {
  private readonly sets: { set: RE2Set; rules: CompiledRule[]; plainCheck: boolean }[] = []

  /** `withPlainCheck`: the first set also reports whether the text is plain (see NOT_PLAIN). */
  constructor(rules: CompiledRule[], withPlainCheck = false) {
    this.add(rules, withPlainCheck && rules.length > 0)
  }

  private add(rules: CompiledRule[], plainCheck: boolean): void {
    if (rules.length === 0) return
    try {
      const sources = rules.map((r) => r.rule.source)
      if (plainCheck) sources.push(NOT_PLAIN)
      this.sets.push({ set: new RE2.Set(sources, 'u'), rules, plainCheck })
    } catch (error) {
      if (rules.length > 1) {
        const half = rules.length >> 1
        this.add(rules.slice(0, half), plainCheck)
        this.add(rules.slice(half), false)
      } else if (plainCheck) {
        // The plain-text check in a set of its own (no rules: its index 0 says "not plain").
        this.add(rules, false)
        this.sets.push({ set: new RE2.Set([NOT_PLAIN], 'u'), rules: [], plainCheck: true })
      } else {
        // Loading checks each rule on its own; this is a rule set built from rules made elsewhere.
        const { rule } = rules[0]
        throw new RuleError(`RE2 cannot build a set with this rule (${(error as Error).message}): split the rule or shorten its patterns`, rule.file, rule.line, rule.id)
      }
    }
  }

  get empty(): boolean {
    return this.sets.length === 0
  }

  /** The rules whose patterns occur in `bytes` (UTF-8), in the order given to the constructor. */
  candidates(bytes: Buffer): Candidates {
    const found: CompiledRule[] = []
    let plain = false
    for (const { set, rules, plainCheck } of this.sets) {
      let indices: number[]
      try {
        indices = set.match(bytes)
      } catch {
        indices = rules.flatMap((r, i) => (r.regex.test(bytes) ? [i] : []))
        for (const r of rules) r.regex.lastIndex = 0
        if (plainCheck && NOT_PLAIN_RE.test(bytes)) indices.push(rules.length)
      }
      if (plainCheck) plain = true
      for (const i of indices) {
        if (i === rules.length) plain = false
        else found.push(rules[i])
      }
    }
    return { rules: found, plain }
  }
}

/**
 * The sets serving one target: `all` on the text as written (with the plain-text check), which is the
 * whole scan for text that normalisation leaves as it is; otherwise `normalized` on each normalised form,
 * the rules that read raw text (`normalize: false`) keeping what `all` found for them.
 */
interface TargetPlan {
  all: RuleGroup
  normalized: RuleGroup
  /** Texts found clean before, at a target whose texts recur on every call (see RECURRING). */
  clean?: RecentTexts
}

/**
 * Targets whose texts an agent sends again on every call: its system prompt and its tools' definitions
 * (often kilobytes of JSON schema). A text of theirs found clean is not scanned again; looking it up costs a
 * hash of the text, against a pass of every rule over it. Users' turns, answers and tool results differ
 * from call to call, and are always scanned.
 */
const RECURRING: ReadonlySet<Target> = new Set<Target>(['system', 'tool_definition'])

/** A bounded set of texts: it starts over when it holds too many, or too many characters. */
class RecentTexts {
  private readonly texts = new Set<string>()
  private chars = 0
  constructor(
    private readonly maxTexts = 512,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  has(text: string): boolean {
    return this.texts.has(text)
  }

  add(text: string): void {
    if (text.length > this.maxChars) return
    if (this.texts.size >= this.maxTexts || this.chars + text.length > this.maxChars) {
      this.texts.clear()
      this.chars = 0
    }
    this.texts.add(text)
    this.chars += text.length
  }
}

/** A text as written, for matches found in one of its normalised forms (`gap`: what gaps became there). */
interface WrittenText {
  bytes: Buffer
  edits: Edit[]
  gap: Buffer
}

/** A match of a redaction rule: bytes [start, end) of a text. */
interface Span {
  start: number
  end: number
  id: string
}

const EXCERPT_CONTEXT = 24
/**
 * How far beyond an excerpt's window (in bytes) the redaction rules look for a secret that the window
 * cuts: a secret that starts up to this far outside it is found whole and masked. Only this region is
 * read, not the whole text, so a match in a large text costs little more than in a small one.
 */
const SECRET_REACH = 512
const EXCERPT_MAX = 80
/** Bytes a secret's body is made of (tokens, base64 lines of a key, indented or with escaped newlines), by byte value. */
const SECRET_BODY = new Uint8Array(256)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=._~-\\\n\r \t') SECRET_BODY[c.charCodeAt(0)] = 1
/** How far the region is widened over a secret's body at most: an 8192-bit PEM key is about 6.5 KB. */
const SECRET_LONGEST = 16_384
/** How far before a secret's body its header may start: `-----BEGIN ENCRYPTED PRIVATE KEY-----`, `Bearer `. */
const SECRET_HEADER = 64
const NO_MATCHES: ScanResult = Object.freeze({ alert: 'none', matches: Object.freeze([]) as unknown as RuleMatch[] }) as ScanResult


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
  /** Load order of each rule id, to report matches in that order. */
  private readonly order: Map<string, number>

  constructor(rules: readonly Rule[]) {
    this.rules = Object.freeze([...rules])
    this.order = new Map(this.rules.map((rule, i) => [rule.id, i]))
    const compiled = this.rules.map((rule): CompiledRule => {
      let regex: RE2
      try {
        regex = new RE2(withoutCaptures(rule.source), 'gu')
      } catch (error) {
        throw new RuleError(`RE2 cannot compile the rule (${(error as Error).message})`, rule.file, rule.line, rule.id)
      }
      return { rule, regex, validate: rule.validate ? VALIDATORS[rule.validate] : undefined }
    })
    for (const target of TARGETS) {
      const own = compiled.filter((c) => c.rule.targets.includes(target))
      this.plans.set(target, {
        all: new RuleGroup(own, true),
        normalized: new RuleGroup(own.filter((c) => c.rule.normalize)),
        clean: RECURRING.has(target) ? new RecentTexts() : undefined,
      })
    }
    this.redactors = new RuleGroup(compiled.filter((c) => c.rule.redact), true)
    this.redactJoinable = !compiled.some((c) => c.rule.redact && hasAnchors(c.rule.source))
  }

  /**
   * Whether `redact()` of several texts joined by newlines masks exactly what it masks in each text alone:
   * true unless a redaction rule anchors to the start or end of a text (`^…$`). @internal
   */
  readonly redactJoinable: boolean

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
    const given = (options as { target?: unknown } | undefined)?.target
    const plan = this.plans.get(given as Target)
    if (!plan) {
      throw new CylestioError('SCAN_BAD_INPUT', `scan(text, { target }): ${given === undefined ? 'no target given' : `unknown target ${JSON.stringify(given)}`} (expected one of ${TARGETS.join(', ')})`)
    }
    if (typeof text !== 'string') throw new CylestioError('SCAN_BAD_INPUT', `scan(text, { target }): text must be a string, got ${text === null ? 'null' : typeof text}`)
    if (!text || plan.all.empty) return NO_MATCHES
    const { clean } = plan
    if (clean === undefined) return this.scanText(text, options.target, plan)
    if (clean.has(text)) return NO_MATCHES
    const result = this.scanText(text, options.target, plan)
    if (result === NO_MATCHES) clean.add(text)
    return result
  }

  /** `scan()` of a text that is not empty, at a target that has rules. */
  private scanText(text: string, target: Target, plan: TargetPlan): ScanResult {
    const matches: RuleMatch[] = []
    // RE2 reads UTF-8: the text is converted once, and every set and rule of the scan reads those bytes.
    const bytes = utf8(text, SCAN)
    // One pass of every rule over the text as it is. It is the whole scan when the text is plain, or
    // when normalisation leaves it as it is (accented letters, CJK, emoji).
    const first = plan.all.candidates(bytes)
    const edits: Edit[] = []
    const forms = first.plain ? undefined : normalizedForms(bytes, edits)
    let unsure = false
    if (!forms || forms[0] === bytes) {
      unsure = this.collect(first.rules, bytes, target, matches)
    } else {
      // Every rule on the text as written first (a rule that reads normalised text may match as written
      // and not once normalised: `ｘAKIA…` keeps the key a whole word only as written), then the rules
      // that read normalised text on each form; a rule is reported once.
      const found = new Set<string>()
      unsure = this.collect(first.rules, bytes, target, matches, found)
      const rawMatches = matches.length
      // A match in a form is shown (and its secrets masked) where it lies in the text as written.
      forms.forEach((form, k) => {
        const written: WrittenText = { bytes, edits, gap: k === 0 ? GAP_REMOVED : GAP_AS_SPACE }
        unsure = this.collect(plan.normalized.candidates(form).rules, form, target, matches, found, written) || unsure
      })
      if (matches.length > 1 && (rawMatches > 0 || forms.length > 1)) matches.sort((a, b) => this.order.get(a.rule_id)! - this.order.get(b.rule_id)!)
    }
    if (matches.length === 0) return unsure ? { alert: 'none', matches: [], redactionUnsure: true } : NO_MATCHES
    const alert: Alert = matches.some((m) => m.severity === 'dangerous') ? 'dangerous' : 'suspicious'
    return unsure ? { alert, matches, redactionUnsure: true } : { alert, matches }
  }

  /**
   * Masks every match of the rules marked `redact: true` as `[REDACTED:<rule id>]`. Returns `text`
   * itself when nothing matched. The marker needs no JSON escaping, and redact patterns never cut a
   * JSON escape in two, so this may run on a serialised JSON line.
   *
   * A secret hidden behind invisible or compatibility characters (`sk-ant-\u200bapi03-…`, fullwidth
   * letters), which the scan flags in a normalised form, is masked too: every match found in the text
   * as written or in any of its normalised forms is masked where it lies in the text as written.
   */
  redact(text: string): string {
    if (typeof text !== 'string') throw new CylestioError('SCAN_BAD_INPUT', `redact(text): text must be a string, got ${text === null ? 'null' : typeof text}`)
    if (this.redactors.empty || !text) return text
    const bytes = utf8(text, REDACT)
    const spans = this.redactionSpans(bytes)
    return spans.length === 0 ? text : render(bytes, spans, 0, bytes.length)
  }

  /**
   * Where the redaction rules match in `bytes`: in the text as written and in each normalised form
   * (mapped back), overlapping matches merged, in order.
   */
  private redactionSpans(bytes: Buffer): Span[] {
    const { rules, plain } = this.redactors.candidates(bytes)
    const spans: Span[] = []
    for (const compiled of rules) spansOf(compiled, bytes, spans)
    if (!plain) {
      const edits: Edit[] = []
      const forms = normalizedForms(bytes, edits)
      if (forms[0] !== bytes) {
        forms.forEach((form, k) => {
          const found: Span[] = []
          for (const compiled of this.redactors.candidates(form).rules) spansOf(compiled, form, found)
          for (const span of found) {
            const [start, end] = toText(edits, k === 0 ? GAP_REMOVED : GAP_AS_SPACE, span.start, span.end)
            spans.push({ start, end, id: span.id })
          }
        })
      }
    }
    return merge(spans)
  }

  /**
   * The redaction spans an excerpt of bytes [index, index + length) must mask: those of the region the
   * window can show, widened by SECRET_REACH on each side so that a secret the window cuts is found
   * whole. Offsets are in `bytes`.
   */
  private spansNear(bytes: Buffer, index: number, length: number): Span[] {
    if (this.redactors.empty) return []
    const reach = EXCERPT_CONTEXT * 4 + SECRET_REACH
    // A long secret (a bearer token, a PEM key) may start further out than the reach: the region is
    // widened over the run of secret characters it cuts, then by a header's length (`Bearer `,
    // `-----BEGIN … PRIVATE KEY-----`), so the whole secret is read.
    let from = Math.max(0, index - reach)
    let to = Math.min(bytes.length, index + length + reach)
    if (from > 0 && SECRET_BODY[bytes[from]]) {
      const limit = Math.max(0, from - SECRET_LONGEST)
      while (from > limit && SECRET_BODY[bytes[from - 1]]) from--
      from = Math.max(0, from - SECRET_HEADER)
    }
    if (to < bytes.length && SECRET_BODY[bytes[to - 1]]) {
      const limit = Math.min(bytes.length, to + SECRET_LONGEST)
      while (to < limit && SECRET_BODY[bytes[to]]) to++
    }
    // On character boundaries: a UTF-8 continuation byte moves the cut to the next character.
    while (from < index && (bytes[from] & 0xc0) === 0x80) from++
    while (to < bytes.length && (bytes[to] & 0xc0) === 0x80) to++
    const region = from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to)
    const spans = this.redactionSpans(region)
    if (from > 0) for (const span of spans) (span.start += from), (span.end += from)
    return spans
  }

  /**
   * Runs each candidate rule on its own for the excerpt (and its validator). For `bytes` that are a
   * normalised form, `written` is the text as written, where the excerpt is cut: a secret the form hides
   * (a key with a soft hyphen after it is not a whole word once the hyphen is removed) is still found
   * there, in its other forms, and masked.
   */
  private collect(candidates: CompiledRule[], bytes: Buffer, target: Target, into: RuleMatch[], seen?: Set<string>, written?: WrittenText): boolean {
    let unsure = false
    for (const compiled of candidates) {
      const { rule } = compiled
      if (seen?.has(rule.id)) continue
      const found = firstMatch(compiled, bytes)
      if (found === 'gave-up') {
        // Too many candidates failed the validator to check them all: a later one may be real.
        if (rule.redact) unsure = true
        continue
      }
      if (!found) continue
      seen?.add(rule.id)
      let [text, index, length] = [bytes, found.index, found.length]
      if (written) {
        const [start, end] = toText(written.edits, written.gap, index, index + length)
        ;[text, index, length] = [written.bytes, start, end - start]
      }
      // The secrets around the match are masked whole before the window is cut.
      const spans = this.spansNear(text, index, length)
      const match: RuleMatch = {
        rule_id: rule.id,
        severity: rule.severity,
        target,
        excerpt: excerpt(text, index, length, rule.redact, rule.id, spans),
      }
      if (rule.tags.length > 0) match.tags = [...rule.tags]
      into.push(match)
    }
    return unsure
  }
}

/**
 * A short, single-line window around the match (byte offsets): the match itself masked for redact
 * rules, and every redaction span (`spans`, in `bytes`) masked whole before the window is cut, so no
 * piece of a secret is left at its edges.
 */
function excerpt(bytes: Buffer, index: number, length: number, redact: boolean, ruleId: string, spans: Span[]): string {
  // A redact rule's own match is shown as its marker, as redact() writes it: no character of it (a card's
  // first digits, an email's first letters) is shown.
  const value = redact ? '' : render(bytes, spans, index, index + length)
  const shown = redact ? `[REDACTED:${ruleId}]` : value.length > EXCERPT_MAX ? `${keepStart(value, EXCERPT_MAX - 1)}…` : value
  const context = Math.min(EXCERPT_CONTEXT, Math.max(0, (EXCERPT_MAX - shown.length) >> 1))
  const from = Math.max(0, index - context * 4)
  const to = Math.min(bytes.length, index + length + context * 4)
  let before = render(bytes, spans, from, index)
  let after = render(bytes, spans, index + length, to)
  if (before.length > context) before = `…${keepEnd(before, context)}`
  else if (from > 0) before = `…${before}`
  if (after.length > context) after = `${keepStart(after, context)}…`
  else if (to < bytes.length) after = `${after}…`
  return `${before}${shown}${after}`.replace(/\s+/g, ' ')
}

const MARKER = /\[REDACTED:[^\]\s]*\]/g

/** The first `n` characters of `text`, or more so as not to cut a redaction marker in two. */
function keepStart(text: string, n: number): string {
  for (const m of text.matchAll(MARKER)) if (m.index! < n && n < m.index! + m[0].length) return text.slice(0, m.index! + m[0].length)
  return text.slice(0, n)
}

/** The last `n` characters of `text`, or more so as not to cut a redaction marker in two. */
function keepEnd(text: string, n: number): string {
  const cut = text.length - n
  for (const m of text.matchAll(MARKER)) if (m.index! < cut && cut < m.index! + m[0].length) return text.slice(m.index!)
  return text.slice(cut)
}

/** Bytes [from, to) as text, each redaction span that overlaps them replaced by its marker. */
function render(bytes: Buffer, spans: readonly Span[], from: number, to: number): string {
  let out = ''
  let at = from
  for (const span of spans) {
    if (span.end <= from) continue
    if (span.start >= to) break
    if (span.start > at) out += utf8Slice(bytes, at, span.start)
    out += `[REDACTED:${span.id}]`
    at = Math.max(at, span.end)
  }
  if (at < to) out += utf8Slice(bytes, at, to)
  return out
}

/** Every non-empty match of a redaction rule in `bytes` that passes its validator. */
function spansOf({ rule, regex, validate }: CompiledRule, bytes: Buffer, into: Span[]): void {
  regex.lastIndex = 0
  for (let m = regex.exec(bytes); m; m = regex.exec(bytes)) {
    const length = m[0].length
    if (length === 0) regex.lastIndex++
    else if (!validate || validate(m[0].toString('utf8'))) into.push({ start: m.index, end: m.index + length, id: rule.id })
  }
  regex.lastIndex = 0
}

/** Spans sorted by start, overlapping ones joined (the first keeps its rule id). */
function merge(spans: Span[]): Span[] {
  if (spans.length < 2) return spans
  spans.sort((a, b) => a.start - b.start || b.end - a.end)
  const out: Span[] = [spans[0]]
  for (const span of spans.slice(1)) {
    const last = out[out.length - 1]
    if (span.start < last.end) last.end = Math.max(last.end, span.end)
    else out.push(span)
  }
  return out
}

/**
 * Scratch buffers for the UTF-8 of the text being matched, one per use that can be under way at once
 * (a scan, and the redaction of an excerpt it makes): writing into a buffer kept from one call to the
 * next costs a fraction of allocating one per text. Nothing keeps these bytes past the call that wrote
 * them (excerpts and normalised forms are copies). Texts too long to keep a buffer for get their own.
 */
const SCAN = 0
const REDACT = 1
const scratch: Buffer[] = [Buffer.allocUnsafe(0), Buffer.allocUnsafe(0)]
const SCRATCH_MAX = 4 * 1024 * 1024

/** `text` as UTF-8, in scratch buffer `slot` (valid until that slot is written again). */
function utf8(text: string, slot: number): Buffer {
  let buf = scratch[slot]!
  // A UTF-16 code unit takes at most three bytes of UTF-8 (a surrogate pair, two units, takes four).
  if (buf.length < text.length * 3) {
    const size = Buffer.byteLength(text, 'utf8')
    if (size > SCRATCH_MAX) return Buffer.from(text, 'utf8')
    if (buf.length < size) buf = scratch[slot] = Buffer.allocUnsafe(Math.max(size, Math.min(SCRATCH_MAX, Math.max(2 * buf.length, 4096))))
  }
  return buf.subarray(0, buf.write(text, 'utf8'))
}

/** Decodes bytes[start, end) as UTF-8, moving both ends off the middle of a multi-byte character. */
function utf8Slice(bytes: Buffer, start: number, end: number): string {
  while (start > 0 && start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++
  while (end < bytes.length && end > start && (bytes[end] & 0xc0) === 0x80) end--
  return bytes.toString('utf8', start, end)
}

/** Validator calls per rule and scan: bounds the cost on text full of near-misses (e.g. digit runs). */
const MAX_VALIDATIONS = 256

/** The first match of a rule in `bytes` that passes its validator, as a byte offset and length. */
function firstMatch({ regex, validate }: CompiledRule, bytes: Buffer): { index: number; length: number } | 'gave-up' | undefined {
  regex.lastIndex = 0
  let tries = 0
  for (let m = regex.exec(bytes); m; m = regex.exec(bytes)) {
    const length = m[0].length
    if (length === 0) regex.lastIndex++
    else if (!validate || validate(m[0].toString('utf8'))) {
      regex.lastIndex = 0
      return { index: m.index, length }
    } else if (++tries >= MAX_VALIDATIONS) {
      regex.lastIndex = 0
      return 'gave-up'
    }
  }
  regex.lastIndex = 0
  return undefined
}
