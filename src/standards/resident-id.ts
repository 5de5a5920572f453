/**
 * 公民身份号码 — resident identity number, GB 11643-1999: 6-digit address code, 8-digit birth date,
 * 3-digit sequence, ISO 7064 MOD 11-2 check character (0–9 or X). Weights 2^(17−i) mod 11 are all
 * non-zero modulo the prime 11, so a single changed digit always changes the check.
 */
import { isRealDate } from './date.js';

const WEIGHTS = Array.from({ length: 17 }, (_, i) => Number(2n ** BigInt(17 - i) % 11n));
const CHECK = '10X98765432';

/** The check character for 17 digits; throws when `body17` is not 17 ASCII digits. */
export function residentIdCheckChar(body17: string): string {
  if (!/^\d{17}$/.test(body17)) throw new RangeError(`"${body17}" is not 17 digits`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

/** Why `id` is not a valid resident ID number, or undefined when it is. */
export function residentIdError(id: string): string | undefined {
  if (!/^\d{17}[\dX]$/.test(id)) {
    if (/^\d{17}x$/.test(id)) return 'the check character X must be upper case';
    return 'must be 17 digits followed by a digit or X (GB 11643)';
  }
  const [y, m, d] = [Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14))];
  if (!isRealDate(y, m, d)) return `digits 7–14 (${id.slice(6, 14)}) are not a real birth date`;
  const expected = residentIdCheckChar(id.slice(0, 17));
  if (id[17] !== expected) return `check character is wrong: "${id[17]}" given, the first 17 digits need "${expected}" (GB 11643)`;
  return undefined;
}

export function isValidResidentId(id: string): boolean {
  return residentIdError(id) === undefined;
}
