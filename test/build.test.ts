import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** The published builds, loaded by a real Node process the way users load them. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim()

const EXPECTED = ['MonitorBlockedError', 'flush', 'getEventsByChannel', 'getEventsByType', 'loadRules', 'monitor']

describe('builds', () => {
  it('the ESM build loads, with its /db entry', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const m = await import('cylestio-monitor'); const db = await import('cylestio-monitor/db');
       console.log(JSON.stringify({ root: Object.keys(m).sort(), db: Object.keys(db).sort(), fn: typeof m.monitor }))`,
    ])
    const { root: names, db, fn } = JSON.parse(out)
    expect(names).toEqual(expect.arrayContaining(EXPECTED))
    expect(db).toEqual(expect.arrayContaining(['getEventsByChannel', 'getEventsByType']))
    expect(fn).toBe('function')
  })

  it('the CommonJS build loads, with its /db entry, and finds the rule packs', () => {
    const out = node([
      '-e',
      `const m = require('cylestio-monitor'); const db = require('cylestio-monitor/db');
       console.log(JSON.stringify({ root: Object.keys(m).sort(), db: Object.keys(db).sort(), rules: m.loadRules().size }))`,
    ])
    const { root: names, db, rules } = JSON.parse(out)
    expect(names).toEqual(expect.arrayContaining(EXPECTED))
    expect(db).toEqual(expect.arrayContaining(['getEventsByChannel', 'getEventsByType']))
    expect(rules).toBeGreaterThan(20)
  })
  it('every class either build exports carries its own name (stacks and inspect() say MonitorBlockedError, not _class4)', () => {
    const names = (load: string, args: string[]) =>
      JSON.parse(node([...args, '-e', `${load}; console.log(JSON.stringify(Object.entries({ ...m, ...db }).filter(([, v]) => typeof v === 'function' && /^class\\b/.test(String(v))).map(([k, v]) => [k, v.name])))`]))
    const cjs = names("const m = require('cylestio-monitor'), db = require('cylestio-monitor/db')", [])
    const esm = names("const m = await import('cylestio-monitor'), db = await import('cylestio-monitor/db')", ['--input-type=module'])
    expect(cjs.map(([k]: [string]) => k)).toEqual(expect.arrayContaining(['MonitorBlockedError', 'CylestioError', 'JsonlEventLog']))
    for (const [exported, name] of [...cjs, ...esm]) expect(name).toBe(exported)
    const inspected = node(['-e', "const { MonitorBlockedError } = require('cylestio-monitor'); console.log(require('node:util').inspect(new MonitorBlockedError([], {})).split('\\n')[0])"])
    expect(inspected).toMatch(/^MonitorBlockedError: /)
  })

  it.each([
    ['CommonJS', ['-e'], "const { monitor } = require('cylestio-monitor'); const { getEventsByChannel } = require('cylestio-monitor/db');"],
    ['ESM', ['--input-type=module', '-e'], "const { monitor } = await import('cylestio-monitor'); const { getEventsByChannel } = await import('cylestio-monitor/db');"],
  ])('%s: a query through the /db entry sees the call the root entry just recorded, without flush()', (_, flags, load) => {
    const file = join(mkdtempSync(join(tmpdir(), 'cylestio-build-')), 'events.jsonl')
    const script = `(async () => { ${load}
      const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } }
      const client = { messages: { create: async () => message } }
      const adapter = { name: 'plain', calls: { 'messages.create': { request: (args) => ({ params: args[0], texts: [] }) } } }
      const monitored = monitor(client, { agentId: 'build', store: ${JSON.stringify(file)}, adapters: [adapter] })
      await monitored.messages.create({ model: 'm' })
      const events = await getEventsByChannel('LLM', { file: ${JSON.stringify(file)} })
      console.log(JSON.stringify(events.map((e) => e.event)))
    })()`
    expect(JSON.parse(node([...flags, script]))).toEqual(['LLM_call_start', 'LLM_call_finish'])
  })

  it("TypeScript finds both entries' types in a CommonJS project with the default (node10) module resolution", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cylestio-tscjs-'))
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(root, join(dir, 'node_modules', 'cylestio-monitor'))
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'es2022', strict: true, noEmit: true, types: [] }, files: ['a.ts'] }))
    writeFileSync(join(dir, 'a.ts'), "import { getRecentEvents } from 'cylestio-monitor/db'\nimport { monitor } from 'cylestio-monitor'\nexport const both = [getRecentEvents, monitor]\n")
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    expect(() => execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow()
  })
})
