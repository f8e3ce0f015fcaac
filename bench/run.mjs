// `npm run bench`: every benchmark in sequence, each in its own Node process (a clean heap and JIT,
// and --expose-gc for the ones that read the heap), then a summary of every figure. Exits 1 when a
// figure misses its acceptance threshold.
//
//   node bench/run.mjs                  all of them
//   node bench/run.mjs overhead log     some of them, by name
//   node bench/run.mjs memory --sdk     extra arguments go to the benchmarks (replacing their default runs)
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DIST } from './lib.mjs'

const BENCHES = ['overhead', 'rules', 'log', 'memory', 'queries']
/** Runs of each benchmark: the memory acceptance run (1,000,000 calls) and a real-SDK cross-check. */
const RUNS = { memory: [[], ['--sdk', '--calls=200000']] }
const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const names = args.filter((a) => !a.startsWith('-'))
const extra = args.filter((a) => a.startsWith('-'))
const unknown = names.filter((n) => !BENCHES.includes(n))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`)
  process.exit(2)
}
if (!existsSync(join(DIST, 'index.js'))) {
  console.error(`${DIST}index.js is missing: build the package first (npm run build)`)
  process.exit(2)
}

console.log(`cylestio-monitor benchmarks — node ${process.version}, ${process.platform}/${process.arch}, ${(await import('node:os')).cpus().length} CPUs`)
const results = []
const started = performance.now()
for (const [name, own] of (names.length > 0 ? names : BENCHES).flatMap((n) => (RUNS[n] ?? [[]]).map((a) => [n, a]))) {
  if (extra.length > 0 && own.length > 0) continue // extra arguments replace the default runs
  const t0 = performance.now()
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', join(here, `${name}.mjs`), ...own, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] })
    let pending = ''
    child.stdout.on('data', (chunk) => {
      pending += chunk
      let nl
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line.startsWith('@@results ')) results.push(...JSON.parse(line.slice(10)))
        else console.log(line)
      }
    })
    child.on('close', resolve)
  })
  if (code !== 0) results.push({ bench: name, figure: `exited with code ${code}`, text: '', check: '', pass: false })
  console.log(`${name.padEnd(9)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
}

console.log(`\nSummary (${((performance.now() - started) / 1000).toFixed(0)} s)`)
const w = Math.max(...results.map((r) => r.figure.length))
for (const r of results) {
  const verdict = r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL'
  console.log(`${verdict.padEnd(4)}  ${r.bench.padEnd(9)} ${r.figure.padEnd(w)}  ${r.check.padEnd(9)} ${r.text}`)
}
const failed = results.filter((r) => r.pass === false).length
console.log(failed === 0 ? 'all thresholds met' : `${failed} figure(s) FAIL`)
process.exitCode = failed === 0 ? 0 : 1
