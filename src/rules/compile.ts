/**
 * Turns a rule's patterns and keywords into RE2 sources. Internal to the rule engine.
 *
 * - A literal space (outside a character class) in a pattern, and any space in a keyword, matches a
 *   run of whitespace, so `ignore previous` also catches `ignore \n  previous`. Write `[ ]` or `\x20`
 *   for exactly one space.
 * - Patterns are case-insensitive unless the rule sets `case_sensitive: true`; keywords always are.
 * - Keywords are literal and whole-word: `\b` is added at each end that is a word character.
 */
import RE2 from 're2'

const WHITESPACE_RUN = String.raw`\s+`

/**
 * Walks an RE2 pattern and lets `rewrite` replace characters that are neither escaped nor inside
 * `[...]`: it returns the replacement and how many characters that replaces, or undefined to keep one.
 */
function rewriteOutsideClasses(pattern: string, rewrite: (i: number) => [string, number] | undefined): string {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]
    if (ch === '\\') {
      out += pattern.slice(i, i + 2)
      i += 2
    } else if (inClass) {
      if (ch === ']') inClass = false
      out += ch
      i++
    } else if (ch === '[') {
      inClass = true
      // A `]` right after `[` or `[^` is a literal member of the class.
      const open = /^\[\^?\]?/.exec(pattern.slice(i))![0]
      out += open
      i += open.length
    } else {
      const replaced = rewrite(i)
      out += replaced ? replaced[0] : ch
      i += replaced ? replaced[1] : 1
    }
  }
  return out
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

const WORD_CHAR = /\w/

/** A keyword as an RE2 source: escaped, whole-word, spaces matching whitespace runs. */
export function keywordSource(keyword: string): string {
  const words = keyword.trim().split(/\s+/).map((w) => w.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))
  const start = WORD_CHAR.test(keyword.trim()[0] ?? '') ? String.raw`\b` : ''
  const end = WORD_CHAR.test(keyword.trim().at(-1) ?? '') ? String.raw`\b` : ''
  return `${start}${words.join(WHITESPACE_RUN)}${end}`
}

/** A pattern as an RE2 source, with the rule's case flag applied inline so that one set can mix both. */
export function patternSource(pattern: string, caseSensitive: boolean): string {
  const body = spacesToWhitespaceRuns(pattern)
  return caseSensitive ? `(?:${body})` : `(?i:${body})`
}

/**
 * Checks that a source compiles in RE2 and cannot match the empty string (which would fire on every
 * text). Returns an error message, or undefined when the source is usable.
 */
export function checkSource(source: string): string | undefined {
  let re: RE2
  try {
    re = new RE2(source, 'u')
  } catch (error) {
    return `RE2 cannot compile it: ${(error as Error).message}`
  }
  if (re.test('')) return 'it matches the empty string, so it would fire on every text'
  return undefined
}
