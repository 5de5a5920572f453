/**
 * 电子证照标识 — electronic licence identifier as deployed under GB/T 36904-2018:
 *   1.2.156.3005.2.{type code}.{issuer}.{serial}.{version}.{check}
 * The type code is the defining body's unified social credit code plus 3 digits; the issuer is the issuing
 * body's credit code (some deployed systems use a 6-digit GB/T 2260 division code instead, so parsing
 * accepts that too); the check is ISO/IEC 7064 MOD 37,36 over type code + issuer + serial + version joined
 * without dots. MOD 37,36 detects every single-character substitution.
 */
import { OneSealError } from '../errors.js';
import { creditCodeError } from './credit-code.js';

export const LICENCE_ID_PREFIX = '1.2.156.3005.2';
const ALPHABET_36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SERIAL = /^[0-9A-Z]{1,40}$/;
const VERSION = /^\d{3}$/;

export interface LicenceIdParts {
  /** 21 characters: the defining body's credit code + 3 digits. */
  typeCode: string;
  /** The issuing body's credit code (or, in parsed identifiers only, a 6-digit division code). */
  issuer: string;
  serial: string;
  /** 3 digits, e.g. '001'. */
  version: string;
}

export interface ParsedLicenceId extends LicenceIdParts {
  check: string;
}

/** ISO/IEC 7064 MOD 37,36 check character over 0-9A-Z; throws on any other character. */
export function mod37_36CheckChar(text: string): string {
  let p = 36;
  for (const ch of text) {
    const v = ALPHABET_36.indexOf(ch);
    if (v < 0) throw new RangeError(`"${ch}" is not in the MOD 37,36 alphabet 0-9A-Z`);
    const s = (p + v) % 36 || 36;
    p = (2 * s) % 37;
  }
  return ALPHABET_36[(37 - p) % 36]!;
}

/** Why a type code is not acceptable, or undefined. */
export function licenceTypeCodeError(typeCode: string): string | undefined {
  if (!/^[0-9A-Z]{18}\d{3}$/.test(typeCode)) return `type code "${typeCode}" must be a credit code followed by 3 digits (21 characters)`;
  const bad = creditCodeError(typeCode.slice(0, 18));
  return bad && `type code "${typeCode}": the defining body's credit code ${bad}`;
}

function partsError(parts: LicenceIdParts, issuerMayBeDivision: boolean): string | undefined {
  const typeProblem = licenceTypeCodeError(parts.typeCode);
  if (typeProblem) return typeProblem;
  const isDivision = issuerMayBeDivision && /^\d{6}$/.test(parts.issuer);
  if (!isDivision) {
    const bad = creditCodeError(parts.issuer);
    if (bad) return `issuer "${parts.issuer}" is not a valid unified social credit code: ${bad}`;
  }
  if (!SERIAL.test(parts.serial)) return `serial "${parts.serial}" must be 1–40 characters of 0-9 and A-Z`;
  if (!VERSION.test(parts.version)) return `version "${parts.version}" must be 3 digits`;
  return undefined;
}

/** Builds the identifier; the issuer must be a credit code. Throws OneSealError('invalid-licence-id'). */
export function buildLicenceId(parts: LicenceIdParts): string {
  const problem = partsError(parts, false);
  if (problem) throw new OneSealError('invalid-licence-id', 'bad-request', `cannot build a licence identifier: ${problem}`);
  const check = mod37_36CheckChar(parts.typeCode + parts.issuer + parts.serial + parts.version);
  return [LICENCE_ID_PREFIX, parts.typeCode, parts.issuer, parts.serial, parts.version, check].join('.');
}

function parse(id: string): { parts?: ParsedLicenceId; error?: string } {
  if (!id.startsWith(LICENCE_ID_PREFIX + '.')) return { error: `must start with ${LICENCE_ID_PREFIX}.` };
  const rest = id.slice(LICENCE_ID_PREFIX.length + 1).split('.');
  if (rest.length !== 5) return { error: 'must have 5 dot-separated parts after the prefix: type code, issuer, serial, version, check' };
  const [typeCode, issuer, serial, version, check] = rest as [string, string, string, string, string];
  const parts = { typeCode, issuer, serial, version, check };
  const problem = partsError(parts, true);
  if (problem) return { error: problem };
  const expected = mod37_36CheckChar(typeCode + issuer + serial + version);
  if (check !== expected) return { error: `check character is wrong: "${check}" given, expected "${expected}" (ISO/IEC 7064 MOD 37,36)` };
  return { parts };
}

/** Why `id` is not a valid licence identifier, or undefined when it is. */
export function licenceIdError(id: string): string | undefined {
  return parse(id).error;
}

export function isValidLicenceId(id: string): boolean {
  return parse(id).error === undefined;
}

/** Splits a valid identifier into its parts; throws OneSealError('invalid-licence-id') otherwise. */
export function parseLicenceId(id: string): ParsedLicenceId {
  const { parts, error } = parse(id);
  if (!parts) throw new OneSealError('invalid-licence-id', 'bad-request', `"${id}" is not a valid electronic licence identifier: ${error}`);
  return parts;
}
