/**
 * Text normalisation before matching: attackers hide words behind Unicode compatibility forms
 * (fullwidth letters, ligatures, math alphanumerics) and invisible characters. The normalised text is
 * only matched, never sent. Runs of whitespace are not rewritten: a space in a pattern or keyword already
 * matches any run of whitespace (see `compile.ts`).
 *
 * Most text (ASCII, accented letters, CJK, emoji) holds no character that normalisation would change.
 * Only runs of non-ASCII characters are looked at, each character with one table lookup, so such text
 * is returned as it is at little cost and then matched in one pass.
 */
import { NORMALIZED_RANGES } from './nfkc-table.js'

/** One bit per code point: set when normalisation changes or removes that character. */
const CHANGES = new Uint8Array(0x110000 >> 3)
for (let i = 0; i < NORMALIZED_RANGES.length; i += 2) {
  for (let cp = NORMALIZED_RANGES[i]; cp <= NORMALIZED_RANGES[i + 1]; cp++) CHANGES[cp >> 3] |= 1 << (cp & 7)
}
const changes = (cp: number) => (CHANGES[cp >> 3] & (1 << (cp & 7))) !== 0

const NON_ASCII_RUN = /[^\x00-\x7f]+/g
const INVISIBLE = /^[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]$/u

/**
 * `text` with each character whose NFKC form differs replaced by that form (`ｉｇｎｏｒｅ` → `ignore`,
 * `ﬁ` → `fi`), and format characters (zero-width, bidi, tags) and variation selectors removed; `text`
 * itself when nothing changes. Character by character rather than NFKC of the whole text: the cost
 * follows the characters that change, and composing combining sequences, the one thing left out,
 * never makes ASCII words.
 */
export function normalizeText(text: string): string {
  let out = ''
  let done = 0
  NON_ASCII_RUN.lastIndex = 0
  for (let m = NON_ASCII_RUN.exec(text); m !== null; m = NON_ASCII_RUN.exec(text)) {
    const run = m[0]
    let replaced = ''
    let kept = 0
    for (let i = 0; i < run.length; i++) {
      const cp = run.codePointAt(i)!
      const width = cp > 0xffff ? 2 : 1
      if (changes(cp)) {
        const ch = run.slice(i, i + width)
        replaced += run.slice(kept, i) + (INVISIBLE.test(ch) ? '' : ch.normalize('NFKC'))
        kept = i + width
      }
      i += width - 1
    }
    if (kept === 0) continue
    out += text.slice(done, m.index) + replaced + run.slice(kept)
    done = m.index + run.length
  }
  return done === 0 ? text : out + text.slice(done)
}
