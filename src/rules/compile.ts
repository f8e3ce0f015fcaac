/**
 * Turns a rule's patterns and keywords into RE2 sources. Internal to the rule engine.
 *
 * - A literal space (outside a character class) in a pattern, and any space in a keyword, matches a
 *   run of whitespace, so `ignore previous` also catches `ignore \n  previous`. Write `[ ]` or `\x20`
 *   for exactly one space.
 * - Patterns are case-insensitive unless the rule sets `case_sensitive: true`; keywords always are.
 * - Keywords are literal and whole-word: each end that is a letter, digit, mark or `_` must not touch
 *   another one in the text (any script, not only ASCII), except in scripts written without spaces
 *   between words (Chinese, Japanese, Thai, …), where a keyword matches wherever it occurs.
 * - `\Q…\E` is literal text: nothing inside it is rewritten.
 */
import RE2 from 're2'

const WHITESPACE_RUN = String.raw`\s+`

/**
 * Walks an RE2 pattern and lets `rewrite` replace what is outside `[...]` and `\Q…\E`: at a character
 * or an escape (`\b`, at its backslash) it returns the replacement and how many characters that
 * replaces, or undefined to keep the character (or the escape). A `\Q` the pattern leaves open (it runs
 * to the end) is closed, so that text put after the result is not quoted with it.
 */
function rewriteOutsideClasses(pattern: string, rewrite: (i: number) => [string, number] | undefined): string {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]
    if (ch === '\\' && pattern[i + 1] === 'Q' && !inClass) {
      // Quoted literal text runs to `\E` or the end of the pattern.
      const end = pattern.indexOf('\\E', i + 2)
      const to = end === -1 ? pattern.length : end + 2
      out += end === -1 ? `${pattern.slice(i)}\\E` : pattern.slice(i, to)
      i = to
    } else if (inClass) {
      // A POSIX class (`[:alpha:]`, `[:^space:]`) inside the class ends with its own `]`.
      const posix = ch === '[' ? /^\[:\^?[a-z]+:\]/.exec(pattern.slice(i))?.[0] : undefined
      const part = ch === '\\' ? pattern.slice(i, i + 2) : (posix ?? ch)
      if (ch === ']') inClass = false
      out += part
      i += part.length
    } else if (ch === '[') {
      inClass = true
      // A `]` right after `[` or `[^` is a literal member of the class.
      const open = /^\[\^?\]?/.exec(pattern.slice(i))![0]
      out += open
      i += open.length
    } else {
      const replaced = rewrite(i)
      const kept = ch === '\\' ? pattern.slice(i, i + 2) : ch
      out += replaced ? replaced[0] : kept
      i += replaced ? replaced[1] : kept.length
    }
  }
  return out
}

/**
 * The pattern with its code point escapes outside `[...]` (`\x{202E}`, `\x41`) written as the characters
 * they match, to check them like characters written as they are.
 */
export function withEscapesDecoded(pattern: string): string {
  return rewriteOutsideClasses(pattern, (i) => {
    if (pattern[i] !== '\\' || pattern[i + 1] !== 'x') return undefined
    const escape = /^\\x(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(i))
    const cp = escape ? Number.parseInt(escape[1] ?? escape[2]!, 16) : Number.NaN
    return cp <= 0x10ffff ? [String.fromCodePoint(cp), escape![0].length] : undefined
  })
}

/** Replaces each run of literal spaces outside `[...]` with `\s+` (grouped when a quantifier follows). */
export function spacesToWhitespaceRuns(pattern: string): string {
  return rewriteOutsideClasses(pattern, (i) => {
    if (pattern[i] !== ' ') return undefined
    let end = i + 1
    while (pattern[end] === ' ') end++
    return ['*+?{'.includes(pattern[end] ?? '') ? `(?:${WHITESPACE_RUN})` : WHITESPACE_RUN, end - i]
  })
}

/**
 * Makes every capturing group `(...)` non-capturing `(?:...)`. A rule's own regex only reports where
 * its whole match is, and without groups RE2 finds that with its DFAs instead of the slower
 * submatch engines.
 */
export function withoutCaptures(source: string): string {
  return rewriteOutsideClasses(source, (i) => (source[i] === '(' && source[i + 1] !== '?' ? ['(?:', 1] : undefined))
}

const WORD = /^[\p{L}\p{N}\p{M}_]$/u
const ASCII_WORD = /^\w$/
/**
 * Whole-word edges for a keyword end that is a non-ASCII letter, digit or mark: RE2's `\b` knows only
 * ASCII word characters, so `\bпароль` would match inside `мойпароль`. RE2 has no lookaround, so the
 * edge takes the neighbouring character (a space or punctuation) into the match. An ASCII end keeps `\b`:
 * the Unicode edge on every keyword makes a set of many keywords too large for RE2's fast matcher (a
 * thousand keyword rules scanned 30 times slower), so `pass` still matches in `passé`.
 */
const UNICODE_START = String.raw`(?:^|[^\p{L}\p{N}\p{M}_])`
const UNICODE_END = String.raw`(?:$|[^\p{L}\p{N}\p{M}_])`

/**
 * Scripts written without spaces between words (Chinese, Japanese, Thai, …): a keyword in them touches
 * the characters around it, so its end there has no edge to check.
 */
const UNSPACED = /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}\p{scx=Tibetan}]$/u

/**
 * A keyword as an RE2 source: escaped, whole-word, spaces matching whitespace runs. For a redact rule
 * (`redact`), whose match is replaced, the edges take no character into the match (a `"` of a JSON line
 * must not be masked with it): none at a non-ASCII end.
 */
export function keywordSource(keyword: string, redact = false): string {
  const chars = [...keyword.trim()]
  const words = keyword.trim().split(/\s+/).map((w) => w.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))
  const edge = (ch: string | undefined, unicode: string) =>
    ch === undefined || !WORD.test(ch) || UNSPACED.test(ch) ? '' : ASCII_WORD.test(ch) ? String.raw`\b` : redact ? '' : unicode
  return `${edge(chars[0], UNICODE_START)}${words.join(WHITESPACE_RUN)}${edge(chars.at(-1), UNICODE_END)}`
}

/** A pattern as an RE2 source, with the rule's case flag applied inline so that one set can mix both. */
export function patternSource(pattern: string, caseSensitive: boolean): string {
  const body = spacesToWhitespaceRuns(pattern)
  return caseSensitive ? `(?:${body})` : `(?i:${body})`
}

/**
 * Checks that a source compiles in RE2 and cannot match an empty string anywhere (which would fire on
 * every text, and make redaction insert a marker at every such place). Returns an error message, or
 * undefined when the source is usable.
 */
export function checkSource(source: string): string | undefined {
  let re: RE2
  try {
    re = new RE2(source, 'u')
  } catch (error) {
    return compileError(error)
  }
  if (re.test('')) return 'it matches the empty string, so it would fire on every text'
  if (matchesEmptySomewhere(source)) {
    return 'it can match an empty string (e.g. at a word boundary or the start of a line), so it would fire on almost every text'
  }
  return undefined
}

/** Whether RE2 can compile `source`: undefined, or the error message. */
export function checkCompiles(source: string): string | undefined {
  try {
    new RE2(source, 'u')
    return undefined
  } catch (error) {
    return compileError(error)
  }
}

const compileError = (error: unknown) => `RE2 cannot compile it: ${(error as Error).message}`

/** Zero-width assertions: the only way a source that does not match '' can match empty elsewhere. */
const ASSERTION = /[\^$]|\\[bBAz]/

/**
 * Characters on either side of a position, which decide every RE2 assertion there: none (the edge of
 * the text), an ASCII word character, a newline, anything else.
 */
const SIDES = ['', 'a', '\n', ' ']

/**
 * Whether `source` can match an empty string at some position of some text. An empty match reads no
 * character, so only its assertions (`^ $ \A \z \b \B`, multi-line or not) decide it, and they see
 * only the characters on either side: trying each pair of SIDES settles it.
 */
function matchesEmptySomewhere(source: string): boolean {
  if (!ASSERTION.test(source)) return false
  // Without its assertions, a source that still needs a character never matches empty: most stop here.
  try {
    if (!new RE2(withoutAssertions(source), 'u').test('')) return false
  } catch {
    // A quantified assertion (`\b?`) leaves a dangling quantifier: check every side.
  }
  const literal = (side: string) => (side === '\n' ? '\\n' : side)
  return SIDES.some((before) =>
    SIDES.some((after) => new RE2(`^${literal(before)}(?:${source})${literal(after)}$`, 'u').test(before + after)),
  )
}

/**
 * Whether `source` anchors to the start or end of the text or of a line (`^ $ \A \z` outside `[...]`): such
 * a pattern matches a text on its own where it would not inside a longer one.
 * @internal
 */
export function hasAnchors(source: string): boolean {
  return rewriteOutsideClasses(source, (i) => {
    if (source[i] === '^' || source[i] === '$') return ['', 1]
    return source[i] === '\\' && 'Az'.includes(source[i + 1] ?? '') ? ['', 2] : undefined
  }) !== rewriteOutsideClasses(source, () => undefined)
}

/** `source` with its zero-width assertions outside `[...]` removed. */
function withoutAssertions(source: string): string {
  return rewriteOutsideClasses(source, (i) => {
    if (source[i] === '^' || source[i] === '$') return ['', 1]
    return source[i] === '\\' && 'bBAz'.includes(source[i + 1] ?? '') ? ['', 2] : undefined
  })
}
