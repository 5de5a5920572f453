/**
 * A searchable list page: the filter form, one page of rows newest first, a link to the next page that
 * carries the filters and the last row's sort key, and a CSV download of every match (stamps, licences,
 * the audit log). Rows, keys, CSV columns and who may filter on what come from the search API's listing
 * (src/api/routes/*-search.ts), so the console and the API cannot disagree on what a caller sees.
 */
import type { Action } from '../../access/policy.js';
import { sendListing, type Listing } from '../../api/listing.js';
import { filters, type FieldSpec, type View } from '../components.js';
import { html, type Html } from '../html.js';
import type { ConsoleRequest, ConsoleRouter } from '../router.js';

export const PAGE_SIZE = 50;

/** The API's listing for this caller and these filter values (unknown names are ignored). */
export type ListingSource<T> = (req: ConsoleRequest, values: Record<string, string>) => Listing<T> | Promise<Listing<T>>;

export interface ListPage<T> {
  /** The filter form and the CSV link for the same filters. */
  form: Html;
  rows: T[];
  /** The link to the next page, or nothing on the last page. */
  next: Html | '';
}

/** The non-empty query values among `names`, as an HTML form sends its fields. */
function filterValues(req: ConsoleRequest, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, req.query(name)]).filter(([, value]) => value !== ''));
}

export async function listing<T>(req: ConsoleRequest, path: string, specs: readonly FieldSpec[], source: ListingSource<T>): Promise<ListPage<T>> {
  const values = filterValues(req, specs.map((f) => f.name));
  let after: (string | number)[] | undefined;
  try {
    const parsed: unknown = req.query('after') ? JSON.parse(req.query('after')) : undefined;
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string' || typeof x === 'number')) after = parsed;
  } catch {
    // A mangled position starts from the top.
  }
  const list = await source(req, values);
  const found = await list.page(after, PAGE_SIZE + 1);
  const rows = found.slice(0, PAGE_SIZE);
  const last = found.length > PAGE_SIZE ? rows.at(-1) : undefined;
  const nextQuery = new URLSearchParams({ ...values, ...(last ? { after: JSON.stringify(list.key(last)) } : {}) });
  const csvQuery = new URLSearchParams(values).toString();
  return {
    form: html`${filters(req.v, path, specs.map((f) => ({ ...f, value: values[f.name] ?? '' })))}
<p class="actions"><a class="button secondary" href="${path}.csv${csvQuery ? `?${csvQuery}` : ''}" download>${req.v.t('downloadCsv')}</a></p>`,
    rows,
    next: last ? html`<p class="pager"><a href="${path}?${nextQuery.toString()}">${req.v.t('next')}</a></p>` : '',
  };
}

/** `${path}.csv`: every row the filters `names` match, as the API's CSV (the same columns, the same masking). */
export function csvDownload<T>(console: ConsoleRouter, path: string, needs: Action, names: readonly string[], source: ListingSource<T>): void {
  console.page(`${path}.csv`, needs, async (req) => {
    const values = filterValues(req, names);
    await sendListing(req.ctx, req.services.secrets, req.actor, { filters: values, limit: PAGE_SIZE, cursor: undefined, csv: true }, await source(req, values));
    return { sent: true };
  });
}

export const dateSpecs = (v: View, from: string, to: string): FieldSpec[] => [
  { name: from, label: v.t('from'), type: 'date' },
  { name: to, label: v.t('to'), type: 'date' },
];
