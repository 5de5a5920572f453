/**
 * The answer of a search API: a JSON page with an opaque cursor to the next, or (for reports) every
 * matching row (from the cursor on, when one is given) as a CSV stream, fetched page by page along the same index so memory stays flat however
 * many rows match.
 */
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { actorIdentity, type Actor } from '../access/actors.js';
import type { AccessSecrets } from '../access/secrets.js';
import { csvLine, type CsvColumn } from '../search/csv.js';
import { decodeCursor, encodeCursor, type CursorKey } from '../search/cursor.js';
import type { SearchQuery } from './search-query.js';

/** Rows per database query while streaming CSV. */
const CSV_PAGE = 1000;

export interface Listing<Row> {
  /** The list's name: names the CSV file and is part of what a cursor is bound to. */
  name: string;
  page(after: CursorKey | undefined, limit: number): Promise<Row[]>;
  key(row: Row): CursorKey;
  json(row: Row): unknown;
  csv: readonly CsvColumn<Row>[];
}

export interface ListPage {
  items: unknown[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** What a cursor continues: this list, for this caller, with these filters. */
function binding(name: string, actor: Actor, filters: Record<string, unknown>): string {
  return JSON.stringify([name, actor.kind === 'client' ? `client:${actor.id}` : actorIdentity(actor), Object.entries(filters).sort(([a], [b]) => a.localeCompare(b))]);
}

async function* csvRows<Row>(listing: Listing<Row>, from: CursorKey | undefined): AsyncGenerator<string> {
  // A byte order mark, so spreadsheet programs read the Chinese text as UTF-8 and not the local code page.
  yield `\ufeff${csvLine(listing.csv.map((c) => c.header))}`;
  let after = from;
  for (;;) {
    const rows = await listing.page(after, CSV_PAGE);
    if (rows.length) yield rows.map((row) => csvLine(listing.csv.map((c) => c.value(row)))).join('');
    if (rows.length < CSV_PAGE) return;
    after = listing.key(rows.at(-1)!);
  }
}

export async function sendListing<Row>(ctx: Context, secrets: AccessSecrets, actor: Actor, query: SearchQuery<string>, listing: Listing<Row>): Promise<void> {
  const bound = binding(listing.name, actor, query.filters);
  const after = query.cursor === undefined ? undefined : decodeCursor(secrets, bound, query.cursor);
  if (query.csv) {
    ctx.type = 'text/csv; charset=utf-8; header=present';
    ctx.set('Content-Disposition', `attachment; filename="${listing.name}-${new Date().toISOString().slice(0, 10)}.csv"`);
    ctx.body = Readable.from(csvRows(listing, after));
    return;
  }
  // One row more than asked tells whether there is a next page without a query for an empty one.
  const rows = await listing.page(after, query.limit + 1);
  const more = rows.length > query.limit;
  const items = rows.slice(0, query.limit);
  const page: ListPage = { items: items.map((r) => listing.json(r)), nextCursor: more ? encodeCursor(secrets, bound, listing.key(items.at(-1)!)) : null };
  ctx.body = page;
}
