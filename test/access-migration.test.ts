/**
 * Migration 005 over a database as 004 left it, on SQLite and PostgreSQL: duplicate client names made
 * unique, former admin keys left with only their explicit grants, proposals still open from API keys
 * closed (they were never approvable by a person), licences issued by a client owned by it.
 */
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knexConfig } from '../src/store/db.js';
import { testBackends, type TestDatabase } from './support/databases.js';

const backends = await testBackends();
const at = '2026-01-01T00:00:00.000Z';

async function legacyRows(db: Knex): Promise<void> {
  const client = (id: string, name: string, isAdmin: boolean) =>
    ({ id, name, key_prefix: id.padEnd(16, '0'), key_hash: 'scrypt$16384$8$1$salt$hash', seals: '["approval"]', is_admin: isAdmin, created_at: at });
  await db('api_clients').insert([client('c1', 'window', false), client('c2', 'window', false), client('c3', 'ops', true)]);
  await db('seals').insert({
    id: 'approval', organisation: 'X', credit_code: '11110105MB0123456F', name: 'Y', seal_type: 'approval', appearance: '{}',
    key_algorithm: 'EC-P256', cert_validity_days: 365, rotation_policy: 'null', two_person_control: true, is_test: true, created_at: at, updated_at: at,
  });
  const proposal = (id: string, status: string) => ({ id, seal_id: 'approval', action: 'rotate', params: '{}', proposed_by: 'c3', proposed_at: at, status });
  await db('proposals').insert([proposal('p-pending', 'pending'), proposal('p-approved', 'approved'), proposal('p-done', 'executed')]);
  const licence = (id: string, issuedBy: string) => ({
    id, type_id: 'business-licence', type_code: 'T', issuer_code: '11110105MB0123456F', issuer_name: 'X', serial: id, version: 1, data: '{}',
    holder_name: 'h', holder_id: 'i', valid_from: '2026-01-01', valid_to: '长期', sha256: 'a'.repeat(64), pdf: Buffer.from('%PDF'),
    seal_id: 'approval', seal_name: 'Y', seal_version: 1, cert_serial: '01', signed_at: at, status: 'valid', issued_at: at, issued_by: issuedBy,
  });
  await db('licences').insert([licence('L1', 'c1'), licence('L2', 'cli:root')]);
}

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`migration 005 on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let tdb: TestDatabase;
    let db: Knex;

    beforeAll(async () => {
      tdb = backend.make();
      const config = knexConfig(tdb.database);
      db = knex(config);
      if (tdb.database.client === 'pg' && tdb.database.schema) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [tdb.database.schema]);
      for (let i = 0; i < 4; i++) await db.migrate.up();
      await legacyRows(db);
      await db.migrate.latest();
    });
    afterAll(async () => {
      await db?.destroy();
      await tdb?.cleanup();
    });

    it('makes client names unique and gives every client the stamps scope, keeping its grants', async () => {
      const clients = await db('api_clients').orderBy('id').select('id', 'name', 'scopes', 'seals', 'licence_types');
      expect(clients.map((c) => [c.id, c.name, JSON.parse(c.scopes), JSON.parse(c.seals), JSON.parse(c.licence_types)])).toEqual([
        ['c1', 'window', ['stamps'], ['approval'], []],
        ['c2', 'window (2)', ['stamps'], ['approval'], []],
        ['c3', 'ops', ['stamps'], ['approval'], []],
      ]);
      await expect(db('api_clients').where({ id: 'c2' }).update({ name: 'window' })).rejects.toThrow(/unique|UNIQUE/);
    });

    it('closes proposals still open from API keys and keeps the decided ones', async () => {
      const proposals = await db('proposals').orderBy('id').select('id', 'action', 'subject', 'status', 'rejected_by');
      expect(proposals).toEqual([
        { id: 'p-approved', action: 'rotate', subject: 'approval', status: 'rejected', rejected_by: 'system:upgrade-005' },
        { id: 'p-done', action: 'rotate', subject: 'approval', status: 'executed', rejected_by: null },
        { id: 'p-pending', action: 'rotate', subject: 'approval', status: 'rejected', rejected_by: 'system:upgrade-005' },
      ]);
    });

    it('gives a licence issued by a client to that client, and none to one issued from the CLI', async () => {
      const owners = await db('licences').orderBy('id').select('id', 'owner_client_id');
      expect(owners).toEqual([{ id: 'L1', owner_client_id: 'c1' }, { id: 'L2', owner_client_id: null }]);
    });

    it('adds the people, sessions and throttle tables', async () => {
      for (const table of ['people', 'sessions', 'login_throttle']) expect(await db.schema.hasTable(table)).toBe(true);
      expect(await db.schema.hasColumn('seals', 'rotation_policy_approval')).toBe(true);
    });
  });
}
