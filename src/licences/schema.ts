/**
 * A licence type's data as a JSON Schema (2020-12), for GET /v1/licence-types: what an integrator's
 * form or validator needs. The engine (validate.ts) stays the authority: check digits and date order
 * are beyond what the schema says.
 */
import { LONG_TERM, type FieldDef, type LicenceType } from './types.js';

const CREDIT_CODE = '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$';
const ID_NUMBER = '^[0-9]{17}[0-9X]$';
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

function fieldSchema(f: FieldDef, issueDate: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { title: f.label.zh, description: f.label.en + (issueDate ? ' (set by OneSeal to the day of issue; leave it out)' : '') };
  if (f.maxLength !== undefined) base.maxLength = f.maxLength;
  switch (f.kind) {
    case 'date':
      return { ...base, type: 'string', format: 'date', pattern: DATE };
    case 'date-or-long-term':
      return { ...base, type: 'string', anyOf: [{ format: 'date', pattern: DATE }, { const: LONG_TERM }] };
    case 'credit-code':
      return { ...base, type: 'string', pattern: CREDIT_CODE };
    case 'id-number':
      return { ...base, type: 'string', pattern: ID_NUMBER };
    case 'enum':
      return { ...base, type: 'string', enum: f.values };
    case 'image':
      return { ...base, type: 'string', contentEncoding: 'base64', contentMediaType: 'image/png' };
    case 'text':
      return { ...base, type: 'string', minLength: 1, ...(f.pattern ? { pattern: `^(?:${f.pattern})$` } : {}) };
  }
}

export function licenceDataSchema(type: LicenceType): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${type.title.zh} (${type.title.en})`,
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(type.fields.map((f) => [f.name, fieldSchema(f, f.name === type.issueDate)])),
    required: type.fields.filter((f) => f.required && f.name !== type.issueDate).map((f) => f.name),
  };
}
