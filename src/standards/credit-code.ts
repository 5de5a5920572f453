/**
 * 统一社会信用代码 — unified social credit code, GB 32100-2015: 17 characters over a 31-symbol alphabet
 * plus a MOD 31 check character. Every weight is non-zero modulo the prime 31, so any single-character
 * substitution changes the check.
 */

export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** 3^i mod 31 for positions 1–17. */
const WEIGHTS = Array.from({ length: 17 }, (_, i) => Number(3n ** BigInt(i) % 31n));
const BODY = /^[0-9A-HJ-NPQRTUWXY]{17}$/;

/** The check character for the first 17 characters; throws on a body outside the alphabet. */
export function creditCodeCheckChar(body17: string): string {
  if (!BODY.test(body17)) throw new RangeError(`"${body17}" is not 17 characters of the GB 32100 alphabet`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_CODE_ALPHABET.indexOf(body17[i]!) * WEIGHTS[i]!;
  // 31 − (Σ mod 31), with 31 written as '0'.
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Why `code` is not a valid unified social credit code, or undefined when it is. */
export function creditCodeError(code: string): string | undefined {
  if (code.length !== 18) return `must be 18 characters, got ${[...code].length}`;
  const bad = [...code].find((c) => !CREDIT_CODE_ALPHABET.includes(c));
  if (bad !== undefined) {
    const hint = /[a-z]/.test(bad) ? ' (letters must be upper case)' : ' (I, O, S, V and Z are never used)';
    return `contains "${bad}", which is not in the GB 32100 alphabet 0-9 A-H J-N P Q R T U W X Y${hint}`;
  }
  const expected = creditCodeCheckChar(code.slice(0, 17));
  if (code[17] !== expected) return `check character is wrong: "${code[17]}" given, the first 17 characters need "${expected}" (GB 32100)`;
  return undefined;
}

export function isValidCreditCode(code: string): boolean {
  return creditCodeError(code) === undefined;
}
