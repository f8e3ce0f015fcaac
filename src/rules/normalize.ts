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
import { COMPOSING_RANGES, NORMALIZED_RANGES } from './nfkc-table.js'

/** One bit per code point: set when normalisation changes or removes that character. */
const CHANGES = new Uint8Array(0x110000 >> 3)
/** One bit per code point: set for the invisible characters ("gaps") that normalisation drops. */
const GAPS = new Uint8Array(0x110000 >> 3)
/** One bit per code point: set for the marks that composition joins to the character before them. */
const COMPOSING = new Uint8Array(0x110000 >> 3)
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
for (let i = 0; i < COMPOSING_RANGES.length; i += 2) {
  for (let cp = COMPOSING_RANGES[i]; cp <= COMPOSING_RANGES[i + 1]; cp++) set(CHANGES, cp), set(COMPOSING, cp)
}

/**
 * An RE2 pattern for any character normalisation could change: everything but printable ASCII, tab, LF
 * and CR, none of which the CHANGES table above holds. Text it does not match is its own normal form.
 */
export const NOT_PLAIN = '[^\\t\\n\\r\\x20-\\x7e]'

/** A character of the text that normalisation changes: bytes [start, end), replaced `with` (NOTHING for a gap). */
export interface Edit {
  start: number
  end: number
  with: Buffer
}

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
 * - one form when only compatibility characters or combining sequences change: each replaced by its
 *   NFKC form (`ｉｇｎｏｒｅ` → `ignore`, `ﬁ` → `fi`, `n` + U+0303 → `ñ`);
 * - two forms when the text holds invisible characters ("gaps": format characters such as zero-width
 *   spaces, bidi controls and tags, variation selectors, control characters other than tab/LF/CR, and
 *   U+FFFD from lone surrogates): the first with gaps removed (`ig\u200bnore` → `ignore`), the second
 *   with each gap read as a space (`ignore\u200ball` → `ignore all`). A gap may hide a word either way,
 *   so a rule fires when either form matches.
 *
 * Character by character on the bytes rather than NFKC of the whole text: plain ASCII is skipped four
 * bytes at a time, and the cost follows the characters that change (a combining sequence is composed
 * only where a mark that can compose follows its base). `edits`, when given, receives the changes
 * made, to map offsets of a form back to the text (see `toText`).
 */
export function normalizedForms(bytes: Buffer, edits: Edit[] = []): Buffer[] {
  // Four bytes at a time while none is ≥ 0x80, < 0x20 or 0x7F: such a word holds only printable ASCII.
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3)
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >> 2)
  // Each character that changes, as [start, end) in `bytes` and its replacement (NOTHING for a gap).
  edits.length = 0
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
    if (isSet(COMPOSING, cp)) {
      const end = compose(bytes, i, edits)
      if (end > i) {
        i = end
        continue
      }
      // No base to compose with: the mark stays unless NFKC alone changes it.
      if (Buffer.compare(replacement(cp), bytes.subarray(i, i + size)) !== 0) edits.push({ start: i, end: i + size, with: replacement(cp) })
    } else if (isSet(CHANGES, cp)) {
      // A terminal escape sequence (ESC [ … m, the colours of shell output) is one gap, not an ESC
      // gap before visible `[32m` that would touch the word after it.
      if (cp === 0x1b) size = csiLength(bytes, i)
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

/**
 * The length of the ECMA-48 control sequence at `i` (ESC `[`, parameter bytes 0x30–0x3F, intermediate
 * bytes 0x20–0x2F, a final byte 0x40–0x7E), or 1 (the ESC alone) when none starts there.
 */
function csiLength(bytes: Buffer, i: number): number {
  if (bytes[i + 1] !== 0x5b) return 1
  let j = i + 2
  while (j < bytes.length && bytes[j] >= 0x30 && bytes[j] <= 0x3f) j++
  while (j < bytes.length && bytes[j] >= 0x20 && bytes[j] <= 0x2f) j++
  return j < bytes.length && bytes[j] >= 0x40 && bytes[j] <= 0x7e ? j + 1 - i : 1
}

const MARK = /^\p{M}$/u

/** Whether the character at `i` belongs to a combining sequence after its base (not a gap). */
function isCombining(bytes: Buffer, i: number): boolean {
  const cp = codePointAt(bytes, i)
  return isSet(COMPOSING, cp) || (!isSet(GAPS, cp) && cp >= 0x300 && MARK.test(String.fromCodePoint(cp)))
}

function codePointAt(bytes: Buffer, i: number): number {
  const lead = bytes[i]
  if (lead < 0x80) return lead
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
  let cp = lead & (0xff >> (size + 1))
  for (let k = 1; k < size; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f)
  return cp
}

const charSize = (lead: number) => (lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2)

/**
 * Composes the combining sequence holding the mark at `at` (decomposed `cafe\u0301` → `café`): its
 * base, every combining character after it, in NFKC. Replaces the edits made for the base. Returns
 * where the sequence ends, or `at` when there is no base (a mark at the start, or after a gap).
 */
function compose(bytes: Buffer, at: number, edits: Edit[]): number {
  let start = at
  do {
    if (start === 0) return at
    start--
    while (start > 0 && (bytes[start] & 0xc0) === 0x80) start--
  } while (isCombining(bytes, start))
  if (isSet(GAPS, codePointAt(bytes, start)) || bytes[start] < 0x20) return at
  let end = at
  while (end < bytes.length && isCombining(bytes, end)) end += charSize(bytes[end])
  while (edits.length > 0 && edits[edits.length - 1].start >= start) edits.pop()
  const written = bytes.toString('utf8', start, end)
  const composed = written.normalize('NFKC')
  if (composed !== written) edits.push({ start, end, with: Buffer.from(composed, 'utf8') })
  return end
}

/** `bytes` with the edits made, each gap replaced by `gap`. */
function apply(bytes: Buffer, edits: Edit[], gap: Buffer): Buffer {
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
function joinsWords(bytes: Buffer, edits: Edit[]): boolean {
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

/**
 * Maps a byte range of one of the text's normalised forms (`gap`: what each gap became in it, NOTHING
 * or a space) back to the text. A range end inside a changed character moves to take all of it.
 */
export function toText(edits: readonly Edit[], gap: Buffer, start: number, end: number): [number, number] {
  return [textOffset(edits, gap, start, false), textOffset(edits, gap, end, true)]
}

/** What a gap becomes in the second normalised form. */
export const GAP_AS_SPACE = SPACE
/** What a gap becomes in the first normalised form. */
export const GAP_REMOVED = NOTHING

/**
 * Maps one offset of a form to the text: back past each edit before it, by the change in length. An
 * offset inside a changed character maps to that character's start (a range start) or end (a range
 * end); a range start or end on a removed gap keeps the gap inside the range.
 */
function textOffset(edits: readonly Edit[], gap: Buffer, at: number, isEnd: boolean): number {
  let delta = 0 // offset in the form minus offset in the text, after the edits passed
  for (const edit of edits) {
    const width = (edit.with === NOTHING ? gap : edit.with).length
    const from = edit.start + delta
    const to = from + width
    if (at < from || (at === from && (!isEnd || from < to))) break
    if (at < to) return isEnd ? edit.end : edit.start
    delta += width - (edit.end - edit.start)
  }
  return at - delta
}

/**
 * A literal phrase (a keyword) as rules with `normalize: true` see text: in its first normalised form,
 * so that `ﬁle` or a decomposed `café` in a rule file matches what the text is turned into.
 */
export function normalizeLiteral(text: string): string {
  return normalizedForms(Buffer.from(text, 'utf8'))[0].toString('utf8')
}

/** The first characters of `text` that normalisation would change, or undefined when there are none. */
export function firstChanged(text: string): string | undefined {
  const bytes = Buffer.from(text, 'utf8')
  const edits: Edit[] = []
  normalizedForms(bytes, edits)
  return edits.length > 0 ? bytes.toString('utf8', edits[0].start, edits[0].end) : undefined
}
