import type { Knex } from 'knex';

/**
 * The keys that sign licence QR payloads (issue 17): one row per P-256 key in the HSM and its
 * certificate from the root. One is active (it signs new payloads); rotated ones are retired and kept,
 * because payloads they signed stay verifiable through the trust list. Revocation lives with every other
 * certificate the root issued (issued_certificates). Same portable types as 001.
 */
export const name = '009-licence-qr-keys';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('licence_qr_keys', (t) => {
    // First 8 bytes of SHA-256 over the certificate's DER, hex: the COSE kid.
    t.string('kid', 16).primary();
    t.string('key_id', 64).notNullable();
    t.binary('certificate').notNullable();
    t.string('cert_serial', 64).notNullable();
    t.enu('status', ['active', 'retired']).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('retired_at', 32);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('licence_qr_keys');
}
