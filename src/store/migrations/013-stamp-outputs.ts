import type { Knex } from 'knex';

/**
 * Stamped PDFs kept in the database, in the transaction that records their stamp (as licences keep
 * theirs): one fsync — the transaction's — makes a stamp's output and record durable together,
 * where an output file needed its own fsync and its directory's. Only outputs up to
 * ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB; larger ones stay files under stamps/ (stamps.output_path).
 */
export const name = '013-stamp-outputs';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('stamp_outputs', (t) => {
    t.string('stamp_id', 36).primary().references('stamps.id');
    t.binary('pdf').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('stamp_outputs');
}
