import type { Knex } from 'knex';

/**
 * Issue 14: revocation data is produced ahead and shared by every instance on the database, instead of
 * signed per stamp. One signed OCSP response per certificate the root issued (RFC 5019: reused until
 * shortly before its nextUpdate) and, beside the CRL number it already keeps, the current CRL of each
 * CA. A revocation deletes the certificate's response and clears its CA's CRL in the revoking
 * transaction, so no instance can serve a stale "good" after it commits. DER as base64 text, times as
 * ISO strings, like 001.
 */
export const name = '006-revocation-cache';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('ocsp_responses', (t) => {
    t.string('serial', 64).primary();
    t.text('der').notNullable();
    t.string('status', 16).notNullable();
    t.string('produced_at', 32).notNullable();
    t.string('next_update', 32).notNullable();
  });
  await db.schema.alterTable('crl_state', (t) => {
    t.text('der');
    t.string('this_update', 32);
    t.string('next_update', 32);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('crl_state', (t) => {
    t.dropColumn('der');
    t.dropColumn('this_update');
    t.dropColumn('next_update');
  });
  await db.schema.dropTableIfExists('ocsp_responses');
}
