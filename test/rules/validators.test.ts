import { describe, expect, it } from 'vitest'
import { loadRules } from '../../src/rules/index.js'
import { VALIDATORS } from '../../src/rules/validators.js'

describe('validators', () => {
  it('luhn accepts valid card numbers and rejects near-misses', () => {
    for (const card of ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005', '6011111111111117']) {
      expect(VALIDATORS.luhn(card), card).toBe(true)
    }
    for (const card of ['4111111111111112', '1234567812345678', '0000000000000000', '411111111111']) {
      expect(VALIDATORS.luhn(card), card).toBe(false)
    }
  })

  it('iban accepts valid IBANs (mod 97) and rejects altered ones', () => {
    for (const iban of ['GB82WEST12345698765432', 'GB82 WEST 1234 5698 7654 32', 'DE89370400440532013000', 'FR1420041010050500013M02606']) {
      expect(VALIDATORS.iban(iban), iban).toBe(true)
    }
    for (const iban of ['GB82WEST12345698765433', 'DE89370400440532013001', 'GB82', 'XX00ABCD']) {
      expect(VALIDATORS.iban(iban), iban).toBe(false)
    }
  })

  it('decide whether a rule fires after the RE2 match', () => {
    const rules = loadRules()
    const ids = (text: string) => rules.scan(text, { target: 'user' }).matches.map((m) => m.rule_id)
    expect(ids('card 4111 1111 1111 1111')).toEqual(['pii.credit-card'])
    expect(ids('card 4111 1111 1111 1112')).toEqual([])
    expect(ids('pay to DE89 3704 0044 0532 0130 00')).toEqual(['pii.iban'])
    expect(ids('pay to DE89 3704 0044 0532 0130 01')).toEqual([])
    // The first digit run fails Luhn, the second passes: the rule still fires, on the second.
    const scan = rules.scan('ref 1234 5678 1234 5678 then 4111-1111-1111-1111', { target: 'user' })
    expect(scan.matches).toHaveLength(1)
    expect(scan.matches[0].excerpt).toContain('then [REDACTED:pii.credit-card]')
    expect(scan.matches[0].excerpt).not.toContain('4111')
  })
})
