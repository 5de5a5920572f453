import type { Knex } from 'knex';

/**
 * The item catalogue (事项目录), town service centres (便民服务中心) and the delegation of items to them
 * (issue 18). Same portable types as 001.
 *
 * - items: code, name, department and the stamp profile (seal, level, placement, certification, reason
 *   template, which options a request may override) and the licence type the item issues, if any;
 * - centres: code and name; the district hall itself is no row (centre_code null everywhere);
 * - delegations: which items each centre may handle; a revoked delegation is deleted (the audit log
 *   keeps the history), so no reader can mistake a revoked row for a live one;
 * - people and api_clients: the centre they belong to (null: the district hall);
 * - stamps: the department and the handling centre beside the item code 003 added;
 * - licences: the item and the handling centre.
 */
export const name = '010-items-and-centres';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('centres', (t) => {
    t.string('code', 32).primary();
    t.text('name').notNullable();
    t.text('created_by').notNullable();
    t.string('created_at', 32).notNullable();
  });

  await db.schema.createTable('items', (t) => {
    t.string('code', 64).primary();
    t.text('name').notNullable();
    t.string('department', 64).notNullable();
    t.string('seal_id', 64).notNullable().references('id').inTable('seals');
    t.string('level', 8);
    t.text('placement').notNullable();
    t.integer('certify');
    t.text('reason_template');
    t.text('overridable').notNullable();
    t.string('licence_type', 64);
    t.text('updated_by').notNullable();
    t.string('updated_at', 32).notNullable();
    t.index(['department']);
  });

  await db.schema.createTable('delegations', (t) => {
    t.string('item_code', 64).notNullable().references('code').inTable('items');
    t.string('centre_code', 32).notNullable().references('code').inTable('centres');
    t.text('created_by').notNullable();
    t.string('created_at', 32).notNullable();
    t.primary(['item_code', 'centre_code']);
    t.index(['centre_code']);
  });

  await db.schema.alterTable('people', (t) => {
    t.string('centre_code', 32);
  });
  await db.schema.alterTable('api_clients', (t) => {
    t.string('centre_code', 32);
  });
  await db.schema.alterTable('stamps', (t) => {
    t.string('department', 64);
    t.string('centre_code', 32);
    t.index(['created_at']);
  });
  await db.schema.alterTable('licences', (t) => {
    t.string('item_code', 64);
    t.string('centre_code', 32);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('delegations');
  await db.schema.dropTableIfExists('items');
  await db.schema.dropTableIfExists('centres');
  // The added columns stay (see 005's down): older code ignores them.
}
