import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { demoAnswer } from '../src/demo/server.js'
import { DEMO_PROMPTS } from '../src/demo/run.js'
import type { MonitorEvent } from '../src/types.js'
import { tempLog } from './helpers.js'

/** The README's demo command, run as a new user runs it: the built CLI, in its own process. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = promisify(execFile)

describe('cylestio-monitor demo', () => {
  it('exits 0, prints the table, and leaves the events of every scenario in the event file', async () => {
    const file = tempLog('demo-events.jsonl')
    const { stdout } = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo'], {
      cwd: root,
      env: { ...process.env, CYLESTIO_EVENTS_FILE: file },
    })
    expect(stdout).toMatch(/time \(UTC\)\s+event\s+method\s+alert\s+model\s+tokens in\/out\s+duration/)
    expect(stdout).toContain(file)
    expect(stdout).toContain('never left the process')

    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MonitorEvent)
    expect(new Set(events.map((e) => e.agent_id))).toEqual(new Set(['demo-agent']))
    const llm = events.filter((e) => e.channel === 'LLM')
    const byCall = new Map<string, MonitorEvent[]>()
    for (const e of llm) byCall.set(e.call_id!, [...(byCall.get(e.call_id!) ?? []), e])
    const shapes = [...byCall.values()].map((es) => es.map((e) => e.event).join('+'))
    // normal, suspicious, stream: true, messages.stream(): start+finish; dangerous: blocked; 429: start+error.
    expect(shapes.filter((s) => s === 'LLM_call_start+LLM_call_finish')).toHaveLength(4)
    expect(shapes.filter((s) => s === 'LLM_call_blocked')).toHaveLength(1)
    expect(shapes.filter((s) => s === 'LLM_call_start+LLM_call_error')).toHaveLength(1)

    const error = llm.find((e) => e.event === 'LLM_call_error')!
    expect(error.data.error).toMatchObject({ status: 429, name: 'RateLimitError' })

    const starts = llm.filter((e) => e.event === 'LLM_call_start')
    const finishOf = (start: MonitorEvent) => llm.find((e) => e.event === 'LLM_call_finish' && e.call_id === start.call_id)!
    const suspicious = starts.find((e) => JSON.stringify(e.data.messages).includes(DEMO_PROMPTS.suspicious))!
    expect(suspicious.data.alert).toBe('suspicious')
    // Its row names the rules that flagged it, as `events` does.
    const flaggedBy = [...new Set((suspicious.data.security as { matches: Array<{ rule_id: string }> }).matches.map((m) => m.rule_id))].join(', ')
    expect(stdout.split('\n').find((line) => line.includes('LLM_call_start') && line.includes('suspicious'))).toContain(flaggedBy)

    const streamed = starts.filter((e) => e.data.stream === true)
    expect(streamed.map((e) => e.data.method).sort()).toEqual(['messages.create', 'messages.stream'])
    for (const start of streamed) {
      const prompt = (start.data.messages as Array<{ content: string }>)[0]!.content
      const response = finishOf(start).data.response as { content: Array<{ type: string; text?: string; input?: unknown }> }
      // The text the server streamed, reassembled from its deltas.
      expect(response.content[0]).toEqual({ type: 'text', text: demoAnswer(prompt) })
    }
    const tool = finishOf(streamed.find((e) => e.data.method === 'messages.stream')!).data.response as {
      content: Array<{ type: string; input?: unknown }>
    }
    expect(tool.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } })
  })

  it('with CYLESTIO_EVENTS_FILE set but empty, writes ./cylestio-events.jsonl like the library does', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cylestio-demo-'))
    const { stdout } = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo'], { cwd, env: { ...process.env, CYLESTIO_EVENTS_FILE: '' } })
    const file = join(cwd, 'cylestio-events.jsonl')
    expect(stdout).toContain(file)
    expect(existsSync(file)).toBe(true)
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(11)
  })

  it('with CYLESTIO_EVENTS_FILE naming a directory, exits 1 at once, naming the variable', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cylestio-demo-'))
    const failed = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo'], { cwd, env: { ...process.env, CYLESTIO_EVENTS_FILE: cwd }, timeout: 20_000 }).then(
      () => undefined,
      (error: { code?: number; stderr?: string; killed?: boolean }) => error,
    )
    expect(failed?.killed).toBe(false)
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain(`CYLESTIO_EVENTS_FILE (the default store) is a directory (${cwd})`)
  })

  it('with an event file that cannot be written (a path under a regular file), says the events were lost and exits 1', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cylestio-demo-'))
    const notADir = join(cwd, 'a-file')
    writeFileSync(notADir, '')
    const file = join(notADir, 'events.jsonl')
    const failed = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo'], { cwd, env: { ...process.env, CYLESTIO_EVENTS_FILE: file }, timeout: 30_000 }).then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    )
    expect(failed?.code).toBe(1)
    expect(failed?.stdout).toMatch(new RegExp(`\\n(\\d+) of the \\1 events could not be written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(the warning above says why\\): the demo failed\\.`))
    expect(failed?.stdout).not.toContain('were appended')
    expect(failed?.stderr).toContain('ENOTDIR')
  })

  it('names the event file in the command it suggests when CYLESTIO_EVENTS_FILE chose it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cylestio demo ')), 'events.jsonl')
    const { stdout } = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo'], { cwd: root, env: { ...process.env, CYLESTIO_EVENTS_FILE: file } })
    expect(stdout).toContain(`Look at them with: npx cylestio-monitor events --agent demo-agent --file '${file}'`)
  })

  it('--help prints its usage and records nothing; an unknown flag is wrong usage (exit 2)', async () => {
    const file = tempLog('demo-help.jsonl')
    const env = { ...process.env, CYLESTIO_EVENTS_FILE: file }
    const { stdout } = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo', '--help'], { cwd: root, env })
    expect(stdout).toContain('Usage: cylestio-monitor demo [--live] [--agent ID]')
    expect(existsSync(file)).toBe(false)
    const failed = await run(process.execPath, [join(root, 'dist', 'cli.js'), 'demo', '--bogus-flag'], { cwd: root, env }).catch((e: { code: number; stderr: string }) => e)
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus-flag'") })
    expect(existsSync(file)).toBe(false)
  })
})
