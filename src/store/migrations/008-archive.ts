import type { Knex } from 'knex';

/**
 * Electronic archives (issue 16).
 *
 * - archive_documents: the long-term state of each stored stamped document and licence — where its
 *   newest copy lives (NULL: the original), that copy's SHA-256, and when the TSA certificate of its
 *   newest time-stamp expires (NULL: no time-stamp), so the daily renewal finds what is due without
 *   reading every PDF. Older copies stay on disk: each renewal only appends to the PDF.
 * - licences.case_number: the approval case a licence belongs to, so a case can be packaged whole.
 */
export const name = '008-archive';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('archive_documents', (t) => {
    t.string('kind', 16).notNullable();
    t.string('record_id', 128).notNullable();
    t.integer('copy_seq').notNullable().defaultTo(0);
    t.text('copy_path');
    t.string('sha256', 64).notNullable();
    t.string('timestamp_expires_at', 32);
    t.text('timestamp_digests');
    t.string('renewed_at', 32);
    t.string('updated_at', 32).notNullable();
    t.primary(['kind', 'record_id']);
    t.index(['timestamp_expires_at']);
  });
  await db.schema.alterTable('licences', (t) => {
    t.text('case_number');
    t.index(['case_number']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('licences', (t) => {
    t.dropIndex(['case_number']);
    t.dropColumn('case_number');
  });
  await db.schema.dropTableIfExists('archive_documents');
}
