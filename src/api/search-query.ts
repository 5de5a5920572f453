/**
 * The query string of the search APIs: filters by name, `limit`, `cursor` and `format`. Unknown or
 * repeated parameters are refused (a misspelt filter must not silently list everything); an empty value
 * counts as not given, as an HTML form sends its empty fields.
 */
import type { Context } from 'koa';
import { OneSealError } from '../errors.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
const MAX_VALUE_LENGTH = 512;

export interface SearchQuery<F extends string> {
  filters: Partial<Record<F, string>>;
  limit: number;
  cursor: string | undefined;
  /** `?format=csv` or `Accept: text/csv`: every matching row as CSV instead of a JSON page. */
  csv: boolean;
}

function badQuery(message: string, field: string): OneSealError {
  return new OneSealError('invalid-query', 'bad-request', message, { fields: [{ field, message }] });
}

export function readSearchQuery<F extends string>(ctx: Context, filterNames: readonly F[]): SearchQuery<F> {
  const known = new Set<string>([...filterNames, 'limit', 'cursor', 'format']);
  const values: Record<string, string> = {};
  for (const [name, raw] of Object.entries(ctx.query)) {
    if (!known.has(name)) throw badQuery(`Unknown query parameter "${name}"; this list takes ${[...known].join(', ')}.`, name);
    if (Array.isArray(raw)) throw badQuery(`"${name}" is given more than once; give each filter once.`, name);
    if (raw === undefined || raw === '') continue;
    if (raw.length > MAX_VALUE_LENGTH) throw badQuery(`"${name}" is longer than ${MAX_VALUE_LENGTH} characters.`, name);
    values[name] = raw;
  }
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!/^\d+$/.test(values.limit ?? '1') || limit < 1 || limit > MAX_LIMIT) throw badQuery(`limit must be a whole number from 1 to ${MAX_LIMIT}.`, 'limit');
  if (values.format !== undefined && values.format !== 'json' && values.format !== 'csv') throw badQuery('format must be json or csv.', 'format');
  const csv = values.format === 'csv' || (values.format === undefined && ctx.accepts('application/json', 'text/csv') === 'text/csv');
  const filters: Partial<Record<F, string>> = {};
  for (const name of filterNames) if (values[name] !== undefined) filters[name] = values[name];
  return { filters, limit, cursor: values.cursor, csv };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * A time filter as the ISO-8601 UTC text the records hold, for comparison as text. A date alone is a
 * calendar day in China (UTC+8); as the end of a range (`end`) it includes that whole day, so
 * from=2026-11-01&to=2026-11-30 is November. A date-time with its offset is exact, and an end is exclusive.
 */
export function timeFilter(name: string, value: string | undefined, end = false): string | undefined {
  if (value === undefined) return undefined;
  const shaped = DATE.test(value) || DATE_TIME.test(value);
  // Date.parse rolls 2026-02-30 over into March; a day that does not exist is a mistake to report.
  const day = value.slice(0, 10);
  const midnight = shaped ? Date.parse(`${day}T00:00:00Z`) : NaN;
  const realDay = !Number.isNaN(midnight) && new Date(midnight).toISOString().startsWith(day);
  const ms = !realDay ? NaN : Date.parse(DATE.test(value) ? `${value}T00:00:00+08:00` : value) + (DATE.test(value) && end ? DAY_MS : 0);
  if (Number.isNaN(ms)) {
    throw badQuery(`${name} must be a date (YYYY-MM-DD, a day in China) or a date-time with its offset (e.g. 2026-11-01T08:00:00+08:00).`, name);
  }
  return new Date(ms).toISOString();
}

/** A value that must be one of `allowed`. */
export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw badQuery(`${name} must be one of ${allowed.join(', ')}.`, name);
}
