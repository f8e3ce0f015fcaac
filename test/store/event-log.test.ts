import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getMonitorHealth } from '../../src/faults.js'
import { flush, JsonlEventLog, resolveSink } from '../../src/store/index.js'
import type { EventSink, MonitorEvent } from '../../src/types.js'
import { buildChildren, removeDir, runChild, tempDir } from './helpers.js'
import { makeEvent } from './make-event.js'

let children: Awaited<ReturnType<typeof buildChildren>>
let dir: string

beforeAll(async () => {
  children = await buildChildren(['append-bench', 'append-forever', 'append-n', 'append-sharing-rotation', 'path-outage'])
  dir = tempDir()
})

afterAll(() => {
  removeDir(children.dir)
  removeDir(dir)
})

/** Every newline-terminated line of `file`, parsed (throws on a line that is not JSON), and the unterminated tail. */
function readLog(file: string): { events: MonitorEvent[]; tail: string } {
  const lines = readFileSync(file, 'utf8').split('\n')
  const tail = lines.pop() ?? ''
  return { events: lines.map((line) => JSON.parse(line) as MonitorEvent), tail }
}

describe('JsonlEventLog append path', () => {
  it('acceptance 1: the last 10,000 of 200,000 appends cost at most 1.5x the first 10,000, and the heap stays flat', async () => {
    // One child per run (node --expose-gc, so the heap is measured after a full GC). Each run measures its
    // own first and last blocks; on a shared 2-core machine one 10 ms block can be hit by a neighbour, so
    // up to three runs are made and one must pass — a cost that grows with the file fails all of them.
    const runs: { wall: number[]; heapAfterFirst: number; heapAfterLast: number }[] = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const runDir = tempDir()
      const r = await runChild(children.script('append-bench'), [join(runDir, 'events.jsonl'), join(runDir, 'warmup.jsonl')], ['--expose-gc'])
      expect(r.code, r.stderr).toBe(0)
      const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').length - 1
      removeDir(runDir)
      expect(lines).toBe(200_000)
      const run = JSON.parse(r.stdout)
      runs.push(run)
      // Memory: every run, not the best one.
      expect(run.heapAfterLast - run.heapAfterFirst).toBeLessThan(20 * 1024 * 1024)
      if (run.wall[19] <= 1.5 * run.wall[0]) break
    }
    const last = runs[runs.length - 1]
    console.info(
      `append cost per 10k block, ms (first → last): ${runs.map((r) => `${r.wall[0].toFixed(1)} → ${r.wall[19].toFixed(1)}`).join('; ')}; ` +
        `heap after first block ${(last.heapAfterFirst / 1e6).toFixed(1)} MB, after 200k ${(last.heapAfterLast / 1e6).toFixed(1)} MB`,
    )
    expect(last.wall[19]).toBeLessThanOrEqual(1.5 * last.wall[0])
  })

  it('acceptance 2: a writer killed with SIGKILL leaves every line whole and everything it had flushed', async () => {
    const file = join(dir, 'killed.jsonl')
    const child = spawn(process.execPath, [children.script('append-forever'), file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let flushed = 0
    let reports = 0
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)))
    await new Promise<void>((done) => {
      let buffered = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buffered += d
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          flushed = Math.max(flushed, Number(line.split(' ')[1]))
          // Kill mid-stream, while the child is still appending (it never stops on its own).
          if (++reports === 40) {
            child.kill('SIGKILL')
            done()
          }
        }
      })
      child.on('exit', () => done())
    })
    expect(await exited, stderr).toBe('SIGKILL')
    const { events, tail } = readLog(file)
    // A SIGKILL can land inside the kernel's copy of one batch, leaving its last line unterminated;
    // readers skip such a tail and the next writer starts on a new line. Every terminated line is whole.
    expect(tail.length === 0 || !tail.includes('\n')).toBe(true)
    expect(flushed).toBeGreaterThan(1000)
    expect(events.length).toBeGreaterThanOrEqual(flushed)
    events.forEach((e, i) => expect(e.data.seq).toBe(i))
  })

  it('processes sharing a log that each rotate lose nothing: one rotates at a time, and a log another just rotated is not rotated again', async () => {
    const shared = join(tempDir('cylestio-shared-rotation-'), 'events.jsonl')
    const writers = ['a', 'b', 'c', 'd']
    const results = await Promise.all(writers.map((w) => runChild(children.script('append-sharing-rotation'), [shared, w, '600', '1500'])))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const files = readdirSync(dirname(shared)).filter((name) => name !== 'events.jsonl.lock')
    expect(files.length).toBeGreaterThan(50)
    const ids = files.flatMap((name) => readLog(join(dirname(shared), name)).events.map((e) => e.call_id))
    expect(ids).toHaveLength(2400)
    expect(new Set(ids).size).toBe(2400)
    expect(existsSync(`${shared}.lock`)).toBe(false)
  })

  it('a rotation never waits long nor loses a batch: a held lock, a folder at the lock name, a lowered keep', () => {
    const base = tempDir('cylestio-rotation-edges-')
    const line = (i: number) => JSON.stringify(makeEvent(i))
    const seqs = (file: string) => readdirSync(dirname(file)).filter((n) => n.startsWith('ev.jsonl') && !n.endsWith('.lock')).sort().flatMap((n) => readLog(join(dirname(file), n)).events.map((e) => e.data.seq as number))
    const dropped = getMonitorHealth().droppedEvents
    // A lock another process holds (fresh): this process does not wait for it; its batches go to the log unrotated.
    const held = join(base, 'held', 'ev.jsonl')
    mkdirSync(dirname(held))
    writeFileSync(`${held}.lock`, '')
    const started = performance.now()
    const a = new JsonlEventLog({ path: held, maxBytes: 600, keep: 5 })
    for (let i = 0; i < 30; i++) a.write(line(i))
    a.close()
    expect(performance.now() - started).toBeLessThan(3000) // 30 rotations wanted: none waits for the lock (5 s before)
    expect(seqs(held).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    // A folder where the lock would be: not ours, not waited for, not removed; rotation goes on.
    const folder = join(base, 'folder', 'ev.jsonl')
    mkdirSync(`${folder}.lock`, { recursive: true })
    const b = new JsonlEventLog({ path: folder, maxBytes: 600, keep: 100 })
    for (let i = 0; i < 30; i++) b.write(line(i))
    b.close()
    expect(seqs(folder).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(statSync(`${folder}.lock`).isDirectory()).toBe(true)
    expect(getMonitorHealth().droppedEvents).toBe(dropped)
    // keep lowered since the last run: the files past it go at the next rotation.
    const lowered = join(base, 'lowered', 'ev.jsonl')
    mkdirSync(dirname(lowered))
    for (let n = 1; n <= 6; n++) writeFileSync(`${lowered}.${n}`, `${line(100 + n)}\n`)
    const c = new JsonlEventLog({ path: lowered, maxBytes: 600, keep: 2 })
    for (let i = 0; i < 10; i++) c.write(line(i))
    c.close()
    expect(readdirSync(dirname(lowered)).sort()).toEqual(['ev.jsonl', 'ev.jsonl.1', 'ev.jsonl.2'])
  })

  it('acceptance 3: four processes appending 5,000 events each to one file leave 20,000 whole lines', async () => {
    const file = join(dir, 'shared.jsonl')
    const results = await Promise.all([0, 1, 2, 3].map((w) => runChild(children.script('append-n'), [file, String(w), '5000'])))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const { events, tail } = readLog(file)
    expect(tail).toBe('')
    expect(events).toHaveLength(20_000)
    for (let w = 0; w < 4; w++) {
      const mine = events.filter((e) => e.agent_id === `writer-${w}`).map((e) => e.data.seq)
      expect(mine).toEqual(Array.from({ length: 5000 }, (_, i) => i))
    }
    // The batches really interleaved: the writers' lines alternate in the file more than four times.
    let switches = 0
    for (let i = 1; i < events.length; i++) if (events[i].agent_id !== events[i - 1].agent_id) switches++
    expect(switches).toBeGreaterThan(4)
  })

  it('acceptance 4: a removed directory (and a full disk) never fail the caller: one warning, counted drops, writing resumes', async () => {
    const outageDir = join(dir, 'outage')
    const r = await runChild(children.script('path-outage'), [outageDir])
    expect(r.code, r.stderr).toBe(0)
    const steps = JSON.parse(r.stdout) as { label: string; threw: boolean; faults: Record<string, number>; droppedEvents: number }[]
    expect(steps.map((s) => s.threw)).toEqual([false, false, false, false, false])
    expect(steps.map((s) => s.droppedEvents)).toEqual([0, 100, 150, 150, 160])
    expect(steps[1].faults['event-log']).toBe(1)
    expect(r.stderr.match(/CylestioMonitorWarning/g)).toHaveLength(1)
    expect(r.stderr).toContain('ENOENT')
    // The directory came back: the batch after it is in the (new) file, and only that batch.
    const { events } = readLog(join(outageDir, 'events.jsonl'))
    expect(events.map((e) => e.data.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 250 + i))
  })

  it('writes batches of multi-byte lines whole, smaller and larger than the buffer it keeps', async () => {
    const file = join(dir, 'multibyte.jsonl')
    const log = new JsonlEventLog({ path: file })
    const texts = ['', 'a', '\u00e9t\u00e9', '\u{1F600}'.repeat(10), '\u6f22'.repeat(30_000), 'x'.repeat(70_000), '\u00e9'.repeat(2_100_000), 'short after long']
    const expected: MonitorEvent[] = []
    for (const [i, text] of texts.entries()) {
      const event = makeEvent(i)
      event.data = { text, lone: '\ud800' }
      expected.push(JSON.parse(JSON.stringify(event)) as MonitorEvent)
      log.write(JSON.stringify(event), event)
      if (i % 3 === 2) await log.flush()
    }
    await log.flush()
    log.close()
    const { events, tail } = readLog(file)
    expect(tail).toBe('')
    expect(events).toEqual(expected)
  })

  it('creates the log with mode 0600 and its missing parent directories', async () => {
    const file = join(dir, 'new', 'deeper', 'events.jsonl')
    const log = new JsonlEventLog({ path: file })
    log.write(JSON.stringify(makeEvent(1)), makeEvent(1))
    await log.flush()
    log.close()
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('writes queued events within flushIntervalMs without an explicit flush', async () => {
    const file = join(dir, 'interval.jsonl')
    const log = new JsonlEventLog({ path: file, flushIntervalMs: 20 })
    log.write(JSON.stringify(makeEvent(7)), makeEvent(7))
    expect(() => readFileSync(file)).toThrow() // queued, not written yet
    await new Promise((r) => setTimeout(r, 120))
    expect(readLog(file).events.map((e) => e.data.seq)).toEqual([7])
    log.close()
  })

  it('writes what is queued when the process exits (process.exit and an uncaught exception)', async () => {
    for (const ending of ['process.exit(0)', "throw new Error('boom')"]) {
      const file = join(dir, `exit-${ending.length}.jsonl`)
      const script = join(dir, `exit-${ending.length}.mjs`)
      const bundle = children.script('append-n').replace('append-n', 'exit-entry')
      // A tiny ESM child over the same bundled store: queue 3 events (never flushed), then end.
      writeFileSync(
        script,
        `import { JsonlEventLog } from ${JSON.stringify(bundle)}
const log = new JsonlEventLog({ path: ${JSON.stringify(file)}, flushIntervalMs: 60000 })
for (let i = 0; i < 3; i++) log.write(JSON.stringify({ event: 'x', channel: 'LLM', level: 'info', agent_id: 'a', timestamp: new Date().toISOString(), data: { seq: i } }))
${ending}
`,
      )
      await buildExitEntry(bundle)
      const r = await runChild(script, [])
      expect(r.code).toBe(ending.startsWith('throw') ? 1 : 0)
      expect(readLog(file).events.map((e) => e.data.seq)).toEqual([0, 1, 2])
    }
  })

  it('rotates at maxBytes, keeping `keep` files', async () => {
    const file = join(dir, 'rotating.jsonl')
    const log = new JsonlEventLog({ path: file, maxBytes: 20_000, keep: 2 })
    for (let i = 0; i < 300; i++) {
      log.write(JSON.stringify(makeEvent(i)), makeEvent(i))
      if (i % 10 === 9) await log.flush()
    }
    log.close()
    const sizes = [file, `${file}.1`, `${file}.2`].map((f) => statSync(f).size)
    for (const s of sizes) expect(s).toBeLessThanOrEqual(20_000)
    expect(() => statSync(`${file}.3`)).toThrow()
    const seqs = [`${file}.2`, `${file}.1`, file].flatMap((f) => readLog(f).events.map((e) => e.data.seq as number))
    // The newest events, contiguous, ending with the last one written; the oldest generation was deleted.
    expect(seqs.at(-1)).toBe(299)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => 300 - seqs.length + k))
    expect(seqs.length).toBeLessThan(300)
  })

  it('rotates before the event that would take the file past maxBytes, also for a producer that never yields (no batch written past it)', () => {
    const file = join(dir, 'rotating-busy.jsonl')
    const log = new JsonlEventLog({ path: file, maxBytes: 20_000, keep: 100 })
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify(makeEvent(i)))
    for (const line of lines) log.write(line) // no await: the batch timer never gets a turn
    log.close()
    const files = [file, ...Array.from({ length: 100 }, (_, k) => `${file}.${k + 1}`)].filter((f) => statSync(f, { throwIfNoEntry: false }))
    expect(files.length).toBeGreaterThan(10)
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(20_000)
    const seqs = files.reverse().flatMap((f) => readLog(f).events.map((e) => e.data.seq as number))
    expect(seqs).toEqual(lines.map((_, i) => i))
  })

  it('refuses options that would loop, recurse or delete at every batch (keep Infinity or NaN, maxBytes 0 or null…), naming the option', () => {
    const path = join(dir, 'bad-options.jsonl')
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ keep: Infinity }, 'new JsonlEventLog({ keep }): must be a whole number of at least 1, got Infinity'],
      [{ keep: Number.NaN }, 'new JsonlEventLog({ keep }): must be a whole number of at least 1, got NaN'],
      [{ keep: 2.5 }, 'new JsonlEventLog({ keep }): must be a whole number of at least 1, got 2.5'],
      [{ maxBytes: 0 }, 'new JsonlEventLog({ maxBytes }): must be a whole number of at least 1 (leave it out for no rotation), got 0'],
      [{ maxBytes: null }, 'new JsonlEventLog({ maxBytes }): must be a whole number of at least 1 (leave it out for no rotation), got null'],
      [{ maxBytes: Number.NaN }, 'new JsonlEventLog({ maxBytes }): must be a whole number of at least 1 (leave it out for no rotation), got NaN'],
      [{ maxBytes: '1MB' }, 'new JsonlEventLog({ maxBytes }): must be a whole number of at least 1 (leave it out for no rotation), got "1MB"'],
      [{ flushIntervalMs: -1 }, 'new JsonlEventLog({ flushIntervalMs }): must be a whole number of at least 0, got -1'],
      [{ maxBatchEvents: 0 }, 'new JsonlEventLog({ maxBatchEvents }): must be a whole number of at least 1, got 0'],
    ]
    for (const [options, message] of bad) {
      expect(() => new JsonlEventLog({ path, ...options } as never)).toThrow(expect.objectContaining({ code: 'EVENT_LOG_BAD_OPTION', message }))
    }
    expect(statSync(path, { throwIfNoEntry: false })).toBeUndefined()
  })

  it('rotates before a line of multi-byte text that would take the file past maxBytes', () => {
    const file = join(dir, 'rotating-cjk.jsonl')
    const log = new JsonlEventLog({ path: file, maxBytes: 1200, keep: 100 })
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ ...makeEvent(i), data: { seq: i, text: '監視'.repeat(40) } }))
    for (const line of lines) log.write(line)
    log.close()
    const files = [file, ...Array.from({ length: 100 }, (_, k) => `${file}.${k + 1}`)].filter((f) => statSync(f, { throwIfNoEntry: false }))
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(1200)
    expect(files.reverse().flatMap((f) => readLog(f).events.map((e) => e.data.seq as number))).toEqual(lines.map((_, i) => i))
  })

  it('follows the path when another process replaces the file (rotation, cleanup)', async () => {
    const file = join(dir, 'replaced.jsonl')
    const log = new JsonlEventLog({ path: file })
    log.write(JSON.stringify(makeEvent(1)), makeEvent(1))
    await log.flush()
    writeFileSync(`${file}.new`, '')
    const { renameSync } = await import('node:fs')
    renameSync(`${file}.new`, file)
    log.write(JSON.stringify(makeEvent(2)), makeEvent(2))
    await log.flush()
    log.close()
    expect(readLog(file).events.map((e) => e.data.seq)).toEqual([2])
  })
})

describe('resolveSink and flush()', () => {
  it('shares one writer per absolute path, honours CYLESTIO_EVENTS_FILE and false', async () => {
    const file = join(dir, 'resolved.jsonl')
    const a = resolveSink(file)
    const b = resolveSink(join(dir, '.', 'resolved.jsonl'))
    expect(a.sink).toBeInstanceOf(JsonlEventLog)
    expect(b.sink).toBe(a.sink)
    expect(a.path).toBe(file)
    const previous = process.env.CYLESTIO_EVENTS_FILE
    process.env.CYLESTIO_EVENTS_FILE = join(dir, 'from-env.jsonl')
    try {
      expect(resolveSink(undefined).path).toBe(join(dir, 'from-env.jsonl'))
    } finally {
      if (previous === undefined) delete process.env.CYLESTIO_EVENTS_FILE
      else process.env.CYLESTIO_EVENTS_FILE = previous
    }
    expect(resolveSink(false)).toEqual({ sink: null, path: null })
    a.sink!.write(JSON.stringify(makeEvent(5)), makeEvent(5))
    await flush()
    expect(readLog(file).events.map((e) => e.data.seq)).toEqual([5])
  })

  it('passes a sink object through and flushes it with flush()', async () => {
    const seen: string[] = []
    let flushed = 0
    const custom: EventSink = { write: (line) => seen.push(line), flush: async () => void flushed++ }
    expect(resolveSink(custom)).toEqual({ sink: custom, path: null })
    await flush()
    expect(flushed).toBe(1)
  })

  it("writes a single lowdb JSON document for { kind: 'lowdb-json' } and into a Low instance", async () => {
    const { Low } = await import('lowdb')
    const { JSONFile } = await import('lowdb/node')
    const file = join(dir, 'doc.json')
    const { sink, path } = resolveSink({ kind: 'lowdb-json', path: file })
    expect(path).toBe(file)
    sink!.write('', makeEvent(1))
    sink!.write('', makeEvent(2))
    await flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).events.map((e: MonitorEvent) => e.data.seq)).toEqual([1, 2])

    const db = new Low<{ events: MonitorEvent[] }>(new JSONFile(join(dir, 'low.json')), { events: [] })
    await db.read()
    const low = resolveSink(db)
    expect(low.path).toBeNull()
    low.sink!.write('', makeEvent(3))
    await flush()
    expect(JSON.parse(readFileSync(join(dir, 'low.json'), 'utf8')).events.map((e: MonitorEvent) => e.data.seq)).toEqual([3])
  })

  it('counts nothing dropped on the healthy paths above', () => {
    expect(getMonitorHealth().droppedEvents).toBe(0)
  })
})

/** Bundles an entry that re-exports the store, for the exit test's hand-written child. */
async function buildExitEntry(outfile: string): Promise<void> {
  const { build } = await import('esbuild')
  const { fileURLToPath } = await import('node:url')
  await build({
    entryPoints: [fileURLToPath(new URL('../../src/store/index.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  })
}
