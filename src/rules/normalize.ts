/**
 * Text normalisation before matching: attackers hide words behind Unicode compatibility forms
 * (fullwidth letters, ligatures, math alphanumerics) and invisible characters. The normalised text is
 * only matched, never sent. Runs of whitespace are not rewritten: a space in a pattern or keyword already
 * matches any run of whitespace (see `compile.ts`).
 *
 * Most text (ASCII, accented letters, CJK, emoji) holds no character that normalisation would change.
 * Only non-ASCII characters are looked at, each with one table lookup, so such text is returned as it
 * is at little cost and then matched in one pass.
 */
import { NORMALIZED_RANGES } from './nfkc-table.js'

/** One bit per code point: set when normalisation changes or removes that character. */
const CHANGES = new Uint8Array(0x110000 >> 3)
for (let i = 0; i < NORMALIZED_RANGES.length; i += 2) {
  for (let cp = NORMALIZED_RANGES[i]; cp <= NORMALIZED_RANGES[i + 1]; cp++) CHANGES[cp >> 3] |= 1 << (cp & 7)
}
const changes = (cp: number) => (CHANGES[cp >> 3] & (1 << (cp & 7))) !== 0

const INVISIBLE = /^[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]$/u

/** The UTF-8 form of a character after normalisation: its NFKC form, or nothing for invisible ones. */
function replacement(cp: number): Buffer {
  const ch = String.fromCodePoint(cp)
  return Buffer.from(INVISIBLE.test(ch) ? '' : ch.normalize('NFKC'), 'utf8')
}

/**
 * UTF-8 text with each character whose NFKC form differs replaced by that form (`ｉｇｎｏｒｅ` → `ignore`,
 * `ﬁ` → `fi`), and format characters (zero-width, bidi, tags) and variation selectors removed; `bytes`
 * itself when nothing changes. Character by character on the bytes rather than NFKC of the whole
 * text: ASCII bytes are skipped at once, the cost follows the characters that change, and composing
 * combining sequences, the one thing left out, never makes ASCII words.
 */
export function normalizeUtf8(bytes: Buffer): Buffer {
  // ASCII is skipped four bytes at a time: a word with no high bit set holds no other character.
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3)
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >> 2)
  const pieces: Buffer[] = []
  let length = 0
  let done = 0
  for (let i = 0; i < bytes.length; ) {
    if (i >= head && ((i - head) & 3) === 0) {
      let w = (i - head) >> 2
      while (w < words.length && (words[w] & 0x80808080) === 0) w++
      i = head + (w << 2)
      if (i >= bytes.length) break
    }
    const lead = bytes[i]
    if (lead < 0x80) {
      i++
      continue
    }
    // Valid UTF-8 (from a JS string): the lead byte gives the length.
    const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
    let cp = lead & (0xff >> (size + 1))
    for (let k = 1; k < size; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f)
    if (changes(cp)) {
      const piece = bytes.subarray(done, i)
      const replaced = replacement(cp)
      pieces.push(piece, replaced)
      length += piece.length + replaced.length
      done = i + size
    }
    i += size
  }
  if (done === 0) return bytes
  const rest = bytes.subarray(done)
  pieces.push(rest)
  return Buffer.concat(pieces, length + rest.length)
}
