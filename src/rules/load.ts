import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RuleError } from '../errors.js'
import { RuleSet } from './rule-set.js'
import { readRuleFile, type Rule, type RuleFile } from './schema.js'

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
 * The rule files a path stands for: the file itself, or the YAML files of a folder in sorted order,
 * leaving out hidden files (editor lock files such as `.#rules.yaml`, backups) and sub-folders, which
 * `skipped`, when given, receives when they hold YAML files (for `rules lint` to say so).
 * Throws `RuleError` for a missing path or a folder without `*.yaml`/`*.yml` files.
 */
export function ruleFiles(path: string, skipped?: string[]): string[] {
  const full = resolve(path)
  let isDir: boolean
  try {
    isDir = statSync(full).isDirectory()
  } catch {
    throw new RuleError('no such file or folder', full)
  }
  if (!isDir) return [full]
  const entries = readdirSync(full, { withFileTypes: true }).filter((entry) => !entry.name.startsWith('.'))
  // A folder is one set of files in one order; a sub-folder (an archive, another team's rules) is not
  // read into it. Looked into only for lint, since loading does not need it.
  if (skipped) {
    const holdsYaml = (dir: string) => readdirSync(dir, { recursive: true }).some((name) => YAML_FILE.test(String(name)) && !basename(String(name)).startsWith('.'))
    skipped.push(...entries.filter((entry) => entry.isDirectory() && holdsYaml(join(full, entry.name))).map((entry) => join(full, entry.name)).sort())
  }
  // A folder named like a rule file (`archive.yaml/`) is a sub-folder like any other, not a file to read.
  const isFile = (entry: (typeof entries)[number]) => entry.isFile() || (entry.isSymbolicLink() && statSync(join(full, entry.name), { throwIfNoEntry: false })?.isFile() === true)
  const files = entries
    .filter((entry) => YAML_FILE.test(entry.name) && isFile(entry))
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(full, name))
  // An empty folder is almost always a wrong path: loading nothing from it would pass silently.
  if (files.length === 0) throw new RuleError('no .yaml/.yml rule files in this folder', full)
  return files
}

/**
 * Loads the built-in rule packs, then each path (a YAML file, or a folder of `*.yaml`/`*.yml` read in
 * sorted order, hidden files and sub-folders left out). A later file redefines a rule by id or turns
 * rules of earlier files off with `disable: [ids]`, wherever the key stands in the file: a file's own
 * rules are never disabled by it. Ids that are not loaded are ignored, so a file may disable rules of a pack that is
 * not in use (`rules lint` warns about them). Synchronous; throws `RuleError` naming file, line and
 * rule id, and loads nothing when any file is bad.
 *
 * @example
 * const rules = loadRules(['./security-rules'], { defaultRules: true })
 * rules.scan(prompt, { target: 'user' }).alert // 'none' | 'suspicious' | 'dangerous'
 */
export function loadRules(paths: string | string[] = [], options: { defaultRules?: boolean } = {}): RuleSet {
  const files = [
    ...(options.defaultRules ?? true ? ruleFiles(defaultRulesDir()) : []),
    ...(typeof paths === 'string' ? [paths] : paths).flatMap((path) => ruleFiles(path)),
  ]
  const byId = new Map<string, Rule>()
  for (const file of files) apply(byId, readRuleFile(file))
  return new RuleSet([...byId.values()])
}

/** Adds a file's rules to those of the files before it, after turning off the ones it disables. */
function apply(byId: Map<string, Rule>, { rules, disable }: RuleFile): void {
  for (const { id } of disable) byId.delete(id)
  for (const rule of rules) byId.set(rule.id, rule)
}

/** What a lint run found: the files read, the rules they define, and every problem (empty when valid). */
export interface LintResult {
  files: string[]
  /** The number of rules loaded from the files when there is no problem; 0 otherwise. */
  rules: number
  problems: RuleError[]
  /**
   * Likely mistakes that do not make the files invalid: a sub-folder holding YAML files in a folder
   * given (it is not read), an id in `disable` that names no rule of the built-in packs nor of an
   * earlier file (a typo such as `pii.emial`), a rule that replaces one of the same id from the packs or
   * an earlier file.
   */
  warnings: RuleError[]
}

/**
 * Checks rule files the way `loadRules` does, but reports every problem instead of the first: each
 * missing path, each YAML syntax error, each bad rule (its first problem) and each bad top-level field,
 * in file order; and warns about sub-folders left unread and `disable` ids that name no known rule.
 *
 * @example
 * const { problems } = lintRules(['./security-rules'], { defaultRules: false })
 * for (const p of problems) console.error(p.message) // "/app/security-rules/a.yaml:12 (rule x.y): …"
 */
export function lintRules(paths: string[], options: { defaultRules?: boolean } = {}): LintResult {
  const problems: RuleError[] = []
  const skipped: string[] = []
  const files = [...(options.defaultRules ?? true ? [defaultRulesDir()] : []), ...paths].flatMap((path) => {
    try {
      return ruleFiles(path, skipped)
    } catch (error) {
      if (!(error instanceof RuleError)) throw error
      problems.push(error)
      return []
    }
  })
  // The built-in packs load before any file at run time: their ids are known even when not linted.
  const known = new Set<string>()
  const packIds = new Set<string>()
  if (!(options.defaultRules ?? true)) {
    try {
      for (const file of ruleFiles(defaultRulesDir())) for (const rule of readRuleFile(file).rules) packIds.add(rule.id)
      for (const id of packIds) known.add(id)
    } catch {
      // The packs are linted on their own; a problem there is not this run's.
    }
  }
  const warnings = skipped.map((dir) => new RuleError('sub-folder not read: the rule files in it are not loaded (give it as a path of its own)', dir))
  const byId = new Map<string, Rule>()
  for (const file of files) {
    const read = readRuleFile(file, problems)
    for (const { id, line } of read.disable) {
      if (!byId.has(id) && !known.has(id)) warnings.push(new RuleError(`\`disable\` names no rule of the built-in packs or of an earlier file: ${id}`, file, line, id))
    }
    // A rule of an id already loaded replaces that rule, on purpose or not (an example copied with its id).
    const disabled = new Set(read.disable.map(({ id }) => id))
    for (const rule of read.rules) {
      if (disabled.has(rule.id)) continue // turned off, then written anew: on purpose
      const earlier = byId.get(rule.id)
      const replaced = earlier !== undefined && earlier.file !== rule.file ? `${earlier.file}:${earlier.line}` : earlier === undefined && packIds.has(rule.id) ? 'the built-in packs' : undefined
      if (replaced) warnings.push(new RuleError(`replaces the rule of the same id from ${replaced} (give this one an id of its own to keep both)`, rule.file, rule.line, rule.id))
    }
    apply(byId, read)
    for (const rule of read.rules) known.add(rule.id)
  }
  if (problems.length > 0) return { files, rules: 0, problems, warnings }
  try {
    return { files, rules: new RuleSet([...byId.values()]).size, problems, warnings }
  } catch (error) {
    if (!(error instanceof RuleError)) throw error
    return { files, rules: 0, problems: [error], warnings }
  }
}
