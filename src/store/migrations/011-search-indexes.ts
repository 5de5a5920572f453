import type { Knex } from 'knex';

/**
 * Indexes for the search APIs (GET /v1/stamps, /v1/licences, /v1/audit). Each list is ordered newest
 * first by (time, id) and continues below a cursor, so every filter gets an index that starts with the
 * filtered column and ends with the sort key: the database then walks it in order and stops after one
 * page, instead of collecting and sorting every match. The stamp indexes of 001, 003 and 010 and the
 * owner index of 005 are prefixes of new ones and are replaced. bench/search.ts measures each query on
 * 1,000,000 stamps and 200,000 licences; test/search-indexes.test.ts checks the plans.
 */
export const name = '011-search-indexes';

const INDEXES: Record<string, Record<string, readonly string[]>> = {
  stamps: {
    stamps_by_time: ['created_at', 'id'],
    stamps_by_client: ['client_id', 'created_at', 'id'],
    stamps_by_seal: ['seal_id', 'created_at', 'id'],
    stamps_by_case: ['case_number', 'created_at', 'id'],
    stamps_by_item: ['item_code', 'created_at', 'id'],
    stamps_by_filename: ['filename', 'created_at', 'id'],
  },
  licences: {
    licences_by_time: ['issued_at', 'id'],
    licences_by_owner: ['owner_client_id', 'issued_at', 'id'],
    licences_by_type: ['type_id', 'issued_at', 'id'],
    licences_by_holder_id: ['holder_id', 'issued_at', 'id'],
    licences_by_holder_name: ['holder_name', 'issued_at', 'id'],
    licences_by_status: ['status', 'issued_at', 'id'],
  },
  audit_log: {
    audit_by_actor: ['actor', 'at', 'seq'],
    audit_by_action: ['action', 'at', 'seq'],
    audit_by_time: ['at', 'seq'],
  },
};

/** The indexes these replace, by table: [columns], named as knex named them. */
const REPLACED: Record<string, readonly (readonly string[])[]> = {
  // 010's created_at index too: PostgreSQL would walk it and sort each millisecond's ties instead of using stamps_by_time.
  stamps: [['seal_id', 'created_at'], ['client_id', 'created_at'], ['created_at']],
  licences: [['owner_client_id']],
};

export async function up(db: Knex): Promise<void> {
  for (const [table, indexes] of Object.entries(INDEXES)) {
    await db.schema.alterTable(table, (t) => {
      for (const columns of REPLACED[table] ?? []) t.dropIndex([...columns]);
      for (const [index, columns] of Object.entries(indexes)) t.index([...columns], index);
    });
  }
}

export async function down(db: Knex): Promise<void> {
  for (const [table, indexes] of Object.entries(INDEXES)) {
    await db.schema.alterTable(table, (t) => {
      for (const index of Object.keys(indexes)) t.dropIndex([], index);
      for (const columns of REPLACED[table] ?? []) t.index([...columns]);
    });
  }
}
