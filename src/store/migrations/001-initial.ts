import type { Knex } from 'knex';

/**
 * The first schema. Portable on purpose (SQLite and PostgreSQL run the same code):
 * timestamps are ISO-8601 text, JSON is text, DER is base64 text, booleans are knex booleans
 * (0/1 on SQLite) — the repositories convert, so callers see one shape.
 */
export const name = '001-initial';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('seals', (t) => {
    t.string('id', 64).primary();
    t.text('organisation').notNullable();
    t.string('credit_code', 18).notNullable();
    t.text('name').notNullable();
    t.string('seal_type', 32).notNullable();
    t.text('appearance').notNullable();
    t.string('key_algorithm', 16).notNullable();
    t.integer('cert_validity_days').notNullable();
    t.text('rotation_policy').notNullable();
    t.boolean('two_person_control').notNullable().defaultTo(false);
    t.boolean('is_test').notNullable().defaultTo(false);
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });

  await db.schema.createTable('seal_versions', (t) => {
    t.increments('id').primary();
    t.string('seal_id', 64).notNullable().references('id').inTable('seals');
    t.integer('version').notNullable();
    t.string('key_id', 128).notNullable();
    t.text('key_label').notNullable();
    t.string('algorithm', 16).notNullable();
    t.text('certificate');
    t.string('cert_serial', 64);
    t.enu('status', ['pending', 'active', 'retired', 'revoked', 'destroyed']).notNullable();
    t.string('not_before', 32);
    t.string('not_after', 32);
    t.string('created_at', 32).notNullable();
    t.string('activated_at', 32);
    t.string('retired_at', 32);
    t.string('revoked_at', 32);
    t.text('revocation_reason');
    t.string('destroyed_at', 32);
    t.bigInteger('signature_count').notNullable().defaultTo(0);
    t.unique(['seal_id', 'version']);
  });
  await db.schema.createTable('pki_keys', (t) => {
    t.string('role', 16).primary();
    t.string('key_id', 128).notNullable();
    t.text('certificate').notNullable();
    t.string('created_at', 32).notNullable();
  });

  await db.schema.createTable('issued_certificates', (t) => {
    t.string('serial', 64).primary();
    t.string('issuer_role', 16).notNullable();
    t.text('subject').notNullable();
    t.text('der').notNullable();
    t.enu('status', ['good', 'revoked']).notNullable().defaultTo('good');
    t.string('issued_at', 32).notNullable();
    t.string('revoked_at', 32);
    t.string('reason', 32);
    t.index(['issuer_role', 'status']);
  });

  await db.schema.createTable('crl_state', (t) => {
    t.string('ca', 16).primary();
    t.bigInteger('crl_number').notNullable();
  });

  await db.schema.createTable('api_clients', (t) => {
    t.string('id', 64).primary();
    t.text('name').notNullable();
    t.string('key_prefix', 32).notNullable().unique();
    t.string('key_hash', 128).notNullable();
    t.text('seals').notNullable();
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.string('created_at', 32).notNullable();
    t.string('revoked_at', 32);
  });

  await db.schema.createTable('stamps', (t) => {
    t.string('id', 36).primary();
    t.string('client_id', 64).notNullable().references('id').inTable('api_clients');
    t.string('seal_id', 64).notNullable().references('id').inTable('seals');
    t.integer('seal_version').notNullable();
    t.string('cert_serial', 64).notNullable();
    t.string('sha256_in', 64).notNullable();
    t.string('sha256_out', 64).notNullable();
    t.string('level', 16).notNullable();
    t.text('placement').notNullable();
    t.text('case_number');
    t.text('item_code');
    t.string('idempotency_key', 128);
    t.string('request_hash', 64);
    t.text('output_path');
    t.string('created_at', 32).notNullable();
    t.unique(['client_id', 'idempotency_key']);
    t.index(['seal_id', 'created_at']);
  });

  await db.schema.createTable('audit_log', (t) => {
    // Allocated under the chain lock (audit_tip), not by the database, so the hash can cover it.
    t.integer('seq').primary();
    t.string('at', 32).notNullable();
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.text('subject');
    t.text('details').notNullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
  });

  // One row: the last appended (seq, hash). Appends update it first, which takes the write lock on
  // SQLite and a row lock on PostgreSQL, so two transactions can never extend the same head.
  await db.schema.createTable('audit_tip', (t) => {
    t.integer('id').primary();
    t.integer('seq').notNullable();
    t.string('hash', 64).notNullable();
  });
  await db('audit_tip').insert({ id: 1, seq: 0, hash: '0'.repeat(64) });

  await db.schema.createTable('audit_heads', (t) => {
    t.integer('seq').primary();
    t.string('hash', 64).notNullable();
    t.text('signature').notNullable();
    t.string('signed_at', 32).notNullable();
    t.string('key_role', 16).notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['audit_heads', 'audit_tip', 'audit_log', 'stamps', 'api_clients', 'crl_state',
    'issued_certificates', 'pki_keys', 'seal_versions', 'seals']) {
    await db.schema.dropTableIfExists(table);
  }
}
