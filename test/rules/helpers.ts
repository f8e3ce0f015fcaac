import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, vi } from 'vitest'
import { rulesCommand } from '../../src/cli/rules.js'

/**
 * A temp folder for rule files, removed after the test file. `write(name, yaml)` returns the path;
 * bytes are written as they are.
 */
export function ruleDir(): { dir: string; write: (name: string, yaml: string | Uint8Array) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'cylestio-rules-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return {
    dir,
    write: (name, yaml) => {
      const file = join(dir, name)
      writeFileSync(file, yaml)
      return file
    },
  }
}

/** Runs a `rules` subcommand as a function, capturing what it prints. */
export async function runRules(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true))
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true))
  try {
    const code = await rulesCommand(argv)
    return { code, out, err }
  } finally {
    vi.restoreAllMocks()
  }
}

/** Runs `cylestio-monitor rules …` from the build in a child process, as a user's shell does. */
export function runRulesCli(...argv: string[]): { code: number | null; out: string; err: string } {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js')
  const { status, stdout, stderr } = spawnSync(process.execPath, [cli, 'rules', ...argv], { encoding: 'utf8' })
  return { code: status, out: stdout, err: stderr }
}
