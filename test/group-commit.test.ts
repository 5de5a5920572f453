/**
 * Group commit of stamps (src/stamping/group-commit.ts, stamp-commits.ts): what is queued while a
 * commit runs goes into the next one together; one bad stamp in a commit fails alone, its audit entry
 * and output with it, on SQLite and PostgreSQL.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../src/audit/chain.js';
import { GroupCommit } from '../src/stamping/group-commit.js';
import { placeOutputs, sweepStagedOutputs, writePlaced } from '../src/stamping/outputs.js';
import { commitStamps, LastAuditTip, stampCommits, type OwnedStampCommits, type PendingStamp } from '../src/stamping/stamp-commits.js';
import { getAuditTip } from '../src/store/audit.js';
import { openStore, type Store } from '../src/store/db.js';
import { together } from '../src/store/together.js';
import { latch } from './support/latch.js';
import { testBackends, type TestDatabase } from './support/databases.js';


describe('GroupCommit', () => {
  it('commits at once when idle, and puts everything queued during a commit into the next one', async () => {
    const batches: number[][] = [];
    const first = latch();
    const commits = new GroupCommit<number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await first.promise;
      return items.map(() => undefined);
    });
    const done = [commits.submit(0)];
    expect(batches).toEqual([[0]]); // the first submission leads a commit without waiting for company
    for (let i = 1; i <= 5; i++) done.push(commits.submit(i));
    first.open();
    await Promise.all(done);
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5]]);
  });

  it('rejects only the items the committer names', async () => {
    const commits = new GroupCommit<string>(async (items) => items.map((i) => (i === 'bad' ? new Error(`refused ${i}`) : undefined)));
    const settled = await Promise.allSettled(['a', 'bad', 'c'].map((i) => commits.submit(i)));
    expect(settled).toMatchObject([{ status: 'fulfilled' }, { status: 'rejected', reason: { message: 'refused bad' } }, { status: 'fulfilled' }]);
  });

  it('rejects every item of a commit that throws, and the next commit still runs', async () => {
    const first = latch();
    const batches: string[][] = [];
    const commits = new GroupCommit<string>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await first.promise;
      if (batches.length === 2) throw new Error('disk full');
      return items.map(() => undefined);
    });
    const a = commits.submit('a');
    const bc = Promise.allSettled([commits.submit('b'), commits.submit('c')]);
    first.open();
    await a;
    expect(await bc).toMatchObject([{ status: 'rejected', reason: { message: 'disk full' } }, { status: 'rejected', reason: { message: 'disk full' } }]);
    await commits.submit('d');
    expect(batches).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('caps a commit at maxBatch items', async () => {
    const sizes: number[] = [];
    const first = latch();
    const commits = new GroupCommit<number>(async (items) => {
      if (sizes.length === 0) await first.promise;
      return items.map(() => undefined);
    }, { maxBatch: 3, onCommit: (n) => sizes.push(n) });
    const done = Array.from({ length: 8 }, (_, i) => commits.submit(i));
    first.open();
    await Promise.all(done);
    expect(sizes).toEqual([1, 3, 3, 1]);
  });
});

const backends = await testBackends();

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`stamp commits on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let tdb: TestDatabase;
    let store: Store;
    let dataDir: string;

    beforeAll(async () => {
      tdb = backend.make();
      store = await openStore({ database: tdb.database });
      dataDir = mkdtempSync(path.join(tmpdir(), 'oneseal-commits-'));
      // Taken already: recording a lease of this name again is a unique violation.
      await store.db('leases').insert({ name: 'taken', holder: 'someone', expires_at: new Date().toISOString() });
    });
    /** Commit points opened by a test, closed after it: one may hold the outputs' directory open. */
    const opened: OwnedStampCommits[] = [];
    const openCommits = () => {
      const commits = stampCommits(store.db, dataDir);
      opened.push(commits);
      return commits;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((commits) => commits.close()));
    });
    afterAll(async () => {
      await store?.close();
      await tdb?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** A stamp-like item: an output file, an audit entry, then a row whose primary key is `name`. */
    const item = (name: string): PendingStamp => ({
      outputs: [{ path: `stamps/${name}.pdf`, pdf: Buffer.from(`%PDF ${name}`) }],
      async record(trx: Knex.Transaction) {
        await appendAudit(trx, { actor: 'test', action: 'test.commit', subject: name });
        await trx('leases').insert({ name, holder: 'test', expires_at: new Date().toISOString() });
      },
    });

    if (backend.name === 'sqlite') {
      it('together: sends every statement at once, and fails only once each has settled, so a rollback cannot overtake one still on its way', async () => {
        const slow = latch();
        const started: string[] = [];
        let slowDone = false;
        let failedAt: boolean | undefined;
        await expect(store.db.transaction((trx) => {
          const run = together(
            trx,
            () => (started.push('failing'), Promise.reject(new Error('unique violation'))),
            () => (started.push('slow'), slow.promise.then(() => { slowDone = true; })),
          ).catch((e: Error) => { failedAt = slowDone; throw e; });
          expect(started).toEqual(['failing', 'slow']);
          // Not before every promise callback queued so far has run: a `together` that gave up at the
          // first failure would have done so by then.
          setImmediate(() => slow.open());
          return run;
        })).rejects.toThrow('unique violation');
        expect(failedAt).toBe(true);
      });
    } else {
      it('together: sends each statement once the one before has answered, in the order given, and none after a failure (node-postgres runs one query at a time per connection)', async () => {
        const first = latch();
        const started: string[] = [];
        await expect(store.db.transaction((trx) => {
          const run = together(
            trx,
            () => (started.push('first'), first.promise.then(() => trx.raw('select 1'))),
            () => (started.push('failing'), trx.raw('select * from no_such_table')),
            () => (started.push('after'), trx.raw('select 1')),
          );
          expect(started).toEqual(['first']);
          first.open();
          return run;
        })).rejects.toThrow(/no_such_table/);
        expect(started).toEqual(['first', 'failing']);
      });
    }

    it('records the good stamps of a commit and fails only the bad one, its audit entry rolled back with it', async () => {
      const auditBefore = (await verifyAuditChain(store.db)) as { ok: true; count: number };
      const items = [item('one'), item('taken'), item('three')];
      await placeOutputs(dataDir, items.flatMap((i) => i.outputs));
      const outcome = await commitStamps(store.db, items);
      expect(outcome[0]).toBeUndefined();
      expect(outcome[1]).toBeInstanceOf(Error);
      expect(outcome[2]).toBeUndefined();

      const names = ((await store.db('leases').select('name').orderBy('name')) as { name: string }[]).map((r) => r.name);
      expect(names).toEqual(['one', 'taken', 'three']);
      // Two entries more, and the chain unbroken.
      const audit = await verifyAuditChain(store.db);
      expect(audit).toMatchObject({ ok: true, count: auditBefore.count + 2 });
      const subjects = (await store.db('audit_log').where({ action: 'test.commit' }).orderBy('seq').select('subject')) as { subject: string }[];
      expect(subjects.map((s) => s.subject)).toEqual(['one', 'three']);
    });

    it('keeps the output of a stamp that committed and removes that of one that did not', async () => {
      const commits = openCommits();
      const settled = await Promise.allSettled([commits.submit(item('four')), commits.submit(item('taken'))]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
      expect(existsSync(path.join(dataDir, 'stamps/four.pdf'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'stamps/taken.pdf'))).toBe(false);
    });

    it('takes an output its worker put in place as it is, and removes it if its stamp did not commit', async () => {
      const placed = (name: string): PendingStamp => {
        const plain = item(name);
        const [output] = plain.outputs;
        const placedIn = writePlaced(path.join(dataDir, output!.path), Buffer.from(`%PDF ${name}, as the worker wrote it`));
        return { ...plain, outputs: [{ ...output!, placedIn }] };
      };
      const commits = openCommits();
      const settled = await Promise.allSettled([commits.submit(placed('six')), commits.submit(placed('taken'))]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
      // Not written again by the commit point.
      expect(readFileSync(path.join(dataDir, 'stamps/six.pdf'), 'utf8')).toBe('%PDF six, as the worker wrote it');
      expect(existsSync(path.join(dataDir, 'stamps/taken.pdf'))).toBe(false);
      expect(readdirSync(path.join(dataDir, 'stamps')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('sweeps outputs left unplaced once they are older than the bound, and nothing else', async () => {
      const sweepDir = mkdtempSync(path.join(tmpdir(), 'oneseal-sweep-'));
      try {
        expect(await sweepStagedOutputs(sweepDir, 1000)).toBe(0); // no stamps/ yet
        // What a worker stopped before its rename leaves.
        const staging = path.join(sweepDir, 'stamps');
        mkdirSync(staging);
        const old = path.join(staging, 'old.pdf.0a1b2c.tmp');
        const fresh = path.join(staging, 'fresh.pdf.3d4e5f.tmp');
        writeFileSync(old, '%PDF old');
        writeFileSync(fresh, '%PDF fresh');
        const placed = path.join(staging, 'placed.pdf');
        writeFileSync(placed, '%PDF placed');
        const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
        utimesSync(old, twoHoursAgo, twoHoursAgo);
        utimesSync(placed, twoHoursAgo, twoHoursAgo);
        expect(await sweepStagedOutputs(sweepDir, 3600_000)).toBe(1);
        expect(existsSync(old)).toBe(false);
        expect(existsSync(fresh)).toBe(true);
        expect(existsSync(placed)).toBe(true);
      } finally {
        rmSync(sweepDir, { recursive: true, force: true });
      }
    });

    it('after its first commit claims the audit tip no more, notices an entry appended by anyone else meanwhile, makes that commit again, and keeps the chain whole', async () => {
      const lastTip = new LastAuditTip();
      /** A stamp-like item whose audit entry goes through the commit's rows, as a stamp's does. */
      const viaRows = (name: string): PendingStamp => ({
        outputs: [],
        async record(trx: Knex.Transaction, rows) {
          rows.auditEntry({ actor: 'test', action: 'test.tip', subject: name });
          await trx('leases').insert({ name, holder: 'test', expires_at: new Date().toISOString() });
        },
      });
      const sql: string[] = [];
      const onQuery = (q: { sql: string }) => sql.push(q.sql);
      store.db.on('query', onQuery);
      const claims = () => sql.filter((q) => /update .audit_tip. set .seq. = .seq. \+/.test(q)).length;
      try {
        expect(await commitStamps(store.db, [viaRows('tip-a')], lastTip)).toEqual([undefined]);
        expect(claims()).toBe(1); // nothing remembered yet
        expect(lastTip.value).toEqual(await getAuditTip(store.db));

        sql.length = 0;
        expect(await commitStamps(store.db, [viaRows('tip-b'), viaRows('tip-c')], lastTip)).toEqual([undefined, undefined]);
        expect(claims()).toBe(0);
        expect(lastTip.value).toEqual(await getAuditTip(store.db));

        // Another writer (an administrator's change, a CLI command) appends between two commits.
        await store.db.transaction((trx) => appendAudit(trx, { actor: 'test', action: 'test.tip', subject: 'elsewhere' }));
        sql.length = 0;
        expect(await commitStamps(store.db, [viaRows('tip-d')], lastTip)).toEqual([undefined]);
        expect(claims()).toBe(1); // found the tip moved, rolled back, and claimed it the second time
        expect(lastTip.value).toEqual(await getAuditTip(store.db));
      } finally {
        store.db.off('query', onQuery);
      }
      expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true });
      const entries = (await store.db('audit_log').where({ action: 'test.tip' }).orderBy('seq').select('subject', 'seq')) as { subject: string; seq: number }[];
      expect(entries.map((e) => e.subject)).toEqual(['tip-a', 'tip-b', 'tip-c', 'elsewhere', 'tip-d']);
      expect(entries.map((e) => Number(e.seq) - Number(entries[0]!.seq))).toEqual([0, 1, 2, 3, 4]);
      expect(Number((await store.db('leases').whereIn('name', ['tip-a', 'tip-b', 'tip-c', 'tip-d']).count({ n: '*' }))[0]!.n)).toBe(4);
    });

    it('fails a stamp whose output cannot be written, before its records are touched', async () => {
      // A directory stands where the output file should go: the rename into place fails.
      mkdirSync(path.join(dataDir, 'stamps/unwritable.pdf'), { recursive: true });
      writeFileSync(path.join(dataDir, 'stamps/unwritable.pdf/keep'), 'x');
      const commits = openCommits();
      const settled = await Promise.allSettled([commits.submit(item('unwritable')), commits.submit(item('five'))]);
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled']);
      expect(await store.db('leases').where({ name: 'unwritable' }).first()).toBeUndefined();
      expect(await store.db('leases').where({ name: 'five' }).first()).toBeDefined();
      expect(existsSync(path.join(dataDir, 'stamps/unwritable.pdf/keep'))).toBe(true);
      expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true });
    });
  });
}
