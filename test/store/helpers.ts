import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix = 'cylestio-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/**
 * Bundles the child scripts of test/store/children (TypeScript importing src/) into plain ESM files with
 * esbuild (installed with tsup), so that children run under plain `node` flags such as --expose-gc and
 * never depend on a build of the package.
 */
export async function buildChildren(names: string[]): Promise<{ dir: string; script: (name: string) => string }> {
  const dir = tempDir('cylestio-children-')
  await build({
    entryPoints: names.map((n) => resolve(here, 'children', `${n}.ts`)),
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  })
  return { dir, script: (name) => join(dir, `${name}.mjs`) }
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `node [nodeArgs] script args` to the end. */
export function runChild(script: string, args: string[], nodeArgs: string[] = []): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }))
  })
}
