import type { Knex } from 'knex';

/**
 * Seal key lifecycle: two-person-control proposals and the leases that let one instance among
 * several run scheduled work (rotation). Same portable types as 001.
 */
export const name = '002-lifecycle';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('proposals', (t) => {
    t.string('id', 36).primary();
    t.string('seal_id', 64).notNullable().references('id').inTable('seals');
    t.enu('action', ['rotate', 'revoke', 'destroy-key']).notNullable();
    t.text('params').notNullable();
    t.text('proposed_by').notNullable();
    t.string('proposed_at', 32).notNullable();
    t.enu('status', ['pending', 'approved', 'rejected', 'executed']).notNullable();
    t.text('approved_by');
    t.string('approved_at', 32);
    t.text('rejected_by');
    t.string('rejected_at', 32);
    t.string('executed_at', 32);
    t.index(['seal_id', 'status']);
  });

  await db.schema.createTable('leases', (t) => {
    t.string('name', 64).primary();
    t.text('holder').notNullable();
    t.string('expires_at', 32).notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('leases');
  await db.schema.dropTableIfExists('proposals');
}
