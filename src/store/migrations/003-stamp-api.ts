import type { Knex } from 'knex';

/**
 * The stamp API: idempotency reservations and stamp batches.
 *
 * An idempotency key is reserved (status 'pending') in its own short transaction before signing, so
 * concurrent requests with the same key — in this process or another instance — find the reservation
 * and wait for its result instead of signing twice. The primary key (client_id, idempotency_key)
 * is what makes "exactly one" hold across instances.
 */
export const name = '003-stamp-api';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('idempotency_keys', (t) => {
    t.string('client_id', 64).notNullable().references('id').inTable('api_clients');
    t.string('idempotency_key', 128).notNullable();
    t.string('request_hash', 64).notNullable();
    t.enu('status', ['pending', 'done']).notNullable();
    /** The stamp (or batch) the request produced, once done. */
    t.string('result_id', 36);
    /** The request that holds a pending reservation: only it may complete or release it. */
    t.string('owner', 36).notNullable();
    t.string('created_at', 32).notNullable();
    t.primary(['client_id', 'idempotency_key']);
  });

  await db.schema.createTable('stamp_batches', (t) => {
    t.string('id', 36).primary();
    t.string('client_id', 64).notNullable().references('id').inTable('api_clients');
    t.text('case_number');
    t.integer('document_count').notNullable();
    t.string('created_at', 32).notNullable();
  });

  await db.schema.alterTable('stamps', (t) => {
    t.string('batch_id', 36).references('id').inTable('stamp_batches');
    /** Position in the batch, 0-based. */
    t.integer('batch_index');
    t.text('filename');
    t.index(['client_id', 'created_at']);
    t.index(['batch_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('stamps', (t) => {
    t.dropIndex(['batch_id']);
    t.dropIndex(['client_id', 'created_at']);
    t.dropColumn('filename');
    t.dropColumn('batch_index');
    t.dropColumn('batch_id');
  });
  await db.schema.dropTableIfExists('stamp_batches');
  await db.schema.dropTableIfExists('idempotency_keys');
}
