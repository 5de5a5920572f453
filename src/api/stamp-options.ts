/**
 * Stamp options as the API takes them (form fields or query parameters, all strings) → a checked
 * StampRequest. Every bad field is reported at once, by name, so a client fixes the request in one pass.
 */
import { OneSealError, type FieldError } from '../errors.js';
import type { DocMdpPermission } from '../signing/signature-dict.js';
import type { PadesLevel } from '../signing/sign-pdf.js';
import type { StampPlacement, StampRequest } from '../stamping/stamper.js';
import { parsePageRanges } from '../stamp/straddle.js';

export interface StampOptions {
  request: StampRequest;
  caseNumber: string | null;
  itemCode: string | null;
}

export const STAMP_OPTION_NAMES = [
  'seal', 'page', 'x', 'y', 'unit', 'anchor', 'field', 'invisible', 'straddle', 'straddlePages', 'straddlePagesPerSeal', 'level', 'certify', 'reason', 'location',
  'contactInfo', 'caseNumber', 'itemCode',
] as const;
const KNOWN = new Set<string>(STAMP_OPTION_NAMES);
const LEVELS: readonly PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];
/** Case numbers and item codes go into records and audit entries: printable, one line, bounded. */
const CODE = /^[^\p{Cc}]{1,64}$/u;
const MAX_TEXT = 200;

/** `defaultSeal` is used when the request names none (a client granted exactly one seal). */
export function parseStampOptions(raw: Record<string, string>, opts: { defaultSeal?: string } = {}): StampOptions {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key)) fail(key, `unknown option; known options: ${STAMP_OPTION_NAMES.join(', ')}`);
  }
  const get = (f: string): string | undefined => (raw[f] === undefined ? undefined : raw[f]!.trim());

  const num = (f: string, { integer = false, min = 0 } = {}): number | undefined => {
    const v = get(f);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      fail(f, `must be ${integer ? 'a whole number' : 'a number'}, got "${v}"`);
      return undefined;
    }
    if (n < min) {
      fail(f, `must be ${min} or more, got ${v}`);
      return undefined;
    }
    return n;
  };
  const bool = (f: string): boolean | undefined => {
    const v = get(f)?.toLowerCase();
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    fail(f, `must be true or false, got "${v}"`);
    return undefined;
  };
  const text = (f: string, max = MAX_TEXT): string | undefined => {
    const v = get(f);
    if (v === undefined) return undefined;
    if (v === '' || v.length > max || /\p{Cc}/u.test(v)) fail(f, `must be 1 to ${max} characters without control characters`);
    return v;
  };

  const seal = get('seal') || opts.defaultSeal;
  if (!seal) fail('seal', 'required: name the seal to stamp with (GET /v1/seals lists yours)');

  const page = num('page', { integer: true, min: 1 });
  const x = num('x');
  const y = num('y');
  const unitRaw = get('unit');
  if (unitRaw !== undefined && unitRaw !== 'mm' && unitRaw !== 'pt') fail('unit', `must be mm or pt, got "${unitRaw}"`);
  const anchor = text('anchor');
  const field = text('field', 128);
  const invisible = bool('invisible');

  const straddlePagesRaw = get('straddlePages');
  const straddlePages = straddlePagesRaw === undefined ? undefined : parsePageRanges(straddlePagesRaw);
  if (straddlePagesRaw !== undefined && !straddlePages) fail('straddlePages', `must be pages or ranges such as 1-30 or 1-5,8, got "${straddlePagesRaw}"`);
  const straddlePagesPerSeal = num('straddlePagesPerSeal', { integer: true, min: 2 });
  // Choosing the pages or the grouping of a paging seal asks for one.
  const straddle = bool('straddle') ?? (straddlePagesRaw !== undefined || straddlePagesPerSeal !== undefined ? true : undefined);
  if (straddle === false && (straddlePagesRaw !== undefined || straddlePagesPerSeal !== undefined)) fail('straddle', 'is false, but straddlePages or straddlePagesPerSeal ask for a paging seal');
  const positional = ['page', 'x', 'y'].filter((f) => raw[f] !== undefined);
  const forms = [positional.length > 0 && !anchor ? 'page/x/y' : undefined, anchor ? 'anchor' : undefined,
    field ? 'field' : undefined, invisible ? 'invisible' : undefined].filter(Boolean);
  let placement: StampPlacement | undefined;
  if (forms.length > 1) {
    fail('placement', `give one way to place the seal, not ${forms.join(' and ')}`);
  } else if (anchor) {
    if (x !== undefined || y !== undefined) fail('anchor', 'cannot be combined with x/y (page may narrow the search)');
    placement = { kind: 'anchor', text: anchor, ...(page !== undefined ? { page } : {}) };
  } else if (positional.length > 0) {
    for (const f of ['page', 'x', 'y']) if (raw[f] === undefined) fail(f, 'required with page/x/y placement');
    if (page !== undefined && x !== undefined && y !== undefined) {
      placement = { kind: 'position', page, x, y, unit: (unitRaw as 'mm' | 'pt' | undefined) ?? 'mm' };
    }
  } else if (field) {
    placement = { kind: 'field', name: field };
  } else if (invisible || straddle) {
    // A paging seal alone: the signature shows only as its slices.
    placement = { kind: 'invisible' };
  } else if (!errors.some((e) => ['page', 'x', 'y', 'anchor', 'field', 'invisible'].includes(e.field))) {
    fail('placement', 'say where the seal goes: page+x+y (the seal centre in mm from the lower-left corner of the page as shown, or unit=pt), anchor (text to stamp on), field (an empty signature field), straddle=true (a paging seal only), or invisible=true');
  }

  const levelRaw = get('level');
  const level = levelRaw === undefined ? undefined : (levelRaw.toUpperCase() as PadesLevel);
  if (level !== undefined && !LEVELS.includes(level)) fail('level', `must be one of ${LEVELS.join(', ')}, got "${levelRaw}"`);
  const certifyRaw = get('certify');
  if (certifyRaw !== undefined && !['1', '2', '3'].includes(certifyRaw)) {
    fail('certify', `must be 1 (no changes), 2 (form filling and signing) or 3 (also annotations), got "${certifyRaw}"`);
  }
  const reason = text('reason');
  const location = text('location');
  const contactInfo = text('contactInfo');
  const caseNumber = get('caseNumber');
  if (caseNumber !== undefined && !CODE.test(caseNumber)) fail('caseNumber', 'must be 1 to 64 characters without control characters');
  const itemCode = get('itemCode');
  if (itemCode !== undefined && !CODE.test(itemCode)) fail('itemCode', 'must be 1 to 64 characters without control characters');

  if (errors.length || !seal || !placement) {
    throw new OneSealError('invalid-stamp-options', 'bad-request',
      `The stamp options are invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}.`, { fields: errors });
  }
  const request: StampRequest = {
    sealId: seal,
    placement,
    ...(straddle ? { straddle } : {}),
    ...(straddle && straddlePages ? { straddlePages } : {}),
    ...(straddle && straddlePagesPerSeal !== undefined ? { straddlePagesPerSeal } : {}),
    ...(level ? { level } : {}),
    ...(certifyRaw ? { certify: Number(certifyRaw) as DocMdpPermission } : {}),
    ...(reason ? { reason } : {}),
    ...(location ? { location } : {}),
    ...(contactInfo ? { contactInfo } : {}),
  };
  return { request, caseNumber: caseNumber ?? null, itemCode: itemCode ?? null };
}
