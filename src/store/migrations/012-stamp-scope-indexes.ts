import type { Knex } from 'knex';

/**
 * Stamp search by department and service centre (issue 18's filters), and the other stamp filters
 * within one client's stamps, without reading rows that do not match.
 *
 * 011 gave each filter an index (column, created_at, id); a second condition was checked on the table
 * row, so a query whose first condition matches many rows and its second few read a table row per
 * candidate: on 1,000,000 stamps, department + centre on a page deep in the list read 38,000 rows
 * (138 ms in PostgreSQL), and client + item + month made PostgreSQL AND two bitmaps, one of 50,000
 * entries (46 ms). Here the columns a second condition names follow the sort key in the index: the
 * database still walks (column, created_at, id) in order, checks the trailing columns in the index entry
 * itself (a btree index condition in PostgreSQL, a deferred table seek in SQLite) and reads a table row
 * only for a match. client_id trails every broad filter because a system client's searches are always
 * within its own stamps. bench/search.ts times these; test/search-indexes.test.ts checks the plans.
 */
export const name = '012-stamp-scope-indexes';

const CREATED: Record<string, readonly string[]> = {
  stamps_by_item_client: ['item_code', 'created_at', 'id', 'client_id'],
  stamps_by_seal_client: ['seal_id', 'created_at', 'id', 'client_id'],
  stamps_by_department: ['department', 'created_at', 'id', 'client_id', 'centre_code'],
  stamps_by_centre: ['centre_code', 'created_at', 'id', 'client_id', 'department'],
};

/** 011's indexes that the new ones extend (same leading columns), so the planner has one choice per filter. */
const REPLACED: Record<string, readonly string[]> = {
  stamps_by_item: ['item_code', 'created_at', 'id'],
  stamps_by_seal: ['seal_id', 'created_at', 'id'],
};

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('stamps', (t) => {
    for (const index of Object.keys(REPLACED)) t.dropIndex([], index);
    for (const [index, columns] of Object.entries(CREATED)) t.index([...columns], index);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('stamps', (t) => {
    for (const index of Object.keys(CREATED)) t.dropIndex([], index);
    for (const [index, columns] of Object.entries(REPLACED)) t.index([...columns], index);
  });
}
