/**
 * Text normalisation before matching: attackers hide words behind Unicode compatibility forms
 * (fullwidth letters, ligatures, math alphanumerics) and invisible characters. The normalised text is
 * only matched, never sent. Runs of whitespace are not rewritten: a space in a pattern or keyword already
 * matches any run of whitespace (see `compile.ts`).
 *
 * Most text (ASCII, accented letters, CJK, emoji) holds no character that normalisation would change.
 * Printable ASCII is skipped four bytes at a time; only other characters (non-ASCII, and ASCII control
 * characters) are looked at, each with one table lookup, so such text is returned as it is at little
 * cost and then matched in one pass.
 */
import { NORMALIZED_RANGES } from './nfkc-table.js'

/** One bit per code point: set when normalisation changes or removes that character. */
const CHANGES = new Uint8Array(0x110000 >> 3)
/** One bit per code point: set for the invisible characters ("gaps") that normalisation drops. */
const GAPS = new Uint8Array(0x110000 >> 3)
const set = (bits: Uint8Array, cp: number) => (bits[cp >> 3] |= 1 << (cp & 7))
const isSet = (bits: Uint8Array, cp: number) => (bits[cp >> 3] & (1 << (cp & 7))) !== 0

const INVISIBLE = /^[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]$/u
for (let i = 0; i < NORMALIZED_RANGES.length; i += 2) {
  for (let cp = NORMALIZED_RANGES[i]; cp <= NORMALIZED_RANGES[i + 1]; cp++) {
    set(CHANGES, cp)
    if (INVISIBLE.test(String.fromCodePoint(cp))) set(GAPS, cp)
  }
}
// Control characters other than tab, LF and CR (C0, DEL, C1), and U+FFFD, which is what a lone
// surrogate of a JS string becomes in UTF-8: gaps too, so that `ig\0nore` and `ig\uD800nore` read `ignore`.
for (let cp = 0; cp <= 0x9f; cp++) {
  if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || cp >= 0x7f) set(CHANGES, cp), set(GAPS, cp)
}
set(CHANGES, 0xfffd)
set(GAPS, 0xfffd)

/**
 * An RE2 pattern for any character normalisation could change: everything but printable ASCII, tab, LF
 * and CR, none of which the CHANGES table above holds. Text it does not match is its own normal form.
 */
export const NOT_PLAIN = '[^\\t\\n\\r\\x20-\\x7e]'

const NOTHING = Buffer.alloc(0)
const SPACE = Buffer.from(' ')
const replacements = new Map<number, Buffer>()

/** The UTF-8 form of a visible character after normalisation: its NFKC form. */
function replacement(cp: number): Buffer {
  let bytes = replacements.get(cp)
  if (!bytes) {
    bytes = Buffer.from(String.fromCodePoint(cp).normalize('NFKC'), 'utf8')
    if (replacements.size < 4096) replacements.set(cp, bytes)
  }
  return bytes
}

/**
 * The forms of UTF-8 text that rules with `normalize: true` are matched against:
 *
 * - `[bytes]`, the very same buffer, when normalisation changes nothing (most text);
 * - one form when only compatibility characters change: each replaced by its NFKC form
 *   (`ｉｇｎｏｒｅ` → `ignore`, `ﬁ` → `fi`);
 * - two forms when the text holds invisible characters ("gaps": format characters such as zero-width
 *   spaces, bidi controls and tags, variation selectors, control characters other than tab/LF/CR, and
 *   U+FFFD from lone surrogates): the first with gaps removed (`ig\u200bnore` → `ignore`), the second
 *   with each gap read as a space (`ignore\u200ball` → `ignore all`). A gap may hide a word either way,
 *   so a rule fires when either form matches.
 *
 * Character by character on the bytes rather than NFKC of the whole text: plain ASCII is skipped four
 * bytes at a time, the cost follows the characters that change, and composing combining sequences,
 * the one thing left out, never makes ASCII words.
 */
export function normalizedForms(bytes: Buffer): Buffer[] {
  // Four bytes at a time while none is ≥ 0x80, < 0x20 or 0x7F: such a word holds only printable ASCII.
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3)
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >> 2)
  // Each character that changes, as [start, end) in `bytes` and its replacement (NOTHING for a gap).
  const edits: { start: number; end: number; with: Buffer }[] = []
  let gaps = false
  for (let i = 0; i < bytes.length; ) {
    if (i >= head && ((i - head) & 3) === 0) {
      let w = (i - head) >> 2
      for (; w < words.length; w++) {
        const x = words[w]
        const del = x ^ 0x7f7f7f7f
        // High bit set, or (with none set) some byte below 0x20, or some byte equal to 0x7F.
        if ((((x | (x - 0x20202020)) | ((del - 0x01010101) & ~del)) & 0x80808080) !== 0) break
      }
      i = head + (w << 2)
      if (i >= bytes.length) break
    }
    const lead = bytes[i]
    let size = 1
    let cp = lead
    if (lead >= 0x80) {
      // Valid UTF-8 (from a JS string): the lead byte gives the length.
      size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
      cp = lead & (0xff >> (size + 1))
      for (let k = 1; k < size; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f)
    }
    if (isSet(CHANGES, cp)) {
      const gap = isSet(GAPS, cp)
      gaps ||= gap
      edits.push({ start: i, end: i + size, with: gap ? NOTHING : replacement(cp) })
    }
    i += size
  }
  if (edits.length === 0) return [bytes]
  const removed = apply(bytes, edits, NOTHING)
  // Read as spaces, gaps make a second form, needed only where removing a run of them joins two
  // word characters (`ignore\u200ball`); not for the joiners and selectors inside emoji sequences.
  return gaps && joinsWords(bytes, edits) ? [removed, apply(bytes, edits, SPACE)] : [removed]
}

/** `bytes` with the edits made, each gap replaced by `gap`. */
function apply(bytes: Buffer, edits: { start: number; end: number; with: Buffer }[], gap: Buffer): Buffer {
  const pieces: Buffer[] = []
  let length = 0
  let done = 0
  for (const edit of edits) {
    const replaced = edit.with === NOTHING ? gap : edit.with
    pieces.push(bytes.subarray(done, edit.start), replaced)
    length += edit.start - done + replaced.length
    done = edit.end
  }
  pieces.push(bytes.subarray(done))
  return Buffer.concat(pieces, length + bytes.length - done)
}

const WORD = /^[\p{L}\p{N}\p{M}_]$/u

/** Whether some run of gaps has a word character (letter, digit, mark, `_`) on each side. */
function joinsWords(bytes: Buffer, edits: { start: number; end: number; with: Buffer }[]): boolean {
  for (let e = 0; e < edits.length; e++) {
    if (edits[e].with !== NOTHING || (e > 0 && edits[e - 1].with === NOTHING && edits[e - 1].end === edits[e].start)) continue
    let last = e
    while (last + 1 < edits.length && edits[last + 1].with === NOTHING && edits[last + 1].start === edits[last].end) last++
    if (isWordBefore(bytes, edits[e].start) && isWordAt(bytes, edits[last].end)) return true
    e = last
  }
  return false
}

function isWordAt(bytes: Buffer, i: number): boolean {
  if (i >= bytes.length) return false
  const lead = bytes[i]
  const size = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
  return WORD.test(bytes.toString('utf8', i, i + size))
}

function isWordBefore(bytes: Buffer, i: number): boolean {
  if (i === 0) return false
  let start = i - 1
  while (start > 0 && (bytes[start] & 0xc0) === 0x80) start--
  return WORD.test(bytes.toString('utf8', start, i))
}

