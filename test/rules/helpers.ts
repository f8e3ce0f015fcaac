import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A temp folder for rule files, removed after the test file. `write(name, yaml)` returns the path. */
export function ruleDir(): { dir: string; write: (name: string, yaml: string) => string } {
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
