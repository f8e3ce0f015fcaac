import { spawn } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JsonlEventLog } from '../../src/store/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { buildChildren, removeDir, runChild, tempDir } from './helpers.js'

// `events --follow` run as users run it (the built CLI in its own process) on a log that a writer in
// another process rotates while it follows.

const cli = join(dirname(fileURLToPath(import.meta.url)), '../..', 'dist', 'cli.js')
let dir: string
let children: Awaited<ReturnType<typeof buildChildren>>

beforeAll(async () => {
  dir = tempDir()
  children = await buildChildren(['append-rotating'])
})

afterAll(() => {
  removeDir(dir)
  removeDir(children.dir)
})

/** `cylestio-monitor events --follow --json --limit 0` on `file`: the call ids printed so far, and a stop. */
function followCli(file: string) {
  const child = spawn(process.execPath, [cli, 'events', '--follow', '--json', '--limit', '0', '--file', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)))
  const printed = () => out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { call_id: string }).call_id)
  /** Waits (up to a deadline) until `id` is printed; true when it is. */
  const waitFor = async (id: string) => {
    const deadline = Date.now() + 20_000
    while (!printed().includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    return printed().includes(id)
  }
  const stop = async () => {
    child.kill('SIGINT')
    return { code: await exited, err }
  }
  return { printed, waitFor, stop }
}

describe('events --follow while another process rotates the log', () => {
  it('prints every event once, in order, whether the log rotates several times between two polls or about once', async () => {
    const file = join(dir, 'rotating.jsonl')
    const first = new JsonlEventLog({ path: file })
    const pre: MonitorEvent = { event: 'e', channel: 'LLM', level: 'info', agent_id: 'writer', call_id: 'pre', timestamp: new Date().toISOString(), data: {} }
    first.write(JSON.stringify(pre), pre)
    first.close()
    const following = followCli(file)
    expect(await following.waitFor('pre')).toBe(true) // the first query is done: from here on it follows
    const N = 1200
    // About 25 events a file: a rotation every batch or two, 30 or more in all.
    const writer = await runChild(children.script('append-rotating'), [file, String(N), '5000', '1000'])
    expect(writer).toMatchObject({ code: 0, stderr: '' })
    const ids = ['pre', ...Array.from({ length: N }, (_, i) => `c${i}`)]
    // Every event is on disk once (nothing was deleted): what the follower must print.
    const names = readdirSync(dir).filter((n) => n.startsWith('rotating.jsonl')).sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0))
    expect(names.length).toBeGreaterThan(30)
    const onDisk = names.flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { call_id: string }).call_id))
    expect(onDisk).toEqual(ids)
    // A last event after the writer is done: once it is printed, the follower has read past all the others.
    const last = new JsonlEventLog({ path: file })
    const end = { ...pre, call_id: 'end' }
    last.write(JSON.stringify(end), end)
    last.close()
    await following.waitFor('end')
    const { code, err } = await following.stop()
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(following.printed()).toEqual([...ids, 'end'])
  })

  it('names a bad line it meets as file:line', async () => {
    const file = join(dir, 'bad-follow.jsonl')
    const line = (id: string) => `${JSON.stringify({ event: 'e', channel: 'LLM', level: 'info', agent_id: 'a', call_id: id, timestamp: new Date().toISOString(), data: {} })}\n`
    writeFileSync(file, line('pre'))
    const following = followCli(file)
    expect(await following.waitFor('pre')).toBe(true)
    appendFileSync(file, `${line('a')}not json\n${line('b')}`)
    await following.waitFor('b')
    const { code, err } = await following.stop()
    expect(code).toBe(0)
    expect(err).toBe(`cylestio-monitor: warning: ${file}:3: skipped a line that is not JSON (not json)\n`)
    expect(following.printed()).toEqual(['pre', 'a', 'b'])
  })

  it('reads a log made after it started whole, with the files it rotated to before the first poll', async () => {
    const file = join(dir, 'made-later.jsonl')
    // The table, whose header says the first query is done (--json prints nothing for no event).
    const child = spawn(process.execPath, [cli, 'events', '--follow', '--file', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const rows = () => out.split('\n').slice(1).filter(Boolean).map((row) => row.split(/\s{2,}/)[1])
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 20_000
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    }
    await until(() => out.includes('\n'))
    const N = 300
    const writer = await runChild(children.script('append-rotating'), [file, String(N), '5000', '1000'])
    expect(writer).toMatchObject({ code: 0, stderr: '' })
    expect(readdirSync(dir).filter((n) => n.startsWith('made-later.jsonl.')).length).toBeGreaterThan(5)
    await until(() => rows().includes(`c${N - 1}`))
    child.kill('SIGINT')
    expect(await new Promise((done) => child.on('close', done))).toBe(0)
    expect(err).toBe('')
    expect(rows()).toEqual(Array.from({ length: N }, (_, i) => `c${i}`))
  })
})
