/**
 * Administrators' seal requests as they arrive (JSON body or CLI flags), checked field by field so
 * every mistake is reported at once, before any key is generated.
 */
import { OneSealError, type FieldError } from '../errors.js';
import type { KeyAlgorithm } from '../hsm/types.js';
import { decodePng } from '../stamp/image.js';
import { creditCodeError } from '../standards/credit-code.js';
import { parseRotationPolicy, type RotationPolicy } from './scheduler.js';
import type { NewSealInput } from './service.js';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'];
/** A seal certificate for longer than ten years outlives any sensible key rotation. */
const MAX_VALIDITY_DAYS = 3650;
const MAX_TEXT = 200;
const CREATE_FIELDS = new Set([
  'id', 'organisation', 'creditCode', 'name', 'sealType', 'keyAlgorithm', 'certValidityDays', 'twoPersonControl', 'rotationPolicy', 'appearance',
]);

export interface CreateSealRequest {
  seal: NewSealInput;
  rotationPolicy: RotationPolicy | null;
}

function invalid(fields: FieldError[]): OneSealError {
  return new OneSealError('invalid-seal-request', 'unprocessable', `The request has ${fields.length === 1 ? 'a problem' : `${fields.length} problems`}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}.`, {
    fields,
  });
}

function asObject(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new OneSealError('invalid-seal-request', 'unprocessable', `${what} must be a JSON object.`);
  }
  return input as Record<string, unknown>;
}

function text(o: Record<string, unknown>, field: string, errors: FieldError[], required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '') errors.push({ field, message: 'is required (a non-empty string)' });
  else if (v.length > MAX_TEXT) errors.push({ field, message: `is longer than ${MAX_TEXT} characters` });
  else return v.trim();
  return undefined;
}

function appearanceOf(value: unknown, errors: FieldError[]): NewSealInput['appearance'] {
  if (value === undefined) return undefined;
  const a = value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || (a.kind !== 'generated' && a.kind !== 'image')) {
    errors.push({ field: 'appearance', message: 'must be { "kind": "generated" } or { "kind": "image", "pngBase64": "…" }' });
    return undefined;
  }
  const { diameterMm } = a;
  if (diameterMm !== undefined && !(typeof diameterMm === 'number' && diameterMm >= 10 && diameterMm <= 100)) {
    errors.push({ field: 'appearance.diameterMm', message: 'must be a number of millimetres between 10 and 100' });
  }
  const size = typeof diameterMm === 'number' ? { diameterMm } : {};
  if (a.kind === 'generated') return { kind: 'generated', ...size };
  if (typeof a.pngBase64 !== 'string') {
    errors.push({ field: 'appearance.pngBase64', message: 'is required for an image seal (base64 of a PNG)' });
    return undefined;
  }
  try {
    // Checked now, so a broken image is refused here and not at the first stamp.
    decodePng(Buffer.from(a.pngBase64, 'base64'));
  } catch (e) {
    errors.push({ field: 'appearance.pngBase64', message: (e as Error).message });
  }
  return { kind: 'image', pngBase64: a.pngBase64, ...size };
}

/** Checks a create-seal request; throws one OneSealError listing every bad field. */
export function parseCreateSeal(input: unknown): CreateSealRequest {
  const o = asObject(input, 'The seal');
  const errors: FieldError[] = [];
  for (const key of Object.keys(o)) if (!CREATE_FIELDS.has(key)) errors.push({ field: key, message: 'is not a seal field' });
  const id = text(o, 'id', errors, true);
  const organisation = text(o, 'organisation', errors, true);
  const name = text(o, 'name', errors, true);
  const sealType = text(o, 'sealType', errors, false);
  const creditCode = text(o, 'creditCode', errors, true);
  const codeProblem = creditCode === undefined ? undefined : creditCodeError(creditCode);
  if (codeProblem) errors.push({ field: 'creditCode', message: codeProblem });
  const { keyAlgorithm, certValidityDays, twoPersonControl } = o;
  if (keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(keyAlgorithm as KeyAlgorithm)) {
    errors.push({ field: 'keyAlgorithm', message: `must be one of ${KEY_ALGORITHMS.join(', ')}` });
  }
  if (certValidityDays !== undefined && !(Number.isInteger(certValidityDays) && (certValidityDays as number) >= 1 && (certValidityDays as number) <= MAX_VALIDITY_DAYS)) {
    errors.push({ field: 'certValidityDays', message: `must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS}` });
  }
  if (twoPersonControl !== undefined && typeof twoPersonControl !== 'boolean') errors.push({ field: 'twoPersonControl', message: 'must be true or false' });
  let rotationPolicy: RotationPolicy | null = null;
  try {
    rotationPolicy = parseRotationPolicy(o.rotationPolicy);
  } catch (e) {
    errors.push({ field: 'rotationPolicy', message: (e as Error).message });
  }
  const appearance = appearanceOf(o.appearance, errors);
  if (errors.length) throw invalid(errors);
  return {
    seal: {
      id: id!,
      organisation: organisation!,
      creditCode: creditCode!,
      name: name!,
      ...(sealType ? { sealType } : {}),
      ...(keyAlgorithm !== undefined ? { keyAlgorithm: keyAlgorithm as KeyAlgorithm } : {}),
      ...(certValidityDays !== undefined ? { certValidityDays: certValidityDays as number } : {}),
      ...(twoPersonControl !== undefined ? { twoPersonControl: twoPersonControl as boolean } : {}),
      ...(appearance ? { appearance } : {}),
    },
    rotationPolicy,
  };
}

/** A revocation request: the reason, and optionally when the key stopped being trustworthy (ISO-8601). */
export function parseRevokeRequest(input: unknown): { reason: string; revokedAt?: string } {
  const o = asObject(input ?? {}, 'The revocation');
  const errors: FieldError[] = [];
  if (typeof o.reason !== 'string') errors.push({ field: 'reason', message: 'is required, e.g. "keyCompromise", "superseded", "cessationOfOperation"' });
  let revokedAt: string | undefined;
  if (o.revokedAt !== undefined) {
    const t = typeof o.revokedAt === 'string' ? Date.parse(o.revokedAt) : NaN;
    if (Number.isNaN(t)) errors.push({ field: 'revokedAt', message: 'must be an ISO-8601 date-time' });
    else revokedAt = new Date(t).toISOString();
  }
  if (errors.length) throw invalid(errors);
  return { reason: o.reason as string, ...(revokedAt ? { revokedAt } : {}) };
}

/** A version number from a URL segment or CLI argument. */
export function parseVersionNumber(value: string | undefined): number {
  const n = Number(value);
  if (!value || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new OneSealError('invalid-seal-version', 'bad-request', `"${value ?? ''}" is not a version number (1, 2, …).`);
  }
  return n;
}
