import type { Knex } from 'knex';

/**
 * The stamp indexes led by an optional column (case number, file name, item, department, centre,
 * batch) hold only the stamps that have one. Every search through them asks for a value
 * (`column = ?`), which no stamp without one can match, so both databases still choose them for it
 * (test/search-indexes.test.ts checks the plans). A stamp without a value there no longer adds an
 * entry: each such index is one B-tree fewer to update in the stamp's commit, and one leaf page
 * fewer written to the log.
 */
export const name = '014-partial-stamp-indexes';

/** Index name → [its columns]; the first is the optional one. */
const PARTIAL: Record<string, readonly string[]> = {
  stamps_by_case: ['case_number', 'created_at', 'id'],
  stamps_by_filename: ['filename', 'created_at', 'id'],
  stamps_by_item_client: ['item_code', 'created_at', 'id', 'client_id'],
  stamps_by_department: ['department', 'created_at', 'id', 'client_id', 'centre_code'],
  stamps_by_centre: ['centre_code', 'created_at', 'id', 'client_id', 'department'],
  stamps_batch_id_index: ['batch_id'],
};

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('stamps', (t) => {
    for (const [index, columns] of Object.entries(PARTIAL)) {
      t.dropIndex([], index);
      t.index([...columns], index, { predicate: db.whereNotNull(columns[0]!) });
    }
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('stamps', (t) => {
    for (const [index, columns] of Object.entries(PARTIAL)) {
      t.dropIndex([], index);
      t.index([...columns], index);
    }
  });
}
