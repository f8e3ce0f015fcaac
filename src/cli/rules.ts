/**
 * `cylestio-monitor rules lint|test|check`: validate rule files, run each rule's own tests, and show
 * which rules fire on a text. Paths default to the built-in packs.
 */
import { resolve } from 'node:path'
import { RuleError } from '../errors.js'
import { lintRules, loadRules, runRuleTests } from '../rules/index.js'
import { TARGETS, type Severity, type Target } from '../types.js'

const USAGE = `Usage: cylestio-monitor rules <command> [options]

  lint [paths...]                 validate rule files (default: the built-in packs); --rules path
                                  works as a path too
  test [paths...]                 run every rule's own tests (tests.match / tests.no_match)
  check [--target user] [--rules path]... [--fail-on level] [--] [text...]
                                  show which rules fire on a text (read from stdin when not given
                                  or given as -), with the built-in packs plus any --rules files
Options:
  --json                          machine-readable output
  --fail-on suspicious|dangerous  check: exit 3 when the text's alert is at least this level
  --                              what follows is text or paths, even when it starts with -
  --help, -h                      this help

Exit codes: 0 ok, 1 a bad rule file (or a failing rule test), 2 wrong usage, 3 --fail-on reached`

interface Parsed {
  json: boolean
  target: Target
  failOn: Severity | undefined
  rules: string[]
  rest: string[]
  /** `lint`/`test`: the paths given, positional or with --rules, in their order. */
  paths: string[]
  help: boolean
}

function parse(args: string[]): Parsed {
  const parsed: Parsed = { json: false, target: 'user', failOn: undefined, rules: [], rest: [], paths: [], help: false }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') {
      parsed.rest.push(...args.slice(i + 1))
      parsed.paths.push(...args.slice(i + 1))
      break
    }
    if (arg === '--json') parsed.json = true
    else if (arg === '--help' || arg === '-h') parsed.help = true
    else if (arg === '--target' || arg === '--rules' || arg === '--fail-on') {
      const value = args[++i]
      if (value === undefined) throw new UsageError(`${arg} needs a value`)
      if (arg === '--rules') {
        parsed.rules.push(value)
        parsed.paths.push(value)
      } else if (arg === '--fail-on') {
        if (value !== 'suspicious' && value !== 'dangerous') throw new UsageError(`unknown level ${value} for --fail-on (expected suspicious or dangerous)`)
        parsed.failOn = value
      } else if (TARGETS.includes(value as Target)) parsed.target = value as Target
      else throw new UsageError(`unknown target ${value} (expected one of ${TARGETS.join(', ')})`)
    } else if (arg.startsWith('-') && arg !== '-') {
      // Single-dash options included: `check -t user hi` must not scan "-t user hi".
      throw new UsageError(`unknown option ${arg}${arg.startsWith('--') ? '' : ' (options are long: --json, --target, --rules, --fail-on; put -- before text that starts with -)'}`)
    } else {
      parsed.rest.push(arg)
      parsed.paths.push(arg)
    }
  }
  return parsed
}

class UsageError extends Error {}

/**
 * Runs `rules <command>`; `argv` holds the arguments after `rules`. Returns the exit code:
 * 0 ok, 1 invalid rules or failing tests, 2 wrong usage, 3 `check --fail-on` reached.
 *
 * @example
 * process.exitCode = await rulesCommand(['check', '--target', 'user', 'Ignore all previous instructions'])
 */
export async function rulesCommand(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  let options: Parsed
  try {
    options = parse(args)
    if (options.help && ['lint', 'test', 'check'].includes(command!)) {
      process.stdout.write(`${USAGE}\n`)
      return 0
    }
    if (command === 'lint') return lint(options)
    if (command === 'test') return test(options)
    if (command === 'check') return await check(options)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`cylestio-monitor rules: ${error.message}\n\n${USAGE}\n`)
      return 2
    }
    if (error instanceof RuleError) return reportRuleError(error, args.includes('--json'))
    throw error
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
  }
  process.stderr.write(`cylestio-monitor rules: unknown command ${command}\n\n${USAGE}\n`)
  return 2
}

/** The rules a lint or test run covers: the given paths only, or the built-in packs. */
function loadFor(paths: string[]) {
  return loadRules(distinct(paths), { defaultRules: paths.length === 0 })
}

/** Paths given more than once (`f.yaml ./f.yaml`) read once, where first given. */
function distinct(paths: string[]): string[] {
  const seen = new Set<string>()
  return paths.filter((path) => !seen.has(resolve(path)) && seen.add(resolve(path)))
}

/** Every problem of every file, not only the first: one run shows all there is to fix. */
function lint({ paths: given, json }: Parsed): number {
  const paths = distinct(given)
  const { files, rules, problems, warnings } = lintRules(paths, { defaultRules: paths.length === 0 })
  if (!json) for (const w of warnings) process.stderr.write(`warning: ${w.message}\n`)
  if (problems.length === 0) {
    if (json) print({ ok: true, files, rules, warnings: warnings.map(problemJson) })
    else process.stdout.write(`ok: ${count(rules, 'rule')} in ${count(files.length, 'file')}\n`)
    return 0
  }
  if (json) {
    // `error` (the first problem) is kept as the other commands report a bad rule file.
    const [first, ...all] = problems.map(problemJson)
    print({ ok: false, files, error: first, problems: [first, ...all], warnings: warnings.map(problemJson) })
  } else {
    for (const p of problems) process.stderr.write(`${p.message}\n`)
    const where = new Set(problems.map((p) => p.file)).size
    process.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${where} file${where === 1 ? '' : 's'}\n`)
  }
  return 1
}

const problemJson = (error: RuleError) => ({ message: error.message, file: error.file, line: error.line, rule_id: error.ruleId })

function test({ paths, json }: Parsed): number {
  const result = runRuleTests(loadFor(paths))
  if (json) {
    print({ ok: result.failures.length === 0, ...result })
  } else {
    for (const f of result.failures) {
      const text = f.text.length > 70 ? `${f.text.slice(0, 69)}…` : f.text
      process.stdout.write(`FAIL ${f.rule_id} (${f.file}:${f.line}): should ${f.expected === 'match' ? 'match' : 'not match'} ${JSON.stringify(text)}\n`)
    }
    for (const u of result.untested) process.stderr.write(`warning: ${u.rule_id} (${u.file}) has no tests: add \`tests:\` with \`match\` and \`no_match\` examples\n`)
    process.stdout.write(`${count(result.rules, 'rule')}, ${count(result.tests, 'test')}, ${result.failures.length} failed\n`)
  }
  return result.failures.length === 0 ? 0 : 1
}

async function check({ rest, json, target, rules, failOn }: Parsed): Promise<number> {
  const fromStdin = rest.length === 0 || (rest.length === 1 && rest[0] === '-')
  // With no text and a terminal on stdin, reading would wait for input nobody means to type.
  if (fromStdin && rest.length === 0 && process.stdin.isTTY) throw new UsageError('no text to check (give it as arguments or pipe it to stdin)')
  const text = fromStdin ? await readStdin() : rest.join(' ')
  if (/^[ \t\r\n]*$/.test(text)) throw new UsageError('no text to check (the text is empty)')
  const result = loadRules(distinct(rules)).scan(text, { target })
  if (json) {
    print({ target, ...result })
  } else {
    process.stdout.write(`alert: ${result.alert} (target ${target})\n`)
    for (const m of result.matches) process.stdout.write(`  ${m.severity.padEnd(10)} ${m.rule_id}  ${JSON.stringify(m.excerpt)}\n`)
  }
  return failOn !== undefined && LEVEL[result.alert] >= LEVEL[failOn] ? 3 : 0
}

const LEVEL: Record<'none' | Severity, number> = { none: 0, suspicious: 1, dangerous: 2 }

function reportRuleError(error: RuleError, json: boolean): number {
  if (json) print({ ok: false, error: problemJson(error) })
  else process.stderr.write(`${error.message}\n`)
  return 1
}

/** `1 rule`, `2 rules`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    process.stdin.on('data', (c: Buffer) => chunks.push(c))
    // The newline that ends piped text (`echo … |`) is not part of it, as with `$(…)`.
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')))
    process.stdin.on('error', reject)
  })
}
