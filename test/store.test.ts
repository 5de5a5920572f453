import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { openStore, SQLITE_PAGE_SIZE, type Store } from '../src/store/db.js';
import { PreparedSqliteClient, WRITES_SENT_TOGETHER } from '../src/store/sqlite-client.js';
import { together } from '../src/store/together.js';
import { migrations } from '../src/store/migrations/index.js';
import { insertClient, findClientByPrefix, updateClient } from '../src/store/clients.js';
import {
  getIssuedCertificate,
  getPkiKey,
  insertIssuedCertificate,
  listRevokedCertificates,
  nextCrlNumber,
  putPkiKey,
  revokeIssuedCertificate,
} from '../src/store/pki.js';
import {
  activeSealVersion,
  getSeal,
  incrementSignatureCount,
  insertSeal,
  insertSealVersion,
  listSealVersions,
  updateSealVersion,
} from '../src/store/seals.js';
import { findStampByIdempotencyKey, insertStamps, type StampRecord } from '../src/store/stamps.js';
import { testBackends, type TestDatabase } from './support/databases.js';

const backends = await testBackends();

const seal = {
  id: 'approval',
  organisation: '某某区行政审批局',
  creditCode: '11110105MB0123456F',
  name: '行政审批专用章',
  sealType: 'official',
  appearance: { kind: 'generated', diameterMm: 42 },
  keyAlgorithm: 'EC-P256' as const,
  certValidityDays: 365,
  rotationPolicy: { maxSignatures: 1000 },
  twoPersonControl: true,
  isTest: false,
};

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`store on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let tdb: TestDatabase;
    let store: Store;

    beforeAll(async () => {
      tdb = backend.make();
      store = await openStore({ database: tdb.database });
    });
    afterAll(async () => {
      await store?.close();
      await tdb?.cleanup();
    });

    it('runs the migrations once and is idempotent on reopen', async () => {
      const done = await store.db('knex_migrations').select('name');
      expect(done.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
      expect(done[0]!.name).toBe('001-initial');
      const again = await openStore({ database: tdb.database });
      try {
        expect(Number((await again.db('knex_migrations').count({ n: '*' }))[0]!.n)).toBe(migrations.length);
      } finally {
        await again.close();
      }
    });

    it('round-trips seals and versions with booleans, JSON and DER intact', async () => {
      await insertSeal(store.db, seal);
      const got = await getSeal(store.db, 'approval');
      expect(got).toMatchObject(seal);
      expect(got!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

      const cert = new Uint8Array([0x30, 0x82, 0x01, 0x00, 0xff, 0x00]);
      const v1 = await insertSealVersion(store.db, {
        sealId: 'approval', version: 1, keyId: 'a1b2', keyLabel: 'approval-v1', algorithm: 'EC-P256', certificate: cert, certSerial: '01ab',
      });
      expect(v1).toMatchObject({ status: 'pending', signatureCount: 0, certificate: cert, revokedAt: null });
      await updateSealVersion(store.db, v1.id, { status: 'active', activatedAt: new Date().toISOString() });
      await incrementSignatureCount(store.db, v1.id);
      await incrementSignatureCount(store.db, v1.id);
      const active = await activeSealVersion(store.db, 'approval');
      expect(active).toMatchObject({ id: v1.id, version: 1, status: 'active', signatureCount: 2 });
      expect(await listSealVersions(store.db, 'approval')).toHaveLength(1);
    });

    it('enforces unique (seal, version), the status set and foreign keys', async () => {
      const base = { sealId: 'approval', keyId: 'cc', keyLabel: 'x', algorithm: 'EC-P256' as const };
      await expect(insertSealVersion(store.db, { ...base, version: 1 })).rejects.toThrow(/unique|UNIQUE/);
      await expect(insertSealVersion(store.db, { ...base, version: 2, status: 'bogus' as 'active' })).rejects.toThrow(/check|CHECK/);
      await expect(insertSealVersion(store.db, { ...base, sealId: 'no-such-seal', version: 1 })).rejects.toThrow(/foreign key|FOREIGN KEY/i);
    });

    it('finds clients by key prefix and keeps stamp idempotency keys unique per client', async () => {
      await insertClient(store.db, {
        id: 'c1', name: 'window 1', keyPrefix: 'os_abc', keyHash: 'h', seals: ['approval'], scopes: ['stamps'], licenceTypes: [], centreCode: null,
        createdAt: new Date().toISOString(), revokedAt: null,
      });
      expect(await findClientByPrefix(store.db, 'os_abc')).toMatchObject({ id: 'c1', seals: ['approval'], scopes: ['stamps'], licenceTypes: [] });
      await updateClient(store.db, 'c1', { revokedAt: '2026-01-01T00:00:00.000Z' });
      expect((await findClientByPrefix(store.db, 'os_abc'))!.revokedAt).toBe('2026-01-01T00:00:00.000Z');

      const stamp: StampRecord = {
        id: '7d4f0c1e-0000-4000-8000-000000000001', clientId: 'c1', sealId: 'approval', sealVersion: 1, certSerial: '01ab',
        sha256In: 'a'.repeat(64), sha256Out: 'b'.repeat(64), level: 'B-T', placement: { page: 1, x: 100, y: 100 },
        caseNumber: null, itemCode: null, department: null, centreCode: null, idempotencyKey: 'k1', requestHash: 'c'.repeat(64), outputPath: null,
        createdAt: new Date().toISOString(), batchId: null, batchIndex: null, filename: null,
      };
      await insertStamps(store.db, [stamp]);
      expect(await findStampByIdempotencyKey(store.db, 'c1', 'k1')).toEqual(stamp);
      await expect(insertStamps(store.db, [{ ...stamp, id: '7d4f0c1e-0000-4000-8000-000000000002' }])).rejects.toThrow(/unique|UNIQUE/);
    });

    it('stores PKI keys, issued certificates, revocations and CRL numbers', async () => {
      const der = new Uint8Array(300).map((_, i) => i & 0xff);
      await putPkiKey(store.db, { role: 'root', keyId: '01', certificate: der, createdAt: '2026-01-01T00:00:00.000Z' });
      await putPkiKey(store.db, { role: 'root', keyId: '02', certificate: der, createdAt: '2026-01-02T00:00:00.000Z' });
      expect(await getPkiKey(store.db, 'root')).toMatchObject({ keyId: '02', certificate: der });

      await insertIssuedCertificate(store.db, {
        serial: '01ab', issuerRole: 'root', subject: 'CN=x', der, status: 'good', issuedAt: '2026-01-01T00:00:00.000Z',
        revokedAt: null, reason: null,
      });
      expect(await revokeIssuedCertificate(store.db, '01ab', '2026-02-01T00:00:00.000Z', 'keyCompromise')).toBe(true);
      expect(await revokeIssuedCertificate(store.db, '01ab', '2026-03-01T00:00:00.000Z', 'superseded')).toBe(false);
      expect(await getIssuedCertificate(store.db, '01ab')).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
      expect((await listRevokedCertificates(store.db, 'root')).map((c) => c.serial)).toEqual(['01ab']);

      expect([await nextCrlNumber(store.db, 'root'), await nextCrlNumber(store.db, 'root'), await nextCrlNumber(store.db, 'tsa')])
        .toEqual([1, 2, 1]);
    });

    it('rolls back to an empty schema', async () => {
      await store.db.migrate.rollback(undefined, true);
      expect(await store.db.schema.hasTable('seals')).toBe(false);
      expect(await store.db.schema.hasTable('audit_log')).toBe(false);
      await store.db.migrate.latest();
      expect(await store.db.schema.hasTable('audit_log')).toBe(true);
    });
  });
}

describe('sqlite connection settings', () => {
  it('uses WAL, a busy timeout and foreign keys on every connection', async () => {
    const tdb = backends[0]!.make();
    const store = await openStore({ database: tdb.database });
    try {
      expect(await store.db.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await store.db.raw('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
      expect(await store.db.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    } finally {
      await store.close();
      await tdb.cleanup();
    }
  });

  it('creates a database with 16 KB pages and keeps the writer\'s statement journals in memory; a database made with 4 KB pages keeps them', async () => {
    const tdb = backends[0]!.make();
    const store = await openStore({ database: tdb.database });
    try {
      expect(await store.db.raw('PRAGMA page_size')).toEqual([{ page_size: SQLITE_PAGE_SIZE }]);
      expect(SQLITE_PAGE_SIZE).toBe(16_384);
      // 2 = MEMORY, after the migrations (which ran with temporary files); the read connection keeps the default.
      expect(await store.db.raw('PRAGMA temp_store')).toEqual([{ temp_store: 2 }]);
      expect(await store.reads.raw('PRAGMA temp_store')).toEqual([{ temp_store: 0 }]);
    } finally {
      await store.close();
      await tdb.cleanup();
    }
    const older = backends[0]!.make();
    if (older.database.client !== 'sqlite3') throw new Error('a SQLite test database was expected');
    const before = knex({ client: 'sqlite3', connection: { filename: older.database.filename }, useNullAsDefault: true });
    await before.raw('PRAGMA page_size = 4096');
    await before.raw('PRAGMA journal_mode = WAL');
    await before.raw('CREATE TABLE made_before (id INTEGER PRIMARY KEY)');
    await before.destroy();
    const reopened = await openStore({ database: older.database });
    try {
      expect(await reopened.db.raw('PRAGMA page_size')).toEqual([{ page_size: 4096 }]);
      expect(await reopened.db.schema.hasTable('audit_log')).toBe(true);
      expect(await reopened.db.schema.hasTable('made_before')).toBe(true);
    } finally {
      await reopened.close();
      await older.cleanup();
    }
  });

  it('begins a WRITES_SENT_TOGETHER transaction holding the write lock, so another process cannot write before its first write; others begin deferred', async () => {
    const tdb = backends[0]!.make();
    if (tdb.database.client !== 'sqlite3') throw new Error('expected sqlite');
    const store = await openStore({ database: tdb.database });
    // Another process's connection, which does not wait for a lock.
    const other = knex({ client: 'sqlite3', connection: { filename: tdb.database.filename }, useNullAsDefault: true,
      pool: { min: 1, max: 1, afterCreate: (c: { exec(sql: string, cb: (e: Error | null) => void): void }, done: (e: Error | null, c: unknown) => void) => c.exec('PRAGMA busy_timeout = 0', (e) => done(e, c)) } });
    const otherWrites = () => other('settings').insert({ key: 'other', value: '1', updated_at: 'now' }).onConflict('key').merge();
    // Inside each transaction nothing is written: only how it began differs.
    const readThenOtherWrites = async (trx: Knex.Transaction) => {
      await trx.raw('select 1');
      await otherWrites();
    };
    try {
      await expect(store.db.transaction(readThenOtherWrites, WRITES_SENT_TOGETHER)).rejects.toThrow(/SQLITE_BUSY/);
      await store.db.transaction(readThenOtherWrites);
      expect(await other('settings').where({ key: 'other' }).first()).toMatchObject({ value: '1' });
    } finally {
      await other.destroy();
      await store.close();
      await tdb.cleanup();
    }
  });

  it('checks a WRITES_SENT_TOGETHER transaction\'s foreign keys at COMMIT, and rolls back one that fails there instead of leaving it open', async () => {
    const tdb = backends[0]!.make();
    if (tdb.database.client !== 'sqlite3') throw new Error('expected sqlite');
    const store = await openStore({ database: tdb.database });
    try {
      await store.db.schema.createTable('parents', (t) => t.integer('id').primary());
      await store.db.schema.createTable('children', (t) => t.integer('parent_id').notNullable().references('id').inTable('parents'));
      // Sent together: the child may run before its parent.
      await store.db.transaction((trx) => together(trx, async () => trx('children').insert({ parent_id: 1 }), async () => trx('parents').insert({ id: 1 })), WRITES_SENT_TOGETHER);
      expect(await store.db('children').select('parent_id')).toEqual([{ parent_id: 1 }]);
      // Without the deferral the child is refused at once, whatever comes after it.
      await expect(store.db.transaction(async (trx) => {
        await trx('children').insert({ parent_id: 2 });
        await trx('parents').insert({ id: 2 });
      })).rejects.toThrow(/FOREIGN KEY/);

      // A reference that never comes fails the COMMIT, which leaves SQLite's transaction open...
      await expect(store.db.transaction((trx) => trx('children').insert({ parent_id: 99 }), WRITES_SENT_TOGETHER)).rejects.toThrow(/FOREIGN KEY/);
      // ...so it must have been rolled back: a write after it commits, as another connection sees.
      await store.db('parents').insert({ id: 3 });
      expect(await store.reads('parents').orderBy('id').select('id')).toEqual([{ id: 1 }, { id: 3 }]);
      expect(await store.reads('children').where({ parent_id: 99 }).first()).toBeUndefined();
    } finally {
      await store.close();
      await tdb.cleanup();
    }
  });

  it('prepares each statement once per connection and reuses it, and closes a connection that made more statements than it keeps', async () => {
    const tdb = backends[0]!.make();
    if (tdb.database.client !== 'sqlite3') throw new Error('expected sqlite');
    const db = knex({ client: PreparedSqliteClient, connection: { filename: tdb.database.filename }, useNullAsDefault: true });
    const client = db.client as unknown as PreparedSqliteClient;
    const connection = await client.acquireRawConnection() as { prepare(...args: unknown[]): unknown };
    let prepares = 0;
    const prepare = connection.prepare.bind(connection);
    connection.prepare = (...args) => {
      prepares++;
      return prepare(...args);
    };
    const query = (sql: string, bindings: unknown[] = [], method?: string) => client._query(connection as never, { sql, bindings, method });
    try {
      expect((await query('select ? as n', [1])).response).toEqual([{ n: 1 }]);
      expect((await query('select ? as n', [2])).response).toEqual([{ n: 2 }]);
      expect(prepares).toBe(1);
      await query('create table t (id integer primary key, v text)');
      // Writes go through `run`, which reports the row id and the count changed, as knex expects.
      expect((await query('insert into t (v) values (?)', ['a'], 'insert')).context).toMatchObject({ lastID: 1 });
      expect((await query('insert into t (v) values (?)', ['b'], 'insert')).context).toMatchObject({ lastID: 2 });
      expect((await query('update t set v = ?', ['c'], 'update')).context).toMatchObject({ changes: 2 });
      expect(prepares).toBe(4);
      // A statement that fails to prepare is not kept: the same SQL is prepared again, and fails again.
      await expect(query('select * from missing')).rejects.toThrow(/no such table/);
      await expect(query('select * from missing')).rejects.toThrow(/no such table/);
      expect(prepares).toBe(6);
      for (let i = 0; i < 300; i++) await query(`select ${i} as n`);
      // Past the bound the least recently used were let go: the first statement is prepared anew.
      const before = prepares;
      expect((await query('select ? as n', [3])).response).toEqual([{ n: 3 }]);
      expect(prepares).toBe(before + 1);
    } finally {
      // SQLite refuses to close a connection with a statement left unfinalized (kept or let go).
      await client.destroyRawConnection(connection as never);
      await db.destroy();
      await tdb.cleanup();
    }
  });

  it('keeps no read open through a kept statement: later reads see new commits, and a checkpoint completes', async () => {
    const tdb = backends[0]!.make();
    const store = await openStore({ database: tdb.database });
    try {
      await store.db('leases').insert({ name: 'first', holder: 'h', expires_at: 'x' });
      const count = async () => Number(((await store.reads('leases').count({ n: '*' })) as { n: number }[])[0]!.n);
      expect(await count()).toBe(1);
      for (let i = 0; i < 50; i++) await store.db('leases').insert({ name: `later-${i}`, holder: 'h', expires_at: 'x' });
      // The same statement again, on the read connection: a snapshot kept from its first run would say 1.
      expect(await count()).toBe(51);
      // A statement holding a read would keep the checkpoint from truncating the WAL (busy: 1).
      expect(await store.db.raw('PRAGMA wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
    } finally {
      await store.close();
      await tdb.cleanup();
    }
  });

  it('reports an unopenable database as unavailable, naming the file', async () => {
    const tdb = backends[0]!.make();
    if (tdb.database.client !== 'sqlite3') throw new Error('expected sqlite');
    // A regular file where the database's directory should be.
    const blocker = path.join(path.dirname(tdb.database.filename), 'not-a-dir');
    writeFileSync(blocker, '');
    const filename = path.join(blocker, 'oneseal.db');
    try {
      await expect(openStore({ database: { client: 'sqlite3', filename } }))
        .rejects.toMatchObject({ code: 'database-unavailable', kind: 'unavailable', message: expect.stringContaining(filename) });
    } finally {
      await tdb.cleanup();
    }
  });
});
