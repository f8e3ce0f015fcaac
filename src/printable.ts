/**
 * Text from the event log shown on a terminal: an agent id, a model name (which comes from the upstream
 * server's response) or a line of the log may hold control characters that move the cursor, clear the
 * screen, set the window title, ring the bell, start a new line (a fake table row) or reverse the text
 * (bidi overrides). They are shown escaped instead, so what is printed is what is in the log.
 */

/** C0 controls, DEL, C1 controls, and the bidi marks, embeddings, overrides and isolates. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
/** What JSON.stringify leaves as it is among those (it escapes only C0). */
const JSON_UNESCAPED = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeOne(c: string): string {
  const code = c.charCodeAt(0)
  return SHORT[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/**
 * `text` with its control characters written as escapes (`\n`, `\x1b`, `\u202e`). Text without them is
 * returned as it is. Idempotent: the escapes are printable.
 * @internal
 */
export function printable(text: string): string {
  CONTROL.lastIndex = 0
  return CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text
}

/**
 * A JSON text safe for a terminal: the characters JSON.stringify leaves raw (DEL, C1, bidi controls, which
 * it can only hold inside strings) written as `\uXXXX` escapes. Parses to the same value.
 * @internal
 */
export function printableJson(json: string): string {
  JSON_UNESCAPED.lastIndex = 0
  return JSON_UNESCAPED.test(json) ? json.replace(JSON_UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json
}

/**
 * Columns `text` takes on a terminal: East Asian wide and fullwidth characters (CJK, Hangul, fullwidth
 * forms, most emoji) take two, combining marks and zero-width characters none, others one.
 * @internal
 */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (ZERO_WIDTH.test(ch)) continue
    width += isWide(cp) ? 2 : 1
  }
  return width
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\u2060\ufeff]$/u

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
}
