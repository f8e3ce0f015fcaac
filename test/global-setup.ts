import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Some tests run the published build in real Node processes (the CLI demo, ESM/CommonJS loading, a child
 * that exits with a stream open). It is built once here, before any test file starts, so that they test
 * the current sources and never race each other rebuilding it.
 */
export default function buildOnce(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsup'), { cwd: root, stdio: 'pipe' })
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer }
    throw new Error(`the build (tsup) failed before the tests:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
}
