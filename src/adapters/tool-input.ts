/**
 * The text of a tool call's arguments as the tool will read them: every key and string value of the
 * arguments on a line of its own, decoded. Matched as JSON text instead, a command is followed by its
 * closing quote and an embedded quote, newline or `\u002f` is an escape, so `{"command":"rm -rf /"}` would
 * not read as the command `rm -rf /` that the tool runs.
 * @internal
 */
export function toolInputText(input: unknown): string {
  if (typeof input !== 'string') return valuesText(input)
  // Arguments sent as a JSON string (OpenAI, a streamed partial input).
  let parsed: unknown
  try {
    parsed = JSON.parse(input)
  } catch {
    // Not JSON (cut short by a stream, a trailing comma, or plain text): the text as written, and the
    // decoded contents of every string literal in it, closed or not. Lenient tools run such arguments.
    const literals = stringLiterals(input)
    return literals === '' ? input : `${input}\n${literals}`
  }
  if (typeof parsed === 'string') return parsed
  return parsed !== null && typeof parsed === 'object' ? valuesText(parsed) : input
}

/**
 * A value as `JSON.stringify` sends it: an object with a `toJSON()` as what that returns (called with the key,
 * once), a `String` object as its string. The SDKs serialise requests with `JSON.stringify`: read any other way, a
 * `new String(…)` or a `toJSON` would carry text past the scan. A string or a plain object costs a `typeof` and
 * one property read.
 * @internal
 */
export function asSent(value: unknown, key: string | number): unknown {
  if (value === null || typeof value !== 'object') return value
  const toJSON = (value as { toJSON?: unknown }).toJSON
  const sent: unknown = typeof toJSON === 'function' ? toJSON.call(value, String(key)) : value
  return sent instanceof String ? String(sent) : sent
}

/** Keys and string values of `value` (its parts read as sent, see `asSent`), depth first in their order, each object read once (cycles and shared branches). */
function valuesText(value: unknown): string {
  const lines: string[] = []
  const seen = new Set<object>()
  // An explicit stack: arguments nested however deep are all read.
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const item = stack.pop()
    if (typeof item === 'string') {
      if (item !== '') lines.push(item)
      continue
    }
    if (item === null || typeof item !== 'object' || seen.has(item)) continue
    seen.add(item)
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(asSent(item[i], i))
      continue
    }
    const keys = Object.keys(item)
    for (let i = keys.length - 1; i >= 0; i--) stack.push(asSent((item as Record<string, unknown>)[keys[i]!], keys[i]!), keys[i])
  }
  return lines.join('\n')
}

const STRING_LITERAL = /"((?:[^"\\]|\\.)*)(?:"|$)/gs
const ESCAPE = /\\(u[0-9a-fA-F]{4}|.)/gs
const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/** The decoded contents of the JSON string literals in `text`, one per line; the last may be unterminated. */
function stringLiterals(text: string): string {
  const out: string[] = []
  for (const [, body] of text.matchAll(STRING_LITERAL)) {
    if (body) out.push(body.replace(ESCAPE, (_, e: string) => (e[0] === 'u' && e.length === 5 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : SIMPLE_ESCAPES[e] ?? e)))
  }
  return out.join('\n')
}
