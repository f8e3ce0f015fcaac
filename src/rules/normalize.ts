/**
 * Text normalisation before matching: attackers hide words behind Unicode compatibility forms
 * (fullwidth letters, ligatures) and invisible characters. The normalised text is only matched, never
 * sent. Runs of whitespace are not rewritten here: a space in a pattern or keyword already matches any
 * run of whitespace (see `compile.ts`), which keeps pure-ASCII text on the fast path.
 */

const NON_ASCII = /[^\x00-\x7f]/

/** Format characters (zero-width, bidi controls, Unicode tags, soft hyphen, BOM) and variation selectors. */
const INVISIBLE = /[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu

/** True when `text` is pure ASCII, so that normalising it would return it unchanged. */
export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text)
}

/** NFKC, then invisible characters removed. Call only for non-ASCII text (ASCII is already normal). */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '')
}
