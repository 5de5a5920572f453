/**
 * The database failing under a running service (real server, SoftHSM, SQLite file): another
 * connection holds the write lock longer than busy_timeout → 503 naming the database, nothing half
 * written, and the service works again once the lock is released; a short lock is simply waited out.
 */
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/api/problem.js';
import { addClient, countRows } from './support/api-client.js';
import { checkStampRecords, LETTER, postStamp, storedOutputCount, waitFor } from './support/ops.js';
import { openStack, type Stack } from './support/stamp-stack.js';

/** A second connection to the same file, as another process would hold it. */
function otherConnection(file: string): { exec(sql: string): Promise<void>; close(): Promise<void> } {
  const db = new sqlite3.Database(file);
  return {
    exec: (sql) => new Promise((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve, reject) => db.close((e) => (e ? reject(e) : resolve()))),
  };
}

describe('database faults on a running server', () => {
  let stack: Stack;
  let url: string;
  let key: string;
  let dbFile: string;
  beforeAll(async () => {
    stack = await openStack();
    url = stack.server.url;
    ({ key } = await addClient(stack, 'faults-db', ['approval']));
    const { database } = stack.services.config;
    if (database.client !== 'sqlite3') throw new Error('this suite locks a SQLite file');
    dbFile = database.filename;
    expect((await postStamp(url, key, LETTER())).status).toBe(200);
  }, 120_000);
  afterAll(() => stack?.close());

  const outputs = () => storedOutputCount(stack.services.store.db, stack.dir);

  it('answers 503 naming the database while another connection holds the write lock, and recovers after release', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const auditBefore = await countRows(stack, 'audit_log');
    const outputsBefore = await outputs();
    const other = otherConnection(dbFile);
    await other.exec('BEGIN EXCLUSIVE');
    try {
      // busy_timeout (5 s) runs out while the stamp waits to be recorded
      const started = performance.now();
      const res = await postStamp(url, key, LETTER());
      expect(res.status).toBe(503);
      // Once: the statements after the first are not each sent to wait out busy_timeout (3 of them took 15 s).
      expect(performance.now() - started).toBeLessThan(12_000);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).toBe('5');
      const problem = (await res.json()) as { type: string; detail: string; component: string };
      expect(problem.type).toBe(`${PROBLEM_BASE}database-unavailable`);
      expect(problem.component).toBe('database');
      expect(problem.detail).toMatch(/^The database is not available \(SQLITE_BUSY\)/);
      // readers are not blocked (WAL): nothing was recorded and the signed output was not kept
      expect(await countRows(stack, 'stamps')).toBe(stampsBefore);
      expect(await countRows(stack, 'audit_log')).toBe(auditBefore);
      expect(await outputs()).toBe(outputsBefore);
    } finally {
      await other.exec('ROLLBACK');
      await other.close();
    }
    const again = await postStamp(url, key, LETTER());
    expect(again.status).toBe(200);
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore + 1);
    expect(await countRows(stack, 'audit_log')).toBe(auditBefore + 1);
    expect(await checkStampRecords(stack.services.store.db, stack.dir)).toEqual({ stamps: stampsBefore + 1, problems: [] });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^oneseal_errors_total\{code="database-unavailable"\} 1$/m);
  }, 60_000);

  it('waits out a lock shorter than busy_timeout: the stamp is recorded with its audit entry', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const signed = () => stack.services.metrics.stamps.get({ seal: 'approval', level: 'B-T', outcome: 'ok' });
    const signedBefore = signed();
    const other = otherConnection(dbFile);
    await other.exec('BEGIN EXCLUSIVE');
    const pending = postStamp(url, key, LETTER());
    try {
      // the stamp is signed and now waits for the write lock
      await waitFor(() => signed() > signedBefore);
    } finally {
      await other.exec('ROLLBACK');
      await other.close();
    }
    expect((await pending).status).toBe(200);
    expect(await checkStampRecords(stack.services.store.db, stack.dir)).toEqual({ stamps: stampsBefore + 1, problems: [] });
  }, 60_000);
});
