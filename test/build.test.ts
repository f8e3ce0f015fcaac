import { execFileSync } from 'node:child_process'
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
})
