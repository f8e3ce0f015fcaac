import { readdirSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/**
 * Where the event log lives when nothing else is said: `CYLESTIO_EVENTS_FILE`, else
 * `./cylestio-events.jsonl`, resolved against the working directory at call time.
 * @internal
 */
export function defaultEventsPath(): string {
  return resolve(process.env.CYLESTIO_EVENTS_FILE ?? './cylestio-events.jsonl')
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
