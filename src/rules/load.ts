import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RuleError } from '../errors.js'
import { RuleSet } from './rule-set.js'
import { readRuleFile, type Rule } from './schema.js'

let packsDir: string | undefined

/**
 * The absolute path of the rule packs shipped with the package (`rules/` at the package root).
 * Found by walking up from this module, which runs from `dist/` when built and `src/rules/` in tests.
 */
export function defaultRulesDir(): string {
  if (packsDir) return packsDir
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rules'))) return (packsDir = join(dir, 'rules'))
    if (dirname(dir) === dir) throw new Error(`cylestio-monitor: the built-in rules/ folder was not found above ${start}`)
  }
}

const YAML_FILE = /\.ya?ml$/i

/**
 * The rule files a path stands for: the file itself, or the YAML files of a folder in sorted order.
 * Throws `RuleError` for a missing path or a folder without `*.yaml`/`*.yml` files.
 */
export function ruleFiles(path: string): string[] {
  const full = resolve(path)
  let isDir: boolean
  try {
    isDir = statSync(full).isDirectory()
  } catch {
    throw new RuleError('no such file or folder', full)
  }
  if (!isDir) return [full]
  const files = readdirSync(full)
    .filter((name) => YAML_FILE.test(name))
    .sort()
    .map((name) => join(full, name))
  // An empty folder is almost always a wrong path: loading nothing from it would pass silently.
  if (files.length === 0) throw new RuleError('no .yaml/.yml rule files in this folder', full)
  return files
}

/**
 * Loads the built-in rule packs, then each path (a YAML file, or a folder of `*.yaml`/`*.yml` read in
 * sorted order). A later file redefines a rule by id or turns rules off with `disable: [ids]` (ids that
 * are not loaded are ignored, so a file may disable rules of a pack that is not in use). Synchronous;
 * throws `RuleError` naming file, line and rule id, and loads nothing when any file is bad.
 *
 * @example
 * const rules = loadRules(['./security-rules'], { defaultRules: true })
 * rules.scan(prompt, { target: 'user' }).alert // 'none' | 'suspicious' | 'dangerous'
 */
export function loadRules(paths: string | string[] = [], options: { defaultRules?: boolean } = {}): RuleSet {
  const files = [
    ...(options.defaultRules ?? true ? ruleFiles(defaultRulesDir()) : []),
    ...(typeof paths === 'string' ? [paths] : paths).flatMap(ruleFiles),
  ]
  const byId = new Map<string, Rule>()
  for (const file of files) {
    const { rules, disable } = readRuleFile(file)
    for (const rule of rules) byId.set(rule.id, rule)
    for (const id of disable) byId.delete(id)
  }
  return new RuleSet([...byId.values()])
}

/** What a lint run found: the files read, the rules they define, and every problem (empty when valid). */
export interface LintResult {
  files: string[]
  /** The number of rules loaded from the files when there is no problem; 0 otherwise. */
  rules: number
  problems: RuleError[]
}

/**
 * Checks rule files the way `loadRules` does, but reports every problem instead of the first: each
 * missing path, each YAML syntax error, each bad rule (its first problem) and each bad top-level field,
 * in file order.
 *
 * @example
 * const { problems } = lintRules(['./security-rules'], { defaultRules: false })
 * for (const p of problems) console.error(p.message) // "/app/security-rules/a.yaml:12 (rule x.y): …"
 */
export function lintRules(paths: string[], options: { defaultRules?: boolean } = {}): LintResult {
  const problems: RuleError[] = []
  const files = [...(options.defaultRules ?? true ? [defaultRulesDir()] : []), ...paths].flatMap((path) => {
    try {
      return ruleFiles(path)
    } catch (error) {
      if (!(error instanceof RuleError)) throw error
      problems.push(error)
      return []
    }
  })
  const byId = new Map<string, Rule>()
  for (const file of files) {
    const { rules, disable } = readRuleFile(file, problems)
    for (const rule of rules) byId.set(rule.id, rule)
    for (const id of disable) byId.delete(id)
  }
  if (problems.length > 0) return { files, rules: 0, problems }
  return { files, rules: new RuleSet([...byId.values()]).size, problems }
}
