/**
 * A searchable list page: the filter form, one page of rows newest first, and a link to the next page
 * that carries the filters and the last row's sort key (stamps, licences, the audit log).
 */
import { filters, type FieldSpec, type View } from '../components.js';
import { html, type Html } from '../html.js';
import type { ConsoleRequest } from '../router.js';

export const PAGE_SIZE = 50;

export interface Listing<T> {
  form: Html;
  rows: T[];
  /** The link to the next page, or nothing on the last page. */
  next: Html | '';
  /** The filter values given (empty ones left out). */
  values: Record<string, string>;
}

export async function listing<T>(req: ConsoleRequest, path: string, specs: readonly FieldSpec[],
  page: (values: Record<string, string>, after: (string | number)[] | undefined, limit: number) => Promise<T[]>, key: (row: T) => (string | number)[]): Promise<Listing<T>> {
  const values = Object.fromEntries(specs.map((f) => [f.name, req.query(f.name)]).filter(([, value]) => value !== ''));
  let after: (string | number)[] | undefined;
  try {
    const parsed: unknown = req.query('after') ? JSON.parse(req.query('after')) : undefined;
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string' || typeof x === 'number')) after = parsed;
  } catch {
    // A mangled position starts from the top.
  }
  const found = await page(values, after, PAGE_SIZE + 1);
  const rows = found.slice(0, PAGE_SIZE);
  const last = found.length > PAGE_SIZE ? rows.at(-1) : undefined;
  const nextQuery = new URLSearchParams({ ...values, ...(last ? { after: JSON.stringify(key(last)) } : {}) });
  return {
    form: filters(req.v, path, specs.map((f) => ({ ...f, value: values[f.name] ?? '' }))),
    rows,
    next: last ? html`<p class="pager"><a href="${path}?${nextQuery.toString()}">${req.v.t('next')}</a></p>` : '',
    values,
  };
}

export const dateSpecs = (v: View, from: string, to: string): FieldSpec[] => [
  { name: from, label: v.t('from'), type: 'date' },
  { name: to, label: v.t('to'), type: 'date' },
];
