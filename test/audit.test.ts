import { afterEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { appendAudit, appendAudits, auditEntryHash, GENESIS_HASH, verifyAuditChain } from '../src/audit/chain.js';
import { canonicalJson } from '../src/audit/canonical-json.js';
import { openStore, type Store } from '../src/store/db.js';
import { testBackends, type TestDatabase } from './support/databases.js';

const backends = await testBackends();

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: null, y: 'é' }], c: undefined } })).toBe('{"a":{"d":[1,{"y":"é","z":null}]},"b":1}');
  });
  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
  });
});

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`audit chain on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    const open: { tdb: TestDatabase; store: Store }[] = [];
    afterEach(async () => {
      for (const { tdb, store } of open.splice(0)) {
        await store.close();
        await tdb.cleanup();
      }
    });

    async function chainOf(n: number): Promise<Knex> {
      const tdb = backend.make();
      const store = await openStore({ database: tdb.database });
      open.push({ tdb, store });
      for (let i = 1; i <= n; i++) {
        await store.db.transaction((trx) =>
          appendAudit(trx, { actor: `client-${i % 3}`, action: 'stamp.create', subject: `stamp-${i}`, details: { i, pages: [i, i + 1], at: new Date(0) } }));
      }
      return store.db;
    }

    it('links 50 entries from the genesis hash and verifies them', async () => {
      const db = await chainOf(50);
      const rows = await db('audit_log').orderBy('seq');
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(rows[0].prev_hash).toBe(GENESIS_HASH);
      for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
      // Dates went through JSON before hashing, so what was hashed is what reads back.
      expect(JSON.parse(rows[0].details)).toEqual({ i: 1, pages: [1, 2], at: '1970-01-01T00:00:00.000Z' });
      expect(await verifyAuditChain(db, { pageSize: 7 })).toEqual({ ok: true, count: 50, lastSeq: 50, lastHash: rows[49].hash });
    });

    it('names an entry whose details were changed with SQL', async () => {
      const db = await chainOf(50);
      await db('audit_log').where({ seq: 17 }).update({ details: '{"i":17,"pages":[99]}' });
      expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 17, problem: 'altered' });
    });

    it('names an entry that was changed and re-hashed through its successor', async () => {
      const db = await chainOf(50);
      const row = await db('audit_log').where({ seq: 10 }).first();
      const forged = { ...row, seq: 10, actor: 'someone-else', prevHash: row.prev_hash, details: JSON.parse(row.details) };
      await db('audit_log').where({ seq: 10 }).update({ actor: 'someone-else', hash: auditEntryHash(forged) });
      expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 10, problem: 'altered' });
    });

    it('catches a consistent rewrite of the chain through a recorded head', async () => {
      const db = await chainOf(30);
      const head = await db('audit_log').where({ seq: 25 }).first();
      await db('audit_heads').insert({ seq: 25, hash: head.hash, signature: 'c2ln', signed_at: '2026-01-01T00:00:00.000Z', key_role: 'audit' });
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 30 });

      // Someone with database access rewrites entry 20 and recomputes every hash after it, tip included.
      let prevHash = (await db('audit_log').where({ seq: 19 }).first()).hash as string;
      for (const row of await db('audit_log').where('seq', '>=', 20).orderBy('seq')) {
        const actor = row.seq === 20 ? 'mallory' : row.actor;
        const hash = auditEntryHash({ seq: Number(row.seq), at: row.at, actor, action: row.action, subject: row.subject, details: JSON.parse(row.details), prevHash });
        await db('audit_log').where({ seq: row.seq }).update({ actor, prev_hash: prevHash, hash });
        prevHash = hash;
      }
      await db('audit_tip').update({ hash: prevHash });
      const result = await verifyAuditChain(db);
      expect(result).toMatchObject({ ok: false, seq: 25, problem: 'altered' });
      expect(result.ok === false && result.message).toContain('rewritten');
    });

    it('names a deleted entry as removed', async () => {
      const db = await chainOf(50);
      await db('audit_log').where({ seq: 30 }).delete();
      const result = await verifyAuditChain(db);
      expect(result).toMatchObject({ ok: false, seq: 30, problem: 'removed' });
      expect(result.ok === false && result.message).toMatch(/entry 30 .*missing/);
    });

    it('notices entries cut off the end of the log', async () => {
      const db = await chainOf(50);
      await db('audit_log').where('seq', '>', 47).delete();
      expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 48, problem: 'removed' });
    });

    it('names a forged entry inserted in the middle, even with a valid hash', async () => {
      const db = await chainOf(50);
      // Make room at 26 in two steps: a unique key is checked row by row on both databases.
      await db('audit_log').where('seq', '>=', 26).update({ seq: db.raw('-seq') });
      await db('audit_log').where('seq', '<', 0).update({ seq: db.raw('1 - seq') });
      const before = await db('audit_log').where({ seq: 25 }).first();
      const forged = {
        seq: 26, at: new Date().toISOString(), actor: 'intruder', action: 'seal.create', subject: 'fake',
        details: {}, prevHash: before.hash as string,
      };
      await db('audit_log').insert({
        seq: 26, at: forged.at, actor: forged.actor, action: forged.action, subject: forged.subject,
        details: '{}', prev_hash: forged.prevHash, hash: auditEntryHash(forged),
      });
      expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 26, problem: 'inserted' });
    });

    it('leaves no trace of an append whose transaction rolled back', async () => {
      const db = await chainOf(3);
      await expect(db.transaction(async (trx) => {
        await appendAudit(trx, { actor: 'x', action: 'stamp.create' });
        throw new Error('signing failed');
      })).rejects.toThrow('signing failed');
      const next = await db.transaction((trx) => appendAudit(trx, { actor: 'x', action: 'stamp.create' }));
      expect(next.seq).toBe(4);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 4 });
    });

    it('never forks the chain under concurrent appending transactions', async () => {
      const db = await chainOf(0);
      const entries = await Promise.all(Array.from({ length: 24 }, (_, i) =>
        db.transaction(async (trx) => {
          // Work before the append widens the window in which two transactions could read the same head.
          await trx('audit_log').count({ n: '*' });
          return appendAudit(trx, { actor: `c${i}`, action: 'stamp.create', details: { i } });
        })));
      expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(new Set(entries.map((e) => e.prevHash)).size).toBe(24);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 24 });
    });

    it('appends several entries at once in the order given, chained like single appends, beside concurrent ones', async () => {
      const db = await chainOf(1);
      const [several, single] = await Promise.all([
        db.transaction((trx) => appendAudits(trx, ['a', 'b', 'c'].map((subject) => ({ actor: 'group', action: 'stamp.create', subject })))),
        db.transaction((trx) => appendAudit(trx, { actor: 'alone', action: 'stamp.create' })),
      ]);
      const seqs = several.map((e) => e.seq);
      expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2]);
      expect(several.map((e) => e.subject)).toEqual(['a', 'b', 'c']);
      expect(several[1]!.prevHash).toBe(several[0]!.hash);
      expect(several[2]!.prevHash).toBe(several[1]!.hash);
      expect([...seqs, single.seq].sort((a, b) => a - b)).toEqual([2, 3, 4, 5]);
      expect(await db.transaction((trx) => appendAudits(trx, []))).toEqual([]);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 5 });
    });
  });
}

describe('audit chain across processes sharing one SQLite file', () => {
  it('serialises appends from two connections through the write lock and busy timeout', async () => {
    const tdb = backends[0]!.make();
    const a = await openStore({ database: tdb.database });
    const b = await openStore({ database: tdb.database });
    try {
      const append = (store: Store, i: number) => store.db.transaction((trx) => appendAudit(trx, { actor: 'p', action: 'x', details: { i } }));
      await Promise.all(Array.from({ length: 20 }, (_, i) => append(i % 2 ? a : b, i)));
      expect(await verifyAuditChain(a.db)).toMatchObject({ ok: true, count: 20 });
    } finally {
      await a.close();
      await b.close();
      await tdb.cleanup();
    }
  });
});
