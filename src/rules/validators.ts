/**
 * Named validators: checks a regular expression cannot make, run on a match after the RE2 pass.
 * A rule names one with `validate: <name>`; a match that fails it does not count.
 */

/** Luhn checksum of the digits of `match` (card numbers: 13 to 19 digits). */
function luhn(match: string): boolean {
  const digits = match.replace(/\D/g, '')
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/** IBAN mod-97 check (ISO 13616): move the first four characters to the end, letters to numbers. */
function iban(match: string): boolean {
  const s = match.replace(/[\s-]/g, '').toUpperCase()
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false
  const rearranged = s.slice(4) + s.slice(0, 4)
  let rest = 0
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0)
    const value = code >= 65 ? code - 55 : code - 48
    rest = (value > 9 ? rest * 100 + value : rest * 10 + value) % 97
  }
  return rest === 1
}

/** An SQL DELETE/UPDATE statement with no WHERE clause (RE2 has no lookahead to say so). */
function sqlWithoutWhere(match: string): boolean {
  return !/\bwhere\b/i.test(match)
}

const NEGATION = /^(?:(?:do|does|did|should|must|will|would|could|can|may) not|(?:don|doesn|didn|shouldn|mustn|won|wouldn|couldn|can)['’]t|never|not)\s/i

/**
 * The match does not start with a negation. RE2 has no lookbehind, so a rule that must not fire on
 * "do not ignore the previous instructions" matches an optional negation in front and lets this drop it.
 */
function notNegated(match: string): boolean {
  return !NEGATION.test(match)
}

/** Domains reserved for documentation and tests (RFC 2606, RFC 6761), with their subdomains. */
const RESERVED_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)\.?$/i

/**
 * An email address whose domain is not reserved for examples (`jane@example.com`, `a@b.test`,
 * `x@host.localhost`): those never belong to a real person.
 */
function notReservedEmail(match: string): boolean {
  return !RESERVED_DOMAIN.test(match.slice(match.lastIndexOf('@') + 1))
}

/**
 * A phone number outside the North American range kept for fiction, NPA-555-0100 to NPA-555-0199
 * (`(212) 555-0123`, `+1 212 555 0123`).
 */
function notFictionalPhone(match: string): boolean {
  const digits = match.replace(/\D/g, '')
  const national = digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits
  return !(national.length === 10 && /^\d{3}55501\d\d$/.test(national))
}

export const VALIDATORS = {
  luhn,
  iban,
  'sql-without-where': sqlWithoutWhere,
  'not-negated': notNegated,
  'not-reserved-email': notReservedEmail,
  'not-fictional-phone': notFictionalPhone,
} as const satisfies Record<string, (match: string) => boolean>

export type ValidatorName = keyof typeof VALIDATORS
