/**
 * `oneseal serve` killed with SIGKILL in the middle of stamping (a real child process, SoftHSM token
 * and SQLite file prepared by `oneseal init`), then started again: no half-recorded stamp (every row
 * has its audit entry and stored output, `oneseal audit verify` passes), and each client retry with
 * the same Idempotency-Key ends with exactly one stamp, replayed byte for byte.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { OUTPUT_IN_DATABASE } from '../src/stamping/outputs.js';
import { openStore } from '../src/store/db.js';
import { checkStampRecords, LETTER, postStamp, waitFor } from './support/ops.js';
import { runOneseal, serveChild, type ChildServer } from './support/child-server.js';

const CONCURRENT = 12;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// Both ways of keeping outputs: in the database with their record (the default for one-page letters),
// and as files made durable before the record (ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB=0).
describe.each([
  ['in the database', {}, true],
  ['as files', { ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB: '0' }, false],
])('crash and restart in the middle of stamping, outputs %s', (_, outputsEnv, inDatabase) => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let key: string;
  const children: ChildProcess[] = [];

  const oneseal = (args: string[]) => runOneseal(env, args);
  const serve = async () => {
    const server = await serveChild(env);
    children.push(server.child);
    return server;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'oneseal-crash-'));
    // only what an operator would set: no SOFTHSM2_CONF from this process, the data dir's own token store
    // One PDF worker: the stamps are made one after another, so when the first is answered the others are
    // still queued or at work, even if this process, starved by other suites, reacts late to that answer
    // (with three workers the others finished within tens of ms, and once, in CI, all were answered before
    // the kill landed: none was cut).
    env = { PATH: process.env.PATH, HOME: process.env.HOME, ONESEAL_DATA_DIR: dir, ONESEAL_PORT: '0', ONESEAL_LOG_LEVEL: 'warn', ONESEAL_REQUEST_TIMEOUT_SECONDS: '20', ONESEAL_WORKERS: '1', ...outputsEnv };
    oneseal(['init']);
    ({ key } = JSON.parse(oneseal(['client', 'add', '--name', 'crash-test', '--seals', 'approval', '--break-glass', '--json'])) as { key: string });
  }, 180_000);
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const keys = Array.from({ length: CONCURRENT }, (_, i) => `crash-${i}`);
  const answered = new Map<string, Buffer>();
  let url: string;
  let second: ChildServer | undefined;
  afterAll(() => second?.stop());

  it('leaves only whole stamps when killed after the first answer, and replays the answered ones after restart', async () => {
    const first = await serve();
    const requests = keys.map(async (k) => {
      const res = await postStamp(first.url, key, LETTER(), { idempotencyKey: k });
      if (res.status !== 200) throw new Error(`${k}: ${res.status}`);
      answered.set(k, Buffer.from(await res.arrayBuffer()));
    });
    // SIGKILL as soon as one stamp has been answered: the others are in the middle of their work
    await Promise.race(requests);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const cut = (await Promise.allSettled(requests)).filter((o) => o.status === 'rejected').length;
    expect(answered.size).toBeGreaterThanOrEqual(1);
    expect(cut).toBeGreaterThanOrEqual(1); // otherwise the kill was not mid-request and this test proves nothing

    // Before any retry: the database holds only whole stamps.
    const store = await openStore(loadConfig(env));
    try {
      const check = await checkStampRecords(store.db, dir);
      expect(check.problems).toEqual([]);
      const places = (await store.db('stamps').select('output_path')) as { output_path: string }[];
      expect(new Set(places.map((p) => p.output_path === OUTPUT_IN_DATABASE))).toEqual(new Set([inDatabase]));
      expect(check.stamps).toBeGreaterThanOrEqual(answered.size);
      expect(check.stamps).toBeLessThanOrEqual(CONCURRENT);
    } finally {
      await store.close();
    }
    expect(JSON.parse(oneseal(['audit', 'verify', '--json']))).toMatchObject({ ok: true });

    // Outputs a crash leaves half-way (never renamed into place) go at the next start once they are old
    // enough to be no one's write in flight (another instance's, on shared storage); a recent one stays.
    mkdirSync(path.join(dir, 'stamps'), { recursive: true });
    const leftover = path.join(dir, 'stamps', 'left-by-a-crash.tmp');
    const recent = path.join(dir, 'stamps', 'in-flight.tmp');
    writeFileSync(leftover, '%PDF-1.7 cut short');
    writeFileSync(recent, '%PDF-1.7 being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(leftover, twoHoursAgo, twoHoursAgo);

    second = await serve();
    url = second.url;
    await waitFor(() => !existsSync(leftover));
    expect(existsSync(recent)).toBe(true);
    for (const [k, before] of answered) {
      const retry = await postStamp(url, key, LETTER(), { idempotencyKey: k });
      expect(retry.status, `retry of ${k}`).toBe(200);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(sha(Buffer.from(await retry.arrayBuffer())), `${k} was answered before the crash: the retry replays it`).toBe(sha(before));
    }
  }, 240_000);

  it('gives each request cut by the crash exactly one stamp on retry, replayed byte for byte', async () => {
    expect(url).toBeDefined();
    for (const k of keys.filter((k) => !answered.has(k))) {
      const retry = await postStamp(url, key, LETTER(), { idempotencyKey: k });
      expect(retry.status, `first retry of ${k}: ${retry.status === 200 ? '' : await retry.clone().text()}`).toBe(200);
      const retried = Buffer.from(await retry.arrayBuffer());
      const again = await postStamp(url, key, LETTER(), { idempotencyKey: k });
      expect(again.status, `second retry of ${k}`).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(sha(Buffer.from(await again.arrayBuffer())), `second retry of ${k} is byte-identical`).toBe(sha(retried));
    }
    const store = await openStore(loadConfig(env));
    try {
      const perKey = (await store.db('stamps').whereIn('idempotency_key', keys).groupBy('idempotency_key')
        .select('idempotency_key').count({ n: '*' })) as { idempotency_key: string; n: number }[];
      expect(perKey.map((r) => [r.idempotency_key, Number(r.n)]).sort()).toEqual(keys.map((k) => [k, 1]).sort());
      expect(await checkStampRecords(store.db, dir)).toEqual({ stamps: CONCURRENT, problems: [] });
    } finally {
      await store.close();
    }
    expect(JSON.parse(oneseal(['audit', 'verify', '--json']))).toMatchObject({ ok: true });
  }, 240_000);
});
