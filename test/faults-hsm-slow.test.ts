/**
 * A slow or hanging HSM under a running `oneseal serve` (child process, SQLite, SoftHSM token behind
 * a PKCS#11 module that holds C_Sign back on demand): clients get 503 problem+json naming the HSM
 * instead of hanging, /healthz keeps answering and says the HSM is stuck, nothing half-written is
 * recorded, and the service is whole again once the HSM answers, without a restart.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/api/problem.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/db.js';
import { runOneseal, serveChild, type ChildServer } from './support/child-server.js';
import { checkStampRecords, LETTER, postStamp, scrape } from './support/ops.js';
import { buildSlowHsm, type SlowHsm } from './support/slow-hsm.js';

interface Problem { type: string; status: number; detail: string; component?: string }
interface Health { detail: string; checks: { hsm: { ok: boolean; detail: string }; db: { ok: boolean } } }

/** Far longer than the 1 s HSM time-out: a signature held this long is still inside the HSM when the test looks. */
// Long enough that answers on a loaded CI machine (12 s seen) still come well before the hang ends.
const HANG_MS = 20_000;

describe('a slow HSM under a running server', () => {
  let dir: string;
  let baseEnv: NodeJS.ProcessEnv;
  let slow: SlowHsm;
  let key: string;
  let server: ChildServer | undefined;

  const serve = async (settings: NodeJS.ProcessEnv) => {
    await server?.stop();
    server = await serveChild({ ...baseEnv, ...slow.env(dir), ...settings });
    return server.url;
  };
  const records = async () => {
    const store = await openStore(loadConfig(baseEnv));
    try {
      return await checkStampRecords(store.db, dir);
    } finally {
      await store.close();
    }
  };
  const health = async (url: string) => {
    const res = await fetch(`${url}/healthz`);
    return { status: res.status, body: (await res.json()) as Health };
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'oneseal-slow-hsm-'));
    slow = buildSlowHsm(dir);
    // Outputs as files: a cancelled worker may leave one behind, which is what this suite checks is cleaned up.
    baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ONESEAL_DATA_DIR: dir, ONESEAL_PORT: '0', ONESEAL_LOG_LEVEL: 'warn', ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB: '0' };
    runOneseal(baseEnv, ['init']);
    ({ key } = JSON.parse(runOneseal(baseEnv, ['client', 'add', '--name', 'slow-hsm', '--seals', 'approval', '--break-glass', '--json'])) as { key: string });
  }, 180_000);
  afterAll(async () => {
    slow?.setDelay(0);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 naming the HSM once its time-out passes, keeps /healthz answering, writes nothing, and recovers by itself', async () => {
    const url = await serve({ ONESEAL_HSM_TIMEOUT_SECONDS: '1', ONESEAL_REQUEST_TIMEOUT_SECONDS: '60' });
    expect((await postStamp(url, key, LETTER())).status).toBe(200); // through the slow module at full speed
    const before = await records();

    slow.setDelay(HANG_MS);
    const held = Date.now();
    // more requests than the HSM's 4 sessions and 4 signing lanes: some time out inside the HSM, the
    // rest waiting for a session
    const answers = await Promise.all(Array.from({ length: 12 }, async () => {
      const res = await postStamp(url, key, LETTER());
      return { status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), problem: (await res.json()) as Problem };
    }));
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.contentType).toMatch(/^application\/problem\+json/);
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(a.problem.component).toBe('hsm');
      expect(a.problem.type).toMatch(new RegExp(`^${PROBLEM_BASE}hsm-(timeout|busy)$`));
      expect(a.problem.detail).toMatch(/HSM .*(did not answer within 1 s|stayed busy for 1 s)/);
    }
    expect(answers.some((a) => a.problem.type.endsWith('hsm-timeout'))).toBe(true);
    expect(answers.some((a) => a.problem.type.endsWith('hsm-busy'))).toBe(true);
    // Answered while the held signatures are still inside the HSM (2 s would do; the slack is for a busy
    // machine). Without threads beside the HSM's, the requests queued behind them for the whole hang.
    expect(Date.now() - held).toBeLessThan(HANG_MS - 5_000);

    // The held signatures are still inside the HSM, occupying threads: the database check must still run.
    const stuck = await health(url);
    expect(stuck.status).toBe(503);
    expect(stuck.body.checks.hsm.ok).toBe(false);
    expect(stuck.body.checks.hsm.detail).toMatch(/has not answered a signature for \d+ s \(limit 1 s\)/);
    expect(stuck.body.checks.db.ok).toBe(true);
    expect(await records()).toEqual({ stamps: before.stamps, problems: [] });
    // the PDF workers' lanes are among the held calls: their threads were ended, the lanes stay taken until the HSM returns
    expect((await scrape(url)).get('oneseal_hsm_lanes{state="taken"}')).toBe(4);

    slow.setDelay(0);
    // the held signatures end, their sessions return to the pool, and the service is whole again
    let healthy = await health(url);
    while (healthy.status !== 200) healthy = await health(url);
    expect(healthy.body.checks.hsm.ok).toBe(true);
    const lanesSigned = (await scrape(url)).get('oneseal_hsm_lanes{state="signed"}') ?? 0;
    const after = await postStamp(url, key, LETTER());
    expect(after.status).toBe(200);
    expect(Buffer.from(await after.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    // The lanes the ended threads held were taken back and given new sessions: stamps sign on them
    // again. A thread ended inside the module may not have given its lane back itself; such a lane
    // counts as failed, and the stamp that finds it looks the key up again through the event loop.
    expect((await postStamp(url, key, LETTER())).status).toBe(200);
    const lanes = await scrape(url);
    expect(lanes.get('oneseal_hsm_lanes{state="signed"}')).toBeGreaterThan(lanesSigned);
    expect(lanes.get('oneseal_hsm_lanes{state="taken"}')).toBe(0);
    expect(await records()).toEqual({ stamps: before.stamps + 2, problems: [] });
  }, 120_000);

  it('cancels a request the slow HSM keeps past the request time-out: 503 says so, nothing is recorded afterwards, and the retry with its Idempotency-Key stamps once', async () => {
    // 3 s: a one-page stamp on a busy 2-core machine (the full suite beside it) can take over 1 s, and a retry must fit.
    const url = await serve({ ONESEAL_HSM_TIMEOUT_SECONDS: '60', ONESEAL_REQUEST_TIMEOUT_SECONDS: '3' });
    const before = await records();
    slow.setDelay(6_000);
    const first = await postStamp(url, key, LETTER(), { idempotencyKey: 'slow-hsm-1' });
    expect(first.status).toBe(503);
    const problem = (await first.json()) as Problem & { outcome?: string };
    expect(problem.type).toBe(`${PROBLEM_BASE}request-timeout`);
    expect(problem.outcome).toBe('cancelled');
    expect(problem.detail).toMatch(/cancelled: nothing was stamped or recorded.*Idempotency-Key/);

    // The held signature ends inside the HSM; the cancelled work then gives its reservation up instead of recording.
    const store = await openStore(loadConfig(baseEnv));
    try {
      while (await store.db('idempotency_keys').where({ idempotency_key: 'slow-hsm-1' }).first()) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await store.close();
    }
    expect(await records()).toEqual({ stamps: before.stamps, problems: [] });
    // Nor is an output of it left anywhere, under its own name or a temporary one.
    const outputs = readdirSync(path.join(dir, 'stamps'));
    expect(outputs.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(outputs.filter((f) => f.endsWith('.pdf'))).toHaveLength(before.stamps);
    slow.setDelay(0);

    // On a loaded machine a retry can itself overrun the time-out: that is again a clear "cancelled", so retry.
    let retry = await postStamp(url, key, LETTER(), { idempotencyKey: 'slow-hsm-1' });
    for (let attempt = 1; retry.status === 503 && attempt < 20; attempt++) {
      expect(((await retry.json()) as { outcome?: string }).outcome).toBe('cancelled');
      retry = await postStamp(url, key, LETTER(), { idempotencyKey: 'slow-hsm-1' });
    }
    expect(retry.status).toBe(200);
    const stamped = Buffer.from(await retry.arrayBuffer());
    const again = await postStamp(url, key, LETTER(), { idempotencyKey: 'slow-hsm-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Buffer.from(await again.arrayBuffer()).equals(stamped)).toBe(true);
    expect(await records()).toEqual({ stamps: before.stamps + 1, problems: [] });
  }, 120_000);
});
