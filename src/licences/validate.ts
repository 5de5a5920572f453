/**
 * Checks licence data against its type's schema. The result is the `fields` list of a 422 problem:
 * at most one message per field, naming the field in Chinese and English and saying what to change.
 */
import { OneSealError, type FieldError } from '../errors.js';
import { creditCodeError } from '../standards/credit-code.js';
import { parseIsoDate, type CalendarDate } from '../standards/date.js';
import { residentIdError } from '../standards/resident-id.js';
import { decodeImageField } from './image-field.js';
import { LONG_TERM, type FieldDef, type LicenceType } from './types.js';

/** Licence data: field name → value, all strings (images as base64). */
export type LicenceData = Record<string, string>;

const CONTROL = /\p{Cc}/u;
const dateOrder = (d: CalendarDate): number => d.year * 10_000 + d.month * 100 + d.day;

/** Why one present string value is wrong for its field, or undefined. */
function valueProblem(def: FieldDef, value: string): string | undefined {
  const length = [...value].length;
  if (def.maxLength !== undefined && length > def.maxLength) return `is ${length} characters long; at most ${def.maxLength} fit`;
  switch (def.kind) {
    case 'date':
      if (!parseIsoDate(value)) return `"${value}" is not a real date written YYYY-MM-DD`;
      break;
    case 'date-or-long-term':
      if (value !== LONG_TERM && !parseIsoDate(value)) return `"${value}" is neither a real date written YYYY-MM-DD nor ${LONG_TERM}`;
      break;
    case 'credit-code': {
      const bad = creditCodeError(value);
      if (bad) return `"${value}" is not a valid unified social credit code: ${bad}`;
      break;
    }
    case 'id-number': {
      const bad = residentIdError(value);
      if (bad) return `"${value}" is not a valid resident ID number: ${bad}`;
      break;
    }
    case 'enum':
      if (!def.values!.includes(value)) return `"${value}" is not one of ${def.values!.join(', ')}`;
      break;
    case 'image': {
      const image = decodeImageField(value);
      if (typeof image === 'string') return image;
      break;
    }
    case 'text':
      if (CONTROL.test(value)) return 'must be a single line without control characters';
      if (value.trim() !== value) return 'must not start or end with spaces';
      break;
  }
  if (def.pattern !== undefined && !new RegExp(`^(?:${def.pattern})$`, 'u').test(value)) return `"${value}" does not have the required form: ${def.patternHint}`;
  return undefined;
}

const describe = (def: FieldDef): string => `${def.label.zh} (${def.label.en})`;

/** Every problem of `data` as a licence of `type`; empty when the data is valid. */
export function validateLicenceData(type: LicenceType, data: unknown): FieldError[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return [{ field: 'data', message: `licence data must be an object of field values for ${type.title.zh} (${type.id})` }];
  }
  const record = data as Record<string, unknown>;
  const errors: FieldError[] = [];
  const defs = new Map(type.fields.map((f) => [f.name, f]));

  for (const key of Object.keys(record)) {
    if (!defs.has(key)) {
      errors.push({ field: key, message: `${key} is not a field of ${type.title.zh} (${type.id}); its fields are ${[...defs.keys()].join(', ')}` });
    }
  }
  for (const def of type.fields) {
    const value = record[def.name];
    let problem: string | undefined;
    if (value === undefined || value === null || value === '') problem = def.required ? 'is required' : undefined;
    else if (typeof value !== 'string') problem = 'must be a string';
    else problem = valueProblem(def, value);
    if (problem) errors.push({ field: def.name, message: `${describe(def)}: ${problem}` });
  }

  const { from, to } = type.validity;
  if (!errors.some((e) => e.field === from || e.field === to)) {
    const start = parseIsoDate(String(record[from]));
    const end = parseIsoDate(String(record[to]));
    if (start && end && dateOrder(end) < dateOrder(start)) {
      errors.push({ field: to, message: `${describe(defs.get(to)!)}: ${record[to]} is before ${describe(defs.get(from)!)} ${record[from]}` });
    }
  }
  return errors;
}

/** Throws OneSealError('invalid-licence-data', 'unprocessable') with the per-field problems unless `data` is valid. */
export function assertValidLicenceData(type: LicenceType, data: unknown): asserts data is LicenceData {
  const fields = validateLicenceData(type, data);
  if (fields.length > 0) {
    throw new OneSealError(
      'invalid-licence-data',
      'unprocessable',
      `the ${type.title.en.toLowerCase()} (${type.title.zh}) data has ${fields.length} problem${fields.length === 1 ? '' : 's'}: ${fields.map((f) => f.field).join(', ')}`,
      { fields },
    );
  }
}
