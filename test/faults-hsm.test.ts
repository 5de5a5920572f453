/**
 * The HSM failing under a running service (real server, real SoftHSM token, real SQLite): the token
 * vanishing, sessions killed underneath running requests, and a wrong PIN or missing module at start.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/api/problem.js';
import { addClient, countRows } from './support/api-client.js';
import { checkStampRecords, LETTER, postStamp, storedOutputCount, waitFor } from './support/ops.js';
import { repoRoot } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';

interface Problem { type: string; status: number; detail: string; component?: string }

describe('HSM faults on a running server', () => {
  let stack: Stack;
  let url: string;
  let key: string;
  let tokenDir: string;
  let awayDir: string;
  beforeAll(async () => {
    stack = await openStack();
    url = stack.server.url;
    ({ key } = await addClient(stack, 'faults-hsm', ['approval']));
    const tokens = path.join(stack.dir, 'hsm', 'tokens');
    tokenDir = path.join(tokens, readdirSync(tokens)[0]!);
    // outside tokens/: SoftHSM would find the token again in any directory under it
    awayDir = path.join(stack.dir, 'token-away');
    // warm: the seal's key handles and signing material are cached before the fault
    expect((await postStamp(url, key, LETTER())).status).toBe(200);
  }, 120_000);
  afterAll(() => stack?.close());

  it('answers 503 naming the HSM while the token is gone, writes nothing, and recovers by itself when it is back', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const auditBefore = await countRows(stack, 'audit_log');
    const outputsBefore = await storedOutputCount(stack.services.store.db, stack.dir);

    // The token's store disappears and the device drops every session (as on a pulled or failed HSM).
    renameSync(tokenDir, awayDir);
    await stack.services.hsm.closeAllSessionsUnderneath();
    try {
      const res = await postStamp(url, key, LETTER());
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const problem = (await res.json()) as Problem;
      expect(problem.type).toMatch(new RegExp(`^${PROBLEM_BASE}hsm-`));
      expect(problem.component).toBe('hsm');
      expect(problem.detail).toMatch(/HSM/);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      const h = (await health.json()) as { detail: string; checks: { hsm: { ok: boolean }; db: { ok: boolean } } };
      expect(h.checks.hsm.ok).toBe(false);
      expect(h.checks.db.ok).toBe(true);
      expect(h.detail).toMatch(/^Not ready\. HSM: /);

      expect(await countRows(stack, 'stamps')).toBe(stampsBefore);
      expect(await countRows(stack, 'audit_log')).toBe(auditBefore);
      expect(await storedOutputCount(stack.services.store.db, stack.dir)).toBe(outputsBefore);
      expect(await checkStampRecords(stack.services.store.db, stack.dir)).toEqual({ stamps: stampsBefore, problems: [] });
    } finally {
      renameSync(awayDir, tokenDir);
    }

    // No restart: the next request reconnects to the token.
    const again = await postStamp(url, key, LETTER());
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await checkStampRecords(stack.services.store.db, stack.dir)).toEqual({ stamps: stampsBefore + 1, problems: [] });
  }, 120_000);

  it('loses no request when every session is killed underneath requests in flight', async () => {
    const { hsm } = stack.services;
    let answered = 0;
    const requests = Array.from({ length: 6 }, () => postStamp(url, key, LETTER()).finally(() => answered++));
    // kill the sessions as soon as the HSM is busy with them, then once more while the rest run
    const busy = () => hsm.stats.pool.inUse > 0 || hsm.stats.lanes.taken > 0; // the PDF workers sign on lanes
    await waitFor(() => busy() || answered === requests.length);
    await hsm.closeAllSessionsUnderneath();
    await waitFor(() => busy() || answered === requests.length);
    await hsm.closeAllSessionsUnderneath();
    const answers = await Promise.all(requests.map(async (r) => {
      const res = await r;
      return res.status === 200 ? 200 : `${res.status} ${await res.text()}`;
    }));
    expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
    const check = await checkStampRecords(stack.services.store.db, stack.dir);
    expect(check.problems).toEqual([]);
  }, 120_000);
});

describe('HSM misconfigured at start', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await openStack();
  }, 120_000);
  afterAll(() => stack?.close());

  // A separate process, as an operator starts it: the CLI must exit with a message naming the setting.
  const serve = (env: Record<string, string>) =>
    spawnSync(process.execPath, [path.join(repoRoot, 'bin/oneseal'), 'serve'], {
      env: { PATH: process.env.PATH, ...stack.env, ONESEAL_PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('refuses a wrong PIN, naming ONESEAL_PIN, without echoing the PIN', () => {
    const r = serve({ ONESEAL_PIN: 'wrong-pin-9876' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rejected the PIN.*ONESEAL_PIN/);
    expect(r.stderr + r.stdout).not.toContain('wrong-pin-9876');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a missing PKCS#11 module, naming the file and ONESEAL_PKCS11_MODULE', () => {
    const r = serve({ ONESEAL_PKCS11_MODULE: '/usr/lib/no-such-pkcs11.so' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/usr\/lib\/no-such-pkcs11\.so/);
    expect(r.stderr).toMatch(/ONESEAL_PKCS11_MODULE/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
