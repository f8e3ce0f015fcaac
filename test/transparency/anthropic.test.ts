import { describe, expect, it } from 'vitest'
import { anthropicCases } from './anthropic-cases.js'
import { brokenSubjects, monitorSubject } from './subjects.js'

describe('transparency: monitor(new Anthropic()) behaves as the bare client', () => {
  for (const [name, run] of Object.entries(anthropicCases)) {
    it(name, () => run(monitorSubject()))
  }
})

// Acceptance: the suite can fail. Each case is run under the naive wrappers users' bug reports describe
// (an unbound `new Proxy`, an `async` wrapper returning a plain Promise, one returning the copy it logged);
// each case must catch at least one of them.
describe('transparency: every case fails under at least one naive wrapper', () => {
  for (const [name, run] of Object.entries(anthropicCases)) {
    it(name, async () => {
      const caughtBy: string[] = []
      for (const make of brokenSubjects) {
        const subject = make()
        const failed = await run(subject).then(
          () => false,
          () => true,
        )
        if (failed) caughtBy.push(subject.name)
      }
      expect(caughtBy, `no naive wrapper makes "${name}" fail`).not.toEqual([])
    })
  }
})
