import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ruleDir, runRules } from './rules/helpers.js'

/** The README's examples, copied as a user copies them. */
const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8')

/** The first fenced block of `lang` after the heading `heading`. */
function blockAfter(heading: string, lang: string): string {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`))
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)
  if (!match) throw new Error(`no ${lang} block after ${heading}`)
  return match[1]!
}

describe('README', () => {
  it("the rule of the Rules section, saved as a file, lints and passes its own tests", async () => {
    const { dir, write } = ruleDir()
    write('readme-example.yaml', blockAfter('## Rules', 'yaml'))
    expect(await runRules('lint', dir)).toMatchObject({ code: 0 })
    const tested = await runRules('test', dir)
    expect(tested.out).toContain('1 rule, 2 tests, 0 failed')
    expect(tested.code).toBe(0)
  })
})
