/**
 * Licence types are data: a JSON definition (fields, holder, validity, layout) read by one generic engine
 * (validate.ts, render.ts). `parseLicenceType` checks a definition once, when it is loaded, so that a
 * mistake in a new type's JSON is reported at start-up with its path instead of surfacing while rendering.
 */
import { OneSealError } from '../errors.js';
import { licenceTypeCodeError } from '../standards/licence-id.js';

export type FieldKind = 'text' | 'date' | 'date-or-long-term' | 'credit-code' | 'id-number' | 'enum' | 'image';
const KINDS: readonly FieldKind[] = ['text', 'date', 'date-or-long-term', 'credit-code', 'id-number', 'enum', 'image'];

/** What a date-or-long-term field holds for an open-ended term (营业期限 “长期”). */
export const LONG_TERM = '长期';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface FieldDef {
  /** Key in the licence data object. */
  name: string;
  label: Bilingual;
  kind: FieldKind;
  required: boolean;
  /** Maximum length in characters (code points); for images, in base64 characters. */
  maxLength?: number;
  /** A regular expression the whole value must match (anchored by the engine). */
  pattern?: string;
  /** Says in words what `pattern` demands, for the error message. */
  patternHint?: string;
  /** The allowed values of an enum field. */
  values?: string[];
}

export interface LicenceLayout {
  /** Page size in millimetres; landscape when width > height. */
  page: { width: number; height: number };
  /** Distance from the page edge to the outer frame line, in millimetres. */
  margin: number;
  /** Title size in points. */
  titleSize: number;
  /** Body text size in points; the renderer shrinks it (to 70 % at most) when long values would not fit. */
  fontSize: number;
  /** Field names per column, top to bottom; together they list every non-image field exactly once. */
  columns: string[][];
  /** An image field shown at the top right of the body, with its box in millimetres. */
  photo?: { field: string; width: number; height: number };
  /** Label over the issuer's name at the bottom right, e.g. 登记机关. */
  issuerLabel: Bilingual;
  /** Side of the square reserved for the seal over the issuer block, in millimetres. */
  seal: { size: number };
  /** Width of the QR code including its quiet zone, in millimetres (at least 25). */
  qr: { size: number };
}

export interface LicenceType {
  /** URL-safe identifier, e.g. business-licence. */
  id: string;
  title: Bilingual;
  /** GB/T 36904 licence type code: the defining body's credit code + 3 digits. */
  typeCode: string;
  fields: FieldDef[];
  /** The fields naming the holder and carrying the holder's identifying number (masked in public views). */
  holder: { name: string; id: string };
  /** The fields bounding the validity period; `to` may be a date-or-long-term field. */
  validity: { from: string; to: string };
  /**
   * A date field that holds the issue date (居住证 签发日期). OneSeal fills it with the day of issue
   * (China time), the same day the issuer block and the record show; a client may not choose another.
   */
  issueDate?: string;
  /**
   * The fields that identify the holder for the duplicate check: only one current licence of this type
   * may have the same values (e.g. one current 营业执照 per credit code). Absent: no check.
   */
  duplicateKey?: string[];
  /** The seal that issues this type unless the request names another the caller is granted (default: approval). */
  issuingSeal?: string;
  layout: LicenceLayout;
}

/** Collects every problem of a definition, so one start-up error lists them all. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function checkBilingual(v: unknown, where: string, p: Problems): void {
  if (!isObject(v) || !isText(v['zh']) || !isText(v['en'])) p.add(`${where} must be { "zh": "…", "en": "…" }`);
}

function checkField(f: unknown, i: number, p: Problems): void {
  const where = `fields[${i}]`;
  if (!isObject(f)) return p.add(`${where} must be an object`);
  if (!isText(f['name']) || !/^[A-Za-z][A-Za-z0-9]*$/.test(f['name'])) p.add(`${where}.name must be an identifier such as "legalRepresentative"`);
  checkBilingual(f['label'], `${where}.label`, p);
  if (!KINDS.includes(f['kind'] as FieldKind)) p.add(`${where}.kind must be one of ${KINDS.join(', ')}`);
  if (typeof f['required'] !== 'boolean') p.add(`${where}.required must be true or false`);
  if (f['maxLength'] !== undefined && !(Number.isInteger(f['maxLength']) && isPositive(f['maxLength']))) p.add(`${where}.maxLength must be a positive integer`);
  if (f['pattern'] !== undefined) {
    try {
      new RegExp(String(f['pattern']), 'u');
    } catch {
      p.add(`${where}.pattern is not a valid regular expression`);
    }
    if (!isText(f['patternHint'])) p.add(`${where}.patternHint must say in words what the pattern demands`);
  }
  if (f['kind'] === 'enum' && !(Array.isArray(f['values']) && f['values'].length > 0 && f['values'].every(isText))) {
    p.add(`${where}.values must list the allowed values of the enum`);
  }
}

function checkLayout(l: unknown, fields: Map<string, FieldKind>, p: Problems): void {
  if (!isObject(l)) return p.add('layout must be an object');
  const page = l['page'];
  if (!isObject(page) || !isPositive(page['width']) || !isPositive(page['height'])) p.add('layout.page must be { "width": mm, "height": mm }');
  for (const key of ['margin', 'titleSize', 'fontSize'] as const) if (!isPositive(l[key])) p.add(`layout.${key} must be a positive number`);
  checkBilingual(l['issuerLabel'], 'layout.issuerLabel', p);
  if (!isObject(l['seal']) || !isPositive(l['seal']['size'])) p.add('layout.seal.size must be a positive number of millimetres');
  if (!isObject(l['qr']) || !(isPositive(l['qr']['size']) && l['qr']['size'] >= 25)) p.add('layout.qr.size must be at least 25 (mm) so phones read it from paper');

  const columns = l['columns'];
  const placed = new Set<string>();
  if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => Array.isArray(c) && c.length > 0)) {
    p.add('layout.columns must be a non-empty list of non-empty field-name lists');
  } else {
    for (const name of columns.flat()) {
      if (fields.get(String(name)) === undefined) p.add(`layout.columns names "${name}", which is not a field`);
      else if (fields.get(String(name)) === 'image') p.add(`layout.columns lists the image field "${name}"; images go in layout.photo`);
      else if (placed.has(String(name))) p.add(`layout.columns lists "${name}" twice`);
      placed.add(String(name));
    }
  }
  const photo = l['photo'];
  if (photo !== undefined) {
    if (!isObject(photo) || !isPositive(photo['width']) || !isPositive(photo['height'])) p.add('layout.photo must be { "field", "width": mm, "height": mm }');
    else if (fields.get(String(photo['field'])) !== 'image') p.add(`layout.photo.field "${photo['field']}" must be an image field`);
  }
  for (const [name, kind] of fields) {
    if (kind === 'image' && (!isObject(photo) || photo['field'] !== name)) p.add(`the image field "${name}" needs layout.photo`);
    if (kind !== 'image' && !placed.has(name)) p.add(`field "${name}" is not placed in layout.columns`);
  }
}

/** Checks a licence type definition read from JSON; throws OneSealError('licence-type-invalid') listing every problem. */
export function parseLicenceType(raw: unknown, source: string): LicenceType {
  const p = new Problems();
  if (!isObject(raw)) throw new OneSealError('licence-type-invalid', 'internal', `licence type ${source}: the definition must be a JSON object`);
  if (!isText(raw['id']) || !/^[a-z][a-z0-9-]*$/.test(raw['id'])) p.add('id must be lower-case letters, digits and hyphens, e.g. "business-licence"');
  checkBilingual(raw['title'], 'title', p);
  const codeProblem = typeof raw['typeCode'] === 'string' ? licenceTypeCodeError(raw['typeCode']) : 'typeCode must be a string';
  if (codeProblem) p.add(codeProblem);

  const fields = new Map<string, FieldKind>();
  if (!Array.isArray(raw['fields']) || raw['fields'].length === 0) p.add('fields must be a non-empty list');
  else {
    raw['fields'].forEach((f, i) => {
      checkField(f, i, p);
      if (isObject(f) && isText(f['name'])) {
        if (fields.has(f['name'])) p.add(`field "${f['name']}" is defined twice`);
        fields.set(f['name'], f['kind'] as FieldKind);
      }
    });
  }
  const holder = raw['holder'];
  if (!isObject(holder) || !fields.has(String(holder['name'])) || !fields.has(String(holder['id']))) {
    p.add('holder must name two fields: { "name": field, "id": field }');
  }
  const validity = raw['validity'];
  if (!isObject(validity) || fields.get(String(validity['from'])) !== 'date' || !['date', 'date-or-long-term'].includes(fields.get(String(validity['to'])) ?? '')) {
    p.add('validity must be { "from": a date field, "to": a date or date-or-long-term field }');
  }
  if (raw['issueDate'] !== undefined && fields.get(String(raw['issueDate'])) !== 'date') p.add('issueDate must name a date field');
  const dup = raw['duplicateKey'];
  if (dup !== undefined && !(Array.isArray(dup) && dup.length > 0 && dup.every((f) => fields.has(String(f)) && fields.get(String(f)) !== 'image'))) {
    p.add('duplicateKey must list one or more (non-image) fields');
  }
  if (raw['issuingSeal'] !== undefined && !(isText(raw['issuingSeal']) && /^[a-z0-9][a-z0-9-]{0,62}$/.test(raw['issuingSeal']))) p.add('issuingSeal must be a seal id');
  checkLayout(raw['layout'], fields, p);

  if (p.list.length > 0) {
    throw new OneSealError('licence-type-invalid', 'internal', `licence type ${source} is not usable: ${p.list.join('; ')}`, {
      extra: { problems: p.list },
    });
  }
  return raw as unknown as LicenceType;
}
