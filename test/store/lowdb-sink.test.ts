import Anthropic from '@anthropic-ai/sdk'
import { readFileSync, writeFileSync } from 'node:fs'
import { Low, LowSync } from 'lowdb'
import { JSONFile, JSONFileSync } from 'lowdb/node'
import { describe, expect, it } from 'vitest'
import { flush, getMonitorHealth, monitor } from '../../src/index.js'
import { JsonlEventFile } from '../../src/store/index.js'
import type { MonitorEvent } from '../../src/types.js'
import { fakeFetch, tempLog } from '../helpers.js'

// A lowdb `Low` writes its whole document: one that was not read() first must not erase the file's events.

const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }
const params = { model: 'm', max_tokens: 5, messages: [{ role: 'user' as const, content: 'hi' }] }

function client(store: NonNullable<Parameters<typeof monitor>[1]>['store']) {
  return monitor(new Anthropic({ apiKey: 'k', fetch: fakeFetch(() => ({ body: message })).fetch, maxRetries: 0 }), { store })
}

function fileWithOldEvents(): string {
  const file = tempLog('events.json')
  writeFileSync(file, JSON.stringify({ events: [{ event: 'old1' }, { event: 'old2' }], owner: 'me' }))
  return file
}

const eventsIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { events: MonitorEvent[]; owner?: string })

describe('a lowdb store', () => {
  it('that was not read() first keeps the events already in its file (Low and LowSync)', async () => {
    for (const make of [(f: string) => new Low<{ events: MonitorEvent[] }>(new JSONFile(f), { events: [] }), (f: string) => new LowSync<{ events: MonitorEvent[] }>(new JSONFileSync(f), { events: [] })]) {
      const file = fileWithOldEvents()
      const db = make(file)
      await client(db).messages.create(params)
      await flush()
      const doc = eventsIn(file)
      expect(doc.events.map((e) => e.event)).toEqual(['old1', 'old2', 'monitoring_enabled', 'LLM_call_start', 'LLM_call_finish'])
      expect(doc.owner).toBe('me')
      expect(db.data.events).toHaveLength(5) // the document in memory is the file's, as after read()
      // Later writes go on from there.
      await client(db).messages.create(params)
      await flush()
      expect(eventsIn(file).events).toHaveLength(8)
    }
  })

  it('read() first is written as before', async () => {
    const file = fileWithOldEvents()
    const db = new Low<{ events: MonitorEvent[] }>(new JSONFile(file), { events: [] })
    await db.read()
    await client(db).messages.create(params)
    await flush()
    expect(eventsIn(file).events.map((e) => e.event)).toEqual(['old1', 'old2', 'monitoring_enabled', 'LLM_call_start', 'LLM_call_finish'])
  })

  it('whose document holds fewer events than its file (a stale copy) does not overwrite it, and says so', async () => {
    const file = fileWithOldEvents()
    const db = new Low<{ events: MonitorEvent[] }>(new JSONFile(file), { events: [{ event: 'mine' } as MonitorEvent] })
    const before = getMonitorHealth().faults['event-log'] ?? 0
    await client(db).messages.create(params)
    await flush()
    expect(eventsIn(file).events.map((e) => e.event)).toEqual(['old1', 'old2'])
    expect(getMonitorHealth().faults['event-log'] ?? 0).toBeGreaterThan(before)
  })
})

describe('the event log opened with lowdb (JsonlEventFile)', () => {
  it("read() includes the events this process recorded and has not written yet, without flush()", async () => {
    const file = tempLog()
    await client(file).messages.create(params)
    const db = new Low(new JsonlEventFile(file), { events: [] as MonitorEvent[] })
    await db.read()
    expect(db.data.events.filter((e) => e.channel === 'LLM').map((e) => e.event)).toEqual(['LLM_call_start', 'LLM_call_finish'])
  })
})
