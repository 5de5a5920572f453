/** Checking a change request field by field, so every mistake is reported at once (one 422 listing them). */
import { OneSealError, type FieldError } from '../errors.js';

export function invalidRequest(code: string, fields: FieldError[]): OneSealError {
  return new OneSealError(code, 'unprocessable',
    `The request has ${fields.length === 1 ? 'a problem' : `${fields.length} problems`}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}.`, { fields });
}

/**
 * Reads a request object with `read`, refusing fields it does not know; throws one error listing every
 * problem `read` and the field check found.
 */
export function readRequest<T>(code: string, input: unknown, known: readonly string[], read: (o: Record<string, unknown>, errors: FieldError[]) => T): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidRequest(code, [{ field: '(body)', message: 'must be a JSON object' }]);
  const o = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(o)) if (!known.includes(key)) errors.push({ field: key, message: 'is not a field of this request' });
  const value = read(o, errors);
  if (errors.length) throw invalidRequest(code, errors);
  return value;
}
