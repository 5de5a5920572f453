import type { Knex } from 'knex';

/**
 * Electronic licences (电子证照): one row per version of a licence, the signed PDF kept in the row so
 * the record and its file commit together, and a per type-and-issuer serial counter. Same portable
 * types as 001 (ISO text times, JSON as text).
 */
export const name = '004-licences';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('licence_serials', (t) => {
    t.string('type_code', 21).notNullable();
    t.string('issuer_code', 18).notNullable();
    t.bigInteger('next_serial').notNullable();
    t.primary(['type_code', 'issuer_code']);
  });

  await db.schema.createTable('licences', (t) => {
    // The GB/T 36904 identifier: 1.2.156.3005.2.{type}.{issuer}.{serial}.{version}.{check}
    t.string('id', 128).primary();
    t.string('type_id', 64).notNullable();
    t.string('type_code', 21).notNullable();
    t.string('issuer_code', 18).notNullable();
    t.text('issuer_name').notNullable();
    t.string('serial', 40).notNullable();
    t.integer('version').notNullable();
    t.text('data').notNullable();
    t.text('holder_name').notNullable();
    t.text('holder_id').notNullable();
    t.string('valid_from', 10).notNullable();
    // YYYY-MM-DD or 长期
    t.string('valid_to', 16).notNullable();
    t.string('sha256', 64).notNullable();
    t.binary('pdf').notNullable();
    t.string('seal_id', 64).notNullable().references('id').inTable('seals');
    t.text('seal_name').notNullable();
    t.integer('seal_version').notNullable();
    t.string('cert_serial', 64).notNullable();
    t.string('signed_at', 32).notNullable();
    t.enu('status', ['valid', 'superseded', 'revoked']).notNullable();
    t.string('issued_at', 32).notNullable();
    t.text('issued_by').notNullable();
    t.string('supersedes', 128);
    t.string('superseded_by', 128);
    t.string('revoked_at', 32);
    t.text('revocation_reason');
    t.unique(['type_code', 'issuer_code', 'serial', 'version']);
    t.index(['sha256']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('licences');
  await db.schema.dropTableIfExists('licence_serials');
}
