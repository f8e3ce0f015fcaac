import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Low } from 'lowdb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventsCommand, statsCommand } from '../../src/cli/events.js'
import { getMonitorHealth } from '../../src/faults.js'
import {
  cleanupOldEvents,
  getAgentStats,
  getEventsByChannel,
  getEventsByTimeframe,
  getEventsByType,
  getRecentEvents,
  JsonlEventFile,
  JsonlEventLog,
  searchEvents,
} from '../../src/store/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { buildChildren, removeDir, runChild, tempDir } from './helpers.js'
import { makeEvent } from './make-event.js'

const N = 100_000
let dir: string
let big: string
const all: MonitorEvent[] = []
let children: Awaited<ReturnType<typeof buildChildren>>

async function writeLog(file: string, events: MonitorEvent[], options: Partial<ConstructorParameters<typeof JsonlEventLog>[0]> = {}): Promise<void> {
  const log = new JsonlEventLog({ path: file, ...options })
  for (const e of events) log.write(JSON.stringify(e), e)
  await log.flush()
  log.close()
}

beforeAll(async () => {
  dir = tempDir()
  big = join(dir, 'big.jsonl')
  for (let i = 0; i < N; i++) all.push(makeEvent(i))
  await writeLog(big, all)
  children = await buildChildren(['append-finishes-rotating'])
})

afterAll(() => {
  removeDir(dir)
  removeDir(children.dir)
})

describe('queries over a 100,000-event log', () => {
  it('acceptance 5: getEventsByChannel and getEventsByType return exactly the right events', async () => {
    const system = await getEventsByChannel('SYSTEM', { file: big })
    expect(system).toEqual(all.filter((e) => e.channel === 'SYSTEM'))
    expect(system).toHaveLength(N / 50)

    const llmOfAgent1 = await getEventsByChannel('LLM', { file: big, agentId: 'agent-1' })
    expect(llmOfAgent1).toEqual(all.filter((e) => e.channel === 'LLM' && e.agent_id === 'agent-1'))

    const blocked = await getEventsByType('LLM_call_blocked', { file: big })
    expect(blocked).toEqual(all.filter((e) => e.event === 'LLM_call_blocked'))
    expect(blocked.length).toBeGreaterThan(15_000)

    const blockedOfAgent2 = await getEventsByType('LLM_call_blocked', { file: big, agentId: 'agent-2' })
    expect(blockedOfAgent2).toEqual(all.filter((e) => e.event === 'LLM_call_blocked' && e.agent_id === 'agent-2'))
  })

  it('acceptance 5: the lowdb adapter (real Low) opens the same file with the same events, and write() only appends', async () => {
    const db = new Low<{ events: MonitorEvent[] }>(new JsonlEventFile(big), { events: [] })
    await db.read()
    expect(db.data.events).toHaveLength(N)
    expect(db.data.events).toEqual(all)

    const before = readFileSync(big)
    const added = makeEvent(N)
    db.data.events.push(added)
    await db.update(() => {})
    await db.write() // nothing new: nothing appended
    const after = readFileSync(big)
    expect(after.subarray(0, before.length).equals(before)).toBe(true)
    expect(after.subarray(before.length).toString()).toBe(`${JSON.stringify(added)}\n`)
    // Put the file back as the other tests expect it.
    writeFileSync(big, before)
  })

  it('with limit, returns the newest `limit` matches, oldest first', async () => {
    const newest = await getEventsByType('LLM_call_finish', { file: big, limit: 5 })
    expect(newest).toEqual(all.filter((e) => e.event === 'LLM_call_finish').slice(-5))
    expect(await getRecentEvents({ file: big })).toEqual(all.slice(-100))
    expect(await getRecentEvents({ file: big, limit: 3, agentId: 'agent-0' })).toEqual(all.filter((e) => e.agent_id === 'agent-0').slice(-3))
  })

  it('getEventsByTimeframe takes start inclusive, end exclusive', async () => {
    const base = Date.parse(all[0].timestamp)
    const events = await getEventsByTimeframe(new Date(base + 1000_000), new Date(base + 1100_000).toISOString(), { file: big })
    expect(events.map((e) => e.data.seq)).toEqual(Array.from({ length: 100 }, (_, k) => 1000 + k))
  })

  it('getEventsByTimeframe refuses a start after the end, naming both (as the CLI refuses --since after --until); start = end is empty', async () => {
    await expect(getEventsByTimeframe('2026-12-03T16:00:00Z', new Date('2026-12-03T15:00:00Z'), { file: big })).rejects.toMatchObject({
      code: 'QUERY_BAD_OPTION',
      message: "getEventsByTimeframe(): 'start' (2026-12-03T16:00:00.000Z) is after 'end' (2026-12-03T15:00:00.000Z): no event can match; pass the earlier time first",
    })
    expect(await getEventsByTimeframe(all[5].timestamp, all[5].timestamp, { file: big })).toEqual([])
  })

  it('searchEvents finds text in data, case-insensitively, quotes included', async () => {
    // "answer number 4242" is also the start of "answer number 42421".
    expect((await searchEvents('ANSWER NUMBER 4242', { file: big })).map((e) => e.data.seq)).toEqual([4242, 42421, 42422, 42426, 42427])
    expect((await searchEvents('question 5 "quoted"', { file: big })).map((e) => e.data.seq)).toEqual([5])
    // Text outside `data` (the agent id) is not searched.
    expect(await searchEvents('agent-1', { file: big, limit: 1 })).toEqual([])
  })

  it('getAgentStats counts calls, blocked, errors, tokens, mean and p95 per agent and model', async () => {
    const stats = await getAgentStats({ file: big })
    // An independent reckoning from the events in memory.
    const ends = all.filter((e) => ['LLM_call_finish', 'LLM_call_error', 'LLM_call_blocked'].includes(e.event))
    const keys = [...new Set(ends.map((e) => `${e.agent_id}|${e.data.model}`))].sort()
    expect(stats.map((s) => `${s.agent_id}|${s.model}`)).toEqual(keys)
    for (const s of stats) {
      const mine = ends.filter((e) => e.agent_id === s.agent_id && e.data.model === s.model)
      const durations = mine.map((e) => e.data.duration_ms).filter((d): d is number => typeof d === 'number').sort((a, b) => a - b)
      const usage = mine.map((e) => (e.data.usage ?? {}) as { input_tokens?: number; output_tokens?: number })
      expect(s).toEqual({
        agent_id: s.agent_id,
        model: s.model,
        calls: mine.length,
        blocked: mine.filter((e) => e.event === 'LLM_call_blocked').length,
        errors: mine.filter((e) => e.event === 'LLM_call_error').length,
        input_tokens: usage.reduce((n, u) => n + (u.input_tokens ?? 0), 0),
        output_tokens: usage.reduce((n, u) => n + (u.output_tokens ?? 0), 0),
        mean_duration_ms: durations.reduce((a, b) => a + b, 0) / durations.length,
        p95_duration_ms: durations[Math.ceil(0.95 * durations.length) - 1],
      })
    }
    expect((await getAgentStats({ file: big, agentId: 'agent-0' })).map((s) => s.agent_id)).toEqual(['agent-0', 'agent-0'])
  })
})

describe('reading damaged, rotated and missing logs', () => {
  it('skips and reports a torn last line; the next writer starts a new line', async () => {
    const file = join(dir, 'torn.jsonl')
    writeFileSync(file, `${[0, 1, 2].map((i) => JSON.stringify(makeEvent(i))).join('\n')}\n{"event":"LLM_call_fin`)
    const faultsBefore = getMonitorHealth().faults['event-log-read'] ?? 0
    expect((await getRecentEvents({ file })).map((e) => e.data.seq)).toEqual([0, 1, 2])
    const db = new Low(new JsonlEventFile(file), { events: [] as MonitorEvent[] })
    await db.read()
    expect(db.data.events.map((e) => e.data.seq)).toEqual([0, 1, 2])
    expect(getMonitorHealth().faults['event-log-read']).toBe(faultsBefore + 2)

    await writeLog(file, [makeEvent(3)])
    // The fragment is now a line of its own (skipped and reported), and event 3 is whole.
    expect((await getRecentEvents({ file })).map((e) => e.data.seq)).toEqual([0, 1, 2, 3])
    expect(readFileSync(file, 'utf8').split('\n')[3]).toBe('{"event":"LLM_call_fin')
  })

  it('reads across rotated files, oldest first', async () => {
    const file = join(dir, 'rotated.jsonl')
    const events = Array.from({ length: 500 }, (_, i) => makeEvent(i))
    const log = new JsonlEventLog({ path: file, maxBytes: 30_000, keep: 50 })
    for (const [i, e] of events.entries()) {
      log.write(JSON.stringify(e), e)
      if (i % 25 === 24) await log.flush()
    }
    log.close()
    expect(statSync(`${file}.3`).size).toBeGreaterThan(0)
    expect(await getEventsByChannel('LLM', { file })).toEqual(events.filter((e) => e.channel === 'LLM'))
    expect(await getRecentEvents({ file, limit: 1000 })).toEqual(events)
    expect((await getAgentStats({ file })).reduce((n, s) => n + s.calls, 0)).toBe(events.filter((e) => /finish|error|blocked/.test(e.event)).length)
  })

  it('an event written through the lowdb adapter with a timestamp inside its data is timed by its own', async () => {
    const file = join(dir, 'nested-time.jsonl')
    const db = new Low(new JsonlEventFile(file), { events: [] as MonitorEvent[] })
    await db.read()
    const now = new Date().toISOString()
    // data before the envelope's timestamp, and a timestamp of its own (an audit of an old order, say)
    db.data.events.push({ event: 'order_audit', channel: 'APP', level: 'info', agent_id: 'a', data: { order: 42, timestamp: '2019-05-01T00:00:00Z' }, timestamp: now } as MonitorEvent)
    await db.write()
    expect(readFileSync(file, 'utf8').indexOf('2019')).toBeLessThan(readFileSync(file, 'utf8').indexOf(now))
    expect(await getEventsByTimeframe(new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000), { file })).toHaveLength(1)
    expect(await getEventsByTimeframe(new Date('2019-01-01'), new Date('2020-01-01'), { file })).toEqual([])
    expect(await cleanupOldEvents(30, { file })).toBe(0)
    expect((await getRecentEvents({ file })).map((e) => e.event)).toEqual(['order_audit'])
  })

  it('cleanup and the time queries agree on lines written by other tools (a BOM, a space after the colon)', async () => {
    const file = join(dir, 'other-writers.jsonl')
    const OLD = '2020-01-01T00:00:00.000Z'
    writeFileSync(file, [
      `\ufeff${JSON.stringify({ event: 'bom_old', channel: 'APP', agent_id: 'a', timestamp: OLD, data: {} })}`,
      JSON.stringify({ event: 'spaced_old', channel: 'APP', agent_id: 'a', timestamp: OLD, data: {} }).replace('"timestamp":"', '"timestamp": "'),
      JSON.stringify({ event: 'new', channel: 'APP', agent_id: 'a', timestamp: new Date().toISOString(), data: {} }),
    ].join('\n') + '\n')
    expect((await getEventsByTimeframe(new Date('2019-01-01'), new Date('2021-01-01'), { file })).map((e) => e.event)).toEqual(['bom_old', 'spaced_old'])
    expect(await cleanupOldEvents(30, { file })).toBe(2)
    expect((await getRecentEvents({ file })).map((e) => e.event)).toEqual(['new'])
  })

  it('cleanup of a log reached through a symbolic link rewrites the real file and keeps the link', async () => {
    const real = join(dir, 'real-log.jsonl')
    const link = join(dir, 'linked-log.jsonl')
    writeFileSync(real, [{ event: 'old', timestamp: '2020-01-01T00:00:00.000Z' }, { event: 'new', timestamp: new Date().toISOString() }].map((e) => `${JSON.stringify({ ...e, channel: 'APP', agent_id: 'a', data: {} })}\n`).join(''))
    symlinkSync(real, link)
    expect(await cleanupOldEvents(30, { file: link })).toBe(1)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect((await getRecentEvents({ file: real })).map((e) => e.event)).toEqual(['new'])
  })

  it('a rotated file reached through a link and emptied by a cleanup goes with its link; later cleanups still work', async () => {
    const file = join(dir, 'linked-rotated.jsonl')
    const target = join(dir, 'elsewhere-rotated.jsonl')
    writeFileSync(target, `${JSON.stringify({ event: 'old', channel: 'APP', agent_id: 'a', timestamp: '2020-01-01T00:00:00.000Z', data: {} })}\n`)
    symlinkSync(target, `${file}.1`)
    writeFileSync(file, `${JSON.stringify({ event: 'new', channel: 'APP', agent_id: 'a', timestamp: new Date().toISOString(), data: {} })}\n`)
    expect(await cleanupOldEvents(30, { file })).toBe(1)
    expect(existsSync(`${file}.1`)).toBe(false)
    expect(await cleanupOldEvents(30, { file })).toBe(0)
    expect((await getRecentEvents({ file })).map((e) => e.event)).toEqual(['new'])
  })

  it("cleanup of one agent's events reads the agent of a line after a BOM", async () => {
    const file = join(dir, 'bom-agent.jsonl')
    writeFileSync(file, `\ufeff${JSON.stringify({ event: 'old', channel: 'APP', agent_id: 'a', timestamp: '2020-01-01T00:00:00.000Z', data: {} })}\n`)
    expect(await cleanupOldEvents(30, { file, agentId: 'a' })).toBe(1)
  })

  it('finds lines other tools wrote with blanks around the colons (json.dumps), by type, channel and agent, in the library and the CLI', async () => {
    const file = join(dir, 'spaced.jsonl')
    const call = (i: number, event: string, agent: string) => ({
      event,
      channel: 'LLM',
      level: 'info',
      agent_id: agent,
      call_id: `c${i}`,
      timestamp: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
      data: { model: 'py-model', duration_ms: 10 * i, usage: { input_tokens: i, output_tokens: 2 * i } },
    })
    // Python's json.dumps separators (", " and ": "), and the other blanks JSON allows around a colon.
    const pythonStyle = (o: object) => JSON.stringify(o).replace(/":/g, '": ').replace(/,"/g, ', "')
    const { data, ...envelope } = call(3, 'LLM_call_finish', 'ext')
    const lines = [
      pythonStyle(call(1, 'LLM_call_start', 'ext')),
      pythonStyle(call(1, 'LLM_call_finish', 'ext')),
      JSON.stringify(call(2, 'LLM_call_blocked', 'ext')).replace('"event":', '"event" :').replace('"channel":', '"channel":\t').replace('"agent_id":', '"agent_id"\t:  '),
      // Nested fields with other values before the event's own (an object written with `data` first).
      JSON.stringify({ data: { agent_id: 'decoy', channel: 'SYSTEM', event: 'LLM_call_error', ...data }, ...envelope }).replace(/":/g, '": '),
      JSON.stringify(call(4, 'LLM_call_finish', 'ext')),
      JSON.stringify(call(5, 'LLM_call_finish', 'other')),
    ]
    writeFileSync(file, `${lines.join('\n')}\n`)
    const seqOf = (events: MonitorEvent[]) => events.map((e) => `${e.event}/${e.call_id}/${e.agent_id}`)
    const finishes = ['LLM_call_finish/c1/ext', 'LLM_call_finish/c3/ext', 'LLM_call_finish/c4/ext', 'LLM_call_finish/c5/other']
    expect(seqOf(await getEventsByType('LLM_call_finish', { file }))).toEqual(finishes)
    expect(seqOf(await getEventsByType('LLM_call_finish', { file, limit: 3 }))).toEqual(finishes.slice(1))
    expect(seqOf(await getEventsByChannel('LLM', { file, agentId: 'ext' }))).toEqual(['LLM_call_start/c1/ext', 'LLM_call_finish/c1/ext', 'LLM_call_blocked/c2/ext', 'LLM_call_finish/c3/ext', 'LLM_call_finish/c4/ext'])
    expect(seqOf(await getEventsByChannel('LLM', { file, agentId: 'ext', limit: 4 }))).toEqual(['LLM_call_finish/c1/ext', 'LLM_call_blocked/c2/ext', 'LLM_call_finish/c3/ext', 'LLM_call_finish/c4/ext'])
    expect(await getEventsByChannel('SYSTEM', { file })).toEqual([])
    expect(seqOf(await getRecentEvents({ file, agentId: 'other' }))).toEqual(['LLM_call_finish/c5/other'])
    const ext = { agent_id: 'ext', model: 'py-model', calls: 4, blocked: 1, errors: 0, input_tokens: 1 + 2 + 3 + 4, output_tokens: 2 * (1 + 2 + 3 + 4), mean_duration_ms: (10 + 20 + 30 + 40) / 4, p95_duration_ms: 40 }
    const other = { agent_id: 'other', model: 'py-model', calls: 1, blocked: 0, errors: 0, input_tokens: 5, output_tokens: 10, mean_duration_ms: 50, p95_duration_ms: 50 }
    expect(await getAgentStats({ file })).toEqual([ext, other])
    expect(await getAgentStats({ file, agentId: 'ext' })).toEqual([ext])

    const cli = async (command: typeof eventsCommand, argv: string[]) => {
      let out = ''
      expect(await command([...argv, '--file', file, '--json'], { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true } })).toBe(0)
      return out
    }
    const printed = (out: string) => seqOf(out.trimEnd().split('\n').map((l) => JSON.parse(l) as MonitorEvent))
    expect(printed(await cli(eventsCommand, ['--type', 'LLM_call_finish']))).toEqual(finishes)
    expect(printed(await cli(eventsCommand, ['--channel', 'LLM', '--agent', 'ext']))).toHaveLength(5)
    expect(JSON.parse(await cli(statsCommand, []))).toEqual([ext, other])
  })

  it('a null agent, channel or data reads as missing: the event is kept and counted under unknown', async () => {
    const file = join(dir, 'nulls.jsonl')
    const base = { level: 'info', timestamp: '2026-12-01T00:00:00.000Z' }
    writeFileSync(file, [
      { ...base, event: 'LLM_call_finish', channel: 'LLM', agent_id: null, data: { model: 'm', duration_ms: 7, usage: { input_tokens: 3, output_tokens: 4 } } },
      { ...base, event: 'LLM_call_error', channel: null, agent_id: 'a', data: null },
      { ...base, event: 'LLM_call_blocked', channel: 'LLM', agent_id: 'a', data: { model: null } },
    ].map((e) => `${JSON.stringify(e)}\n`).join(''))
    const faults = getMonitorHealth().faults['event-log-read'] ?? 0
    expect((await getRecentEvents({ file })).map((e) => e.event)).toEqual(['LLM_call_finish', 'LLM_call_error', 'LLM_call_blocked'])
    expect((await getEventsByChannel('LLM', { file })).map((e) => e.event)).toEqual(['LLM_call_finish', 'LLM_call_blocked'])
    expect((await getEventsByChannel('LLM', { file, agentId: 'a' })).map((e) => e.event)).toEqual(['LLM_call_blocked'])
    const row = { blocked: 0, errors: 0, input_tokens: 0, output_tokens: 0, mean_duration_ms: null, p95_duration_ms: null }
    expect(await getAgentStats({ file })).toEqual([
      { ...row, agent_id: 'a', model: 'unknown', calls: 2, blocked: 1, errors: 1 },
      { ...row, agent_id: 'unknown', model: 'm', calls: 1, input_tokens: 3, output_tokens: 4, mean_duration_ms: 7, p95_duration_ms: 7 },
    ])
    expect(getMonitorHealth().faults['event-log-read'] ?? 0).toBe(faults)
  })

  it('reads a missing log as empty', async () => {
    expect(await getRecentEvents({ file: join(dir, 'nothing-here.jsonl') })).toEqual([])
    expect(await getAgentStats({ file: join(dir, 'nothing-here.jsonl') })).toEqual([])
  })
})

describe('cleanupOldEvents', () => {
  it('removes events older than `days` (of one agent with agentId) by an atomic rewrite, keeping mode 0600', async () => {
    const file = join(dir, 'cleanup.jsonl')
    const now = Date.now()
    const day = 86_400_000
    // Ten events a day apart, the oldest 9.5 days old; agents alternate.
    const events = Array.from({ length: 10 }, (_, i) => ({ ...makeEvent(i, { agents: 2 }), timestamp: new Date(now - (9.5 - i) * day).toISOString() }))
    await writeLog(file, events)
    expect(await cleanupOldEvents(5, { file, agentId: 'agent-0' })).toBe(3) // seq 0, 2, 4 are older than 5 days
    expect((await getRecentEvents({ file })).map((e) => e.data.seq)).toEqual([1, 3, 5, 6, 7, 8, 9])
    expect(await cleanupOldEvents(5, { file })).toBe(2) // seq 1, 3
    expect((await getRecentEvents({ file })).map((e) => e.data.seq)).toEqual([5, 6, 7, 8, 9])
    expect(await cleanupOldEvents(5, { file })).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('a writer that keeps appending after a cleanup follows the new file', async () => {
    const file = join(dir, 'cleanup-live.jsonl')
    const old = { ...makeEvent(0), timestamp: new Date(Date.now() - 30 * 86_400_000).toISOString() }
    const log = new JsonlEventLog({ path: file })
    log.write(JSON.stringify(old), old)
    log.write(JSON.stringify(makeEvent(1)), makeEvent(1))
    await log.flush()
    expect(await cleanupOldEvents(7, { file })).toBe(1)
    log.write(JSON.stringify(makeEvent(2)), makeEvent(2))
    await log.flush()
    log.close()
    expect((await getRecentEvents({ file })).map((e) => e.data.seq)).toEqual([1, 2])
  })
})

describe('a log rotated by another process while it is read', () => {
  it('misses no event older than the newest it returns: every read is a whole prefix of the log (queries, limit queries, stats, lowdb)', async () => {
    const file = join(dir, 'rotating', 'events.jsonl')
    const n = 4000
    const writer = runChild(children.script('append-finishes-rotating'), [file, String(n)])
    let writing = true
    void writer.finally(() => (writing = false))
    const problems: string[] = []
    let reads = 0
    const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k)
    while (writing) {
      const seqs = (await getEventsByChannel('LLM', { file })).map((e) => e.data.seq as number)
      if (seqs.some((s, i) => s !== i)) problems.push(`getEventsByChannel: ${seqs.length} events, not 0…${seqs.length - 1}`)
      const newest = (await getEventsByChannel('LLM', { file, limit: 40 })).map((e) => e.data.seq as number)
      if (newest.length > 0 && newest.join() !== range(newest[0]!, newest.length).join()) problems.push(`limit 40: ${newest.join()}`)
      // Event i has output_tokens i: a whole prefix of k calls sums to k(k-1)/2.
      const [row] = await getAgentStats({ file })
      if (row !== undefined && row.output_tokens !== (row.calls * (row.calls - 1)) / 2) problems.push(`getAgentStats: ${row.calls} calls, ${row.output_tokens} tokens`)
      const db = new Low(new JsonlEventFile(file), { events: [] as MonitorEvent[] })
      await db.read()
      if (db.data.events.some((e, i) => e.data.seq !== i)) problems.push(`JsonlEventFile: ${db.data.events.length} events, not a prefix`)
      reads++
    }
    expect(await writer).toMatchObject({ code: 0, stderr: '' })
    expect(problems).toEqual([])
    expect(reads).toBeGreaterThan(20) // the reads ran while the log rotated
    expect(existsSync(`${file}.100`)).toBe(true)
    expect((await getEventsByChannel('LLM', { file })).map((e) => e.data.seq)).toEqual(range(0, n))
  })
})

describe('the default log of a process', () => {
  it('queries read the log the monitor writes, after a process.chdir() too', () => {
    const root = tempDir('cylestio-chdir-')
    const [first, second] = ['first', 'second'].map((name) => join(root, name))
    mkdirSync(first)
    mkdirSync(second)
    const dist = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../../dist/index.js')).href
    const script = `
      import { monitor, getEventsByChannel, getAgentStats } from '${dist}'
      const adapter = { name: 'acme', calls: { 'chat.send': { request: (args) => ({ model: 'm', params: args[0] }), response: (r) => ({ response: r }) } } }
      const client = monitor({ chat: { send: async () => ({ text: 'ok' }) } }, { agentId: 'moved', adapters: [adapter] })
      process.chdir(${JSON.stringify(second)})
      await client.chat.send({ prompt: 'hi' })
      const events = await getEventsByChannel('LLM', { agentId: 'moved' })
      console.log(JSON.stringify({ events: events.map((e) => e.event), calls: (await getAgentStats()).map((s) => s.calls) }))`
    const env = { ...process.env }
    delete env.CYLESTIO_EVENTS_FILE
    const { stdout, stderr, status } = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: first, env, encoding: 'utf8' })
    try {
      expect({ status, stderr }).toEqual({ status: 0, stderr: '' })
      expect(JSON.parse(stdout)).toEqual({ events: ['LLM_call_start', 'LLM_call_finish'], calls: [1] })
      expect(readFileSync(join(first, 'cylestio-events.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3)
      expect(existsSync(join(second, 'cylestio-events.jsonl'))).toBe(false)
    } finally {
      removeDir(root)
    }
  })
})
