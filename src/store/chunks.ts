/**
 * Rows per multi-row INSERT: well under the bound parameters one statement may have (SQLite 32,766,
 * PostgreSQL 65,535) for tables of up to 60 columns.
 */
const ROWS_PER_INSERT = 500;

/** `rows` in pieces small enough for one INSERT each. */
export function* chunks<T>(rows: readonly T[], size = ROWS_PER_INSERT): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}
