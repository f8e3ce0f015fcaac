import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { CylestioError } from '../errors.js'

/** The working directory when the default log path was first asked for in this process. */
let defaultBase: string | undefined

/**
 * Where the event log lives when nothing else is said: `CYLESTIO_EVENTS_FILE` (an empty or blank value
 * counts as unset), else `./cylestio-events.jsonl`. A relative path is resolved against the working
 * directory of the first call in the process, remembered: the monitor resolves it when it starts, and a
 * query after a `process.chdir()` must read the same file, not one in the new directory.
 * @internal
 */
export function defaultEventsPath(): string {
  defaultBase ??= process.cwd()
  return resolve(defaultBase, eventsFileFromEnv() ?? './cylestio-events.jsonl')
}

/** `CYLESTIO_EVENTS_FILE`, or undefined when it is unset, empty or blank. @internal */
export function eventsFileFromEnv(): string | undefined {
  const value = process.env.CYLESTIO_EVENTS_FILE
  return value === undefined || value.trim() === '' ? undefined : value
}

/**
 * What is wrong with a log path as given, or undefined: a trailing slash names a folder (resolve() would
 * drop it and a file of that name would be written), blanks at either end (from a .env file, say) would
 * end up in the names. Worded to follow where the path came from (`CYLESTIO_EVENTS_FILE …`). @internal
 */
export function logPathProblem(path: string): string | undefined {
  if (/[/\\]$/.test(path)) return `ends with a slash (${JSON.stringify(path)}), so it names a folder; give the path of the event log file, e.g. ${join(path, 'cylestio-events.jsonl')}`
  // The file system refuses such a path at every write: every event would be dropped.
  if (path.includes('\0')) return `holds a NUL character (${JSON.stringify(path)}), which no file name can hold`
  if (path.trim() !== path) return `starts or ends with blanks (${JSON.stringify(path)}); remove them, or the file's name would hold them`
  return undefined
}

/**
 * `path` resolved, for the constructor `who` of a log file's reader or writer; a path no event could be
 * written to or read from (see `logPathProblem`) is refused with an error that names it.
 * @internal
 */
export function checkedLogPath(path: unknown, who: string): string {
  if (typeof path !== 'string' || path === '') {
    throw new CylestioError('EVENT_LOG_BAD_PATH', `${who}: the path of the event log must be a non-empty string, got ${path === '' ? 'an empty string' : typeof path}`)
  }
  const problem = logPathProblem(path)
  if (problem !== undefined) throw new CylestioError('EVENT_LOG_BAD_PATH', `${who}: the path ${problem}`)
  return resolve(path)
}

/** The name of the `n`-th rotated file of a log (`events.jsonl.1` is the newest rotated one). @internal */
export function rotatedPath(path: string, n: number): string {
  return `${path}.${n}`
}

/**
 * The files of one log, oldest first: the rotated files (`path.N` … `path.1`) and then `path` itself.
 * Files that do not exist are left out.
 * @internal
 */
export function logFiles(path: string): string[] {
  const abs = resolve(path)
  const prefix = `${basename(abs)}.`
  let names: string[]
  try {
    names = readdirSync(dirname(abs))
  } catch {
    return []
  }
  const rotated: number[] = []
  let current = false
  for (const name of names) {
    if (name === basename(abs)) current = true
    else if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) rotated.push(Number(name.slice(prefix.length)))
  }
  rotated.sort((a, b) => b - a)
  const files = rotated.map((n) => join(dirname(abs), `${prefix}${n}`))
  if (current) files.push(abs)
  return files
}

/**
 * Creates `dir` and its missing parents, one level at a time (mode 0700 by default). Not
 * `mkdirSync(dir, { recursive: true })`: on a path under /proc that Node call spins forever (the kernel
 * answers ENOENT for a directory that cannot be made), freezing the process; here it fails with that error.
 * @internal
 */
export function makeDirs(dir: string, mode = 0o700): void {
  const missing: string[] = []
  for (let current = resolve(dir); ; ) {
    const st = statSync(current, { throwIfNoEntry: false })
    if (st) break // a file in the way makes the mkdir below (or the open after it) fail with a clear code
    missing.push(current)
    const parent = dirname(current)
    if (parent === current) break
    current = parent
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path, { mode })
    } catch (error) {
      // Made by another process in the meantime: fine.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw error
    }
  }
}

/** What a file that is not a regular file is, for messages: `a pipe`, `a socket` or `a device`. @internal */
export function specialKind(st: { isFIFO(): boolean; isSocket(): boolean }): string {
  return st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : 'a device'
}
