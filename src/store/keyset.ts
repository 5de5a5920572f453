/**
 * Keyset pagination, newest first: order by the key columns descending and continue strictly below the
 * last key served. Unlike OFFSET it costs the same on page 1000 as on page 1, and rows inserted while a
 * caller pages (newer, so above the cursor) neither repeat nor push rows off a page.
 */
import type { Knex } from 'knex';

/** Orders `query` by `columns` descending, below `after` (a row value comparison the indexes serve), at most `limit` rows. */
export function newestFirst(query: Knex.QueryBuilder, columns: readonly string[], after: readonly (string | number)[] | undefined, limit: number): Knex.QueryBuilder {
  if (after) {
    const marks = columns.map(() => '?').join(', ');
    query.whereRaw(`(${columns.map(() => '??').join(', ')}) < (${marks})`, [...columns, ...after]);
  }
  for (const c of columns) query.orderBy(c, 'desc');
  return query.limit(limit);
}

/** `column` in [from, to): either end open when not given. */
export function within(query: Knex.QueryBuilder, column: string, from: string | undefined, to: string | undefined): Knex.QueryBuilder {
  if (from !== undefined) query.where(column, '>=', from);
  if (to !== undefined) query.where(column, '<', to);
  return query;
}
