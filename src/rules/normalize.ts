/**
 * Text normalisation before matching: attackers hide words behind Unicode compatibility forms
 * (fullwidth letters, ligatures, math alphanumerics) and invisible characters. The normalised text is
 * only matched, never sent. Runs of whitespace are not rewritten: a space in a pattern or keyword already
 * matches any run of whitespace (see `compile.ts`).
 *
 * Most text (ASCII, accented letters, CJK, emoji) holds no character that normalisation would change;
 * a table lookup per non-ASCII character finds that out, and such text is matched as it is, in one pass.
 */
import { NORMALIZED_RANGES } from './nfkc-table.js'

/** One bit per code point: set when normalisation changes or removes that character. */
const CHANGES = new Uint8Array(0x110000 >> 3)
for (let i = 0; i < NORMALIZED_RANGES.length; i += 2) {
  for (let cp = NORMALIZED_RANGES[i]; cp <= NORMALIZED_RANGES[i + 1]; cp++) CHANGES[cp >> 3] |= 1 << (cp & 7)
}

const INVISIBLE = /[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu

/**
 * `ascii`: only ASCII characters; `unicode`: other characters too, none of which normalisation changes;
 * `normalize`: `normalizeText(text)` differs from `text`.
 */
export function textKind(text: string): 'ascii' | 'unicode' | 'normalize' {
  let kind: 'ascii' | 'unicode' = 'ascii'
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i)
    if (cp < 0x80) continue
    kind = 'unicode'
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) cp = text.codePointAt(i++)!
    if (CHANGES[cp >> 3] & (1 << (cp & 7))) return 'normalize'
  }
  return kind
}

/** NFKC, then invisible characters removed. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '')
}
