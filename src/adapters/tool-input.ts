/**
 * The text of a tool call's arguments as the tool will read them: every key and string value of the
 * arguments on a line of its own, decoded. Matched as JSON text instead, a command is followed by its
 * closing quote and an embedded quote or newline is an escape, so `{"command":"rm -rf /"}` would not read
 * as the command `rm -rf /` that the tool runs.
 * @internal
 */
export function toolInputText(input: unknown): string {
  let value = input
  if (typeof input === 'string') {
    // Arguments sent as a JSON string (OpenAI, a streamed partial input): its values, if it parses.
    try {
      value = JSON.parse(input)
    } catch {
      return input
    }
    if (value === null || typeof value !== 'object') return input
  }
  const lines: string[] = []
  collect(value, lines, 0, new Set())
  return lines.join('\n')
}

/** Nesting deeper than this is read no further (no real tool takes such arguments). */
const MAX_DEPTH = 64

function collect(value: unknown, lines: string[], depth: number, seen: Set<object>): void {
  if (typeof value === 'string') {
    if (value !== '') lines.push(value)
    return
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || seen.has(value)) return
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      for (const item of value) collect(item, lines, depth + 1, seen)
      return
    }
    for (const key of Object.keys(value)) {
      lines.push(key)
      collect((value as Record<string, unknown>)[key], lines, depth + 1, seen)
    }
  } finally {
    seen.delete(value)
  }
}
