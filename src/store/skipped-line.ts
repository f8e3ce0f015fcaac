import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { CylestioError } from '../errors.js'

/**
 * A line of an event log that a read skipped (not JSON, not an event, torn). `file` and `at` (the byte
 * offset where the line starts) say where it is; the message names the file and the line's number,
 * `events.jsonl:12: …`. The number is counted when the message is first read, not when the line is met:
 * a read that meets many bad lines counts for the few that are shown.
 * @internal
 */
export class SkippedLineError extends CylestioError {
  override name = 'SkippedLineError'

  constructor(
    readonly file: string,
    readonly at: number,
    what: string,
  ) {
    super('EVENT_LOG_SKIPPED_LINE', what)
    let message: string | undefined
    Object.defineProperty(this, 'message', {
      get: () => (message ??= `${place(file, at)}: ${what}`),
      configurable: true,
    })
  }
}

/** The line of `file` that starts at byte `at`, counted with the previous count when it was in the same file. */
let counted: { file: string; dev: number; ino: number; at: number; line: number } | undefined

/**
 * `file:line` for the line starting at byte `at`; `file (byte at)` when the file cannot be read there.
 * Lines are counted from the last count in the same file (same path and inode, not shorter than that
 * count) when it lies before `at`, so that warnings shown in file order read the file once.
 */
function place(file: string, at: number): string {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return `${file} (byte ${at})`
  }
  try {
    const st = fstatSync(fd)
    if (st.size < at) return `${file} (byte ${at})`
    const from = counted && counted.file === file && counted.dev === st.dev && counted.ino === st.ino && counted.at <= at ? counted : undefined
    let line = from?.line ?? 1
    const buf = Buffer.allocUnsafe(1 << 20)
    for (let position = from?.at ?? 0; position < at; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, at - position), position)
      if (n === 0) break
      const read = buf.subarray(0, n)
      for (let i = read.indexOf(0x0a); i !== -1; i = read.indexOf(0x0a, i + 1)) line++
      position += n
    }
    counted = { file, dev: st.dev, ino: st.ino, at, line }
    return `${file}:${line}`
  } catch {
    return `${file} (byte ${at})`
  } finally {
    closeSync(fd)
  }
}
