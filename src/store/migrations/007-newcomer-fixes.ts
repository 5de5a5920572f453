import type { Knex } from 'knex';

/**
 * Issue 13: settings shared by the server and the CLI (the public URL the running server was given,
 * so a licence issued from the CLI carries the right QR code), and the duplicate check of licences:
 * each current (valid) licence carries its type's duplicate key (e.g. the credit code of a business
 * licence), and a partial unique index lets only one current licence per type hold a key, so two
 * concurrent issues for the same holder cannot both succeed. Licences issued before have no key.
 */
export const name = '007-newcomer-fixes';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('settings', (t) => {
    t.string('key', 64).primary();
    t.text('value').notNullable();
    t.string('updated_at', 32).notNullable();
  });
  await db.schema.alterTable('licences', (t) => {
    t.string('duplicate_key', 255);
  });
  // Partial indexes: the same statement on SQLite (3.8+) and PostgreSQL.
  await db.raw(
    "CREATE UNIQUE INDEX licences_current_duplicate ON licences (type_id, duplicate_key) WHERE status = 'valid' AND duplicate_key IS NOT NULL",
  );
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP INDEX IF EXISTS licences_current_duplicate');
  await db.schema.alterTable('licences', (t) => {
    t.dropColumn('duplicate_key');
  });
  await db.schema.dropTableIfExists('settings');
}
