import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CylestioError } from '../../src/errors.js'
import { cleanupOldEvents } from '../../src/store/index.js'
import { buildChildren, removeDir, runChild, tempDir } from './helpers.js'

// cleanupOldEvents is the one operation that rewrites the log: it must lose nothing that is kept, whoever
// else is cleaning up or appending at the same time.

let dir: string
let children: Awaited<ReturnType<typeof buildChildren>>
beforeAll(async () => {
  dir = tempDir()
  children = await buildChildren(['append-now'])
})
afterAll(() => {
  removeDir(dir)
  removeDir(children.dir)
})

const OLD = new Date(Date.now() - 40 * 86_400_000).toISOString()
const line = (agent: string, timestamp: string, seq: number, pad = 0) =>
  JSON.stringify({ event: 'LLM_call_finish', channel: 'LLM', level: 'info', agent_id: agent, timestamp, data: { seq, ...(pad ? { pad: 'x'.repeat(pad) } : {}) } })
const seqsOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { agent_id: string; timestamp: string; data: { seq: number } })

describe('cleanupOldEvents', () => {
  it('two cleanups of one log at once in one process both apply, one after the other, and lose nothing kept', async () => {
    const file = join(dir, 'twice.jsonl')
    const now = new Date().toISOString()
    const lines: string[] = []
    for (let i = 0; i < 60_000; i++) lines.push(line(i % 2 ? 'a' : 'b', i % 3 ? now : OLD, i, 50))
    writeFileSync(file, `${lines.join('\n')}\n`)
    const [a, b] = await Promise.all([cleanupOldEvents(30, { file, agentId: 'a' }), cleanupOldEvents(30, { file, agentId: 'b' })])
    expect(a + b).toBe(20_000)
    const after = seqsOf(file).map((e) => e.data.seq)
    expect(after).toEqual(Array.from({ length: 60_000 }, (_, i) => i).filter((i) => i % 3 !== 0))
    expect(readdirSync(dirname(file))).not.toContainEqual(expect.stringContaining('.tmp'))
  })

  it('a failure is a CylestioError naming the file', async () => {
    // A "log" in a directory where no temp file can be made (Linux's /proc).
    const error = await cleanupOldEvents(30, { file: '/proc/self/status' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CylestioError)
    expect((error as CylestioError).code).toBe('EVENT_LOG_CLEANUP')
    expect((error as Error).message).toMatch(/^cleanupOldEvents\(\): \/proc\/self\/status: /)
  })

  it('loses none of the events other processes append while it runs (SPEC §7)', async () => {
    const file = join(dir, 'race.jsonl')
    const N = 20_000
    writeFileSync(file, `${Array.from({ length: 20_000 }, (_, i) => line('o', OLD, i, 200)).join('\n')}\n`)
    const writers = Promise.all(['1', '2'].map((w) => runChild(children.script('append-now'), [file, w, String(N)])))
    let done = false
    void writers.then(() => (done = true))
    let cleanups = 0
    while (!done) {
      await cleanupOldEvents(30, { file })
      cleanups++
      // More old events, so that each cleanup rewrites the file (it is left alone when nothing expired).
      appendFileSync(file, `${Array.from({ length: 2000 }, (_, i) => line('o', OLD, i)).join('\n')}\n`)
    }
    for (const r of await writers) expect(r.code, r.stderr).toBe(0)
    expect(cleanups).toBeGreaterThan(2)
    const events = seqsOf(file)
    for (const w of ['writer-1', 'writer-2']) {
      const seqs = events.filter((e) => e.agent_id === w).map((e) => e.data.seq)
      expect(new Set(seqs).size, `${w}: events lost`).toBe(N)
      expect(seqs.length, `${w}: events duplicated`).toBe(N)
    }
  })
})
