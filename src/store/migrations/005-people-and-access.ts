import type { Knex } from 'knex';

/**
 * People, sessions and scoped system clients (issue 12), and two-person control generalised from seal
 * actions to every change of who may use a seal. Same portable types as 001.
 *
 * - people: login name, roles, scrypt password hash, TOTP secret (encrypted under the server secret),
 *   the last TOTP step accepted (a code is used once), who besides the person knows each factor;
 * - login_throttle: failures and lock-outs per login name, whether or not a person has that name (so
 *   a lock-out does not reveal which names exist);
 * - sessions: bearer tokens of people, stored as HMACs, with idle and absolute expiry;
 * - api_clients: scopes and licence types; names made unique (a duplicate gets " (2)", " (3)"…);
 *   former admin keys keep only their explicit seal grants (the is_admin column is no longer read);
 * - proposals: any action (creating a seal, client or person included), so seal_id is optional and
 *   unconstrained; the proposer and approver are people (ids kept beside their names); each proposal and
 *   approval carries a MAC under the server secret. Proposals still open from before are closed as
 *   rejected: they were made by API keys, which can no longer propose or approve;
 * - seals: the approval of the rotation policy (the scheduler runs only approved policies);
 * - licences: the system client that owns a licence (it issued the serial), for the ownership rule.
 */
export const name = '005-people-and-access';

const UPGRADE_ACTOR = 'system:upgrade-005';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('people', (t) => {
    t.string('id', 36).primary();
    t.string('name', 64).notNullable().unique();
    t.text('roles').notNullable();
    t.text('password_hash').notNullable();
    t.text('totp_secret');
    t.bigInteger('totp_last_step').notNullable().defaultTo(0);
    t.text('password_known_by');
    t.text('totp_known_by');
    t.string('disabled_at', 32);
    t.text('created_by').notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });

  await db.schema.createTable('login_throttle', (t) => {
    t.string('name', 64).primary();
    t.integer('failures').notNullable().defaultTo(0);
    t.integer('lockouts').notNullable().defaultTo(0);
    t.string('locked_until', 32);
    t.string('updated_at', 32).notNullable();
  });

  await db.schema.createTable('sessions', (t) => {
    t.string('id', 36).primary();
    t.string('person_id', 36).notNullable().references('id').inTable('people');
    t.string('token_hash', 64).notNullable().unique();
    t.string('created_at', 32).notNullable();
    t.string('last_seen_at', 32).notNullable();
    t.string('expires_at', 32).notNullable();
    t.string('ended_at', 32);
    t.index(['person_id']);
  });

  await db.schema.alterTable('api_clients', (t) => {
    t.text('scopes').notNullable().defaultTo('["stamps"]');
    t.text('licence_types').notNullable().defaultTo('[]');
  });
  const clients = (await db('api_clients').orderBy('created_at').select('id', 'name')) as { id: string; name: string }[];
  const seen = new Map<string, number>();
  for (const c of clients) {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    if (n > 1) await db('api_clients').where({ id: c.id }).update({ name: `${c.name} (${n})` });
  }
  await db.schema.alterTable('api_clients', (t) => {
    t.unique(['name']);
  });

  const old = (await db('proposals').select()) as Record<string, unknown>[];
  await db.schema.dropTable('proposals');
  await db.schema.createTable('proposals', (t) => {
    t.string('id', 36).primary();
    t.string('action', 32).notNullable();
    t.string('seal_id', 64);
    t.text('subject').notNullable();
    t.text('params').notNullable();
    t.text('proposed_by').notNullable();
    t.string('proposed_by_id', 36);
    t.string('proposed_at', 32).notNullable();
    t.string('status', 16).notNullable();
    t.text('approved_by');
    t.string('approved_by_id', 36);
    t.string('approved_at', 32);
    t.text('rejected_by');
    t.string('rejected_at', 32);
    t.string('executed_at', 32);
    t.text('content_mac');
    t.text('approval_mac');
    t.index(['status', 'proposed_at']);
    t.index(['seal_id', 'status']);
  });
  const now = new Date().toISOString();
  for (const p of old) {
    const open = p.status === 'pending' || p.status === 'approved';
    await db('proposals').insert({
      id: p.id,
      action: p.action,
      seal_id: p.seal_id,
      subject: p.seal_id,
      params: p.params,
      proposed_by: p.proposed_by,
      proposed_at: p.proposed_at,
      status: open ? 'rejected' : p.status,
      approved_by: p.approved_by,
      approved_at: p.approved_at,
      rejected_by: open ? UPGRADE_ACTOR : p.rejected_by,
      rejected_at: open ? now : p.rejected_at,
      executed_at: p.executed_at,
    });
  }

  await db.schema.alterTable('seals', (t) => {
    t.text('rotation_policy_approval');
  });

  await db.schema.alterTable('licences', (t) => {
    t.string('owner_client_id', 64);
    t.index(['owner_client_id']);
  });
  await db('licences').whereIn('issued_by', db('api_clients').select('id')).update({ owner_client_id: db.raw('??', ['issued_by']) });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('sessions');
  await db.schema.dropTableIfExists('login_throttle');
  await db.schema.dropTableIfExists('people');
  // The added columns (api_clients.scopes and licence_types, seals.rotation_policy_approval,
  // licences.owner_client_id), the unique client names and the generalised proposals table stay:
  // SQLite drops a column by rebuilding its table, which the foreign keys onto seals and api_clients
  // refuse inside a migration's transaction, and the seal-only proposals of 002 cannot hold the new rows.
  // Older code ignores all of them.
}
