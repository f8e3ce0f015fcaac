import { closeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { MonitorEvent } from '../types.js'
import { appendLines, openForAppend } from './append.js'
import { checkedLogPath, makeDirs } from './files.js'
import { closeLogFiles, openLogFiles, parseLine, scanLines } from './scan.js'
import { flushLog } from './sinks.js'

/**
 * A lowdb adapter over the event log format, so any event log opens as a lowdb database:
 * `read()` loads every complete line (of the rotated files too, oldest first; a torn last line is skipped
 * and reported), this process's queued events included, `write()` appends the events that are not on disk yet and never rewrites the file.
 * Events removed from or changed in `db.data.events` stay as they are on disk (use `cleanupOldEvents`).
 * `read()` holds the whole log in memory, as lowdb does; the queries stream instead.
 *
 * @example
 * import { Low } from 'lowdb'
 * const db = new Low(new JsonlEventFile('./cylestio-events.jsonl'), { events: [] })
 * await db.read()
 * db.data.events.push(myEvent)
 * await db.write() // appends one line
 */
export class JsonlEventFile {
  readonly path: string
  /** Events read from or written to the file: identity, so that a write appends only the others. */
  private readonly onDisk = new WeakSet<object>()

  constructor(path: string) {
    this.path = checkedLogPath(path, 'new JsonlEventFile(path)')
  }

  async read(): Promise<{ events: MonitorEvent[] } | null> {
    // What this process recorded is part of the log: its queued events are written first.
    flushLog(this.path)
    // Opened as one set, as the queries do: a rotation while it is read skips no file.
    const files = openLogFiles(this.path)
    if (files.length === 0) return null
    const events: MonitorEvent[] = []
    try {
      for (const file of files) {
        await scanLines(file, undefined, (line, at) => {
          const event = parseLine(line, file.path, at)
          if (event === null) return
          this.onDisk.add(event)
          events.push(event)
        })
      }
    } finally {
      closeLogFiles(files)
    }
    return { events }
  }

  async write(data: { events: MonitorEvent[] }): Promise<void> {
    const fresh = data.events.filter((event) => !this.onDisk.has(event))
    if (fresh.length === 0) return
    makeDirs(dirname(this.path))
    const fd = openForAppend(this.path)
    try {
      appendLines(fd, Buffer.from(`${fresh.map((event) => JSON.stringify(event)).join('\n')}\n`))
    } finally {
      closeSync(fd)
    }
    for (const event of fresh) this.onDisk.add(event)
  }
}
