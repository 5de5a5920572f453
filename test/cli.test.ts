import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/chain.js';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/command.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/main.js';
import { openStore } from '../src/store/db.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-cli-'));
  dirs.push(dir);
  return { ONESEAL_DATA_DIR: dir, ONESEAL_LOG_LEVEL: 'silent', ...extra };
}

async function run(argv: string[], env: NodeJS.ProcessEnv = tempEnv()) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('oneseal CLI', () => {
  it('lists its commands with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'init', 'pki roots', 'audit verify']) expect(r.out).toContain(`  ${c}`);
  });

  it('exits 2 with a message on stderr for usage mistakes and bad configuration', async () => {
    expect(await run([])).toMatchObject({ code: 2 });
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "frobnicate"') });
    expect(await run(['audit', 'verify', '--bogus'])).toMatchObject({ code: 2, err: expect.stringContaining("'--bogus'") });
    expect(await run(['audit'])).toMatchObject({ code: 2, out: expect.stringContaining('audit verify') });
    const bad = await run(['audit', 'verify'], tempEnv({ ONESEAL_PORT: 'eighty' }));
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('ONESEAL_PORT') });
    expect(bad.err).not.toMatch(/\n\s+at /);
    const json = await run(['audit', 'verify', '--json'], tempEnv({ ONESEAL_PORT: 'eighty' }));
    expect(JSON.parse(json.err)).toMatchObject({ error: { code: 'invalid-config' } });
  });

  it('verifies the audit chain, exiting 1 and naming the entry once it is tampered with', async () => {
    const env = tempEnv();
    expect(JSON.parse((await run(['audit', 'verify', '--json'], env)).out)).toMatchObject({ ok: true, count: 0 });
    const store = await openStore(loadConfig(env));
    try {
      for (let i = 0; i < 5; i++) await store.db.transaction((trx) => appendAudit(trx, { actor: 'test', action: 'x.y', details: { i } }));
      const good = await run(['audit', 'verify'], env);
      expect(good).toMatchObject({ code: 0, out: expect.stringContaining('audit log intact: 5 entries') });
      await store.db('audit_log').where({ seq: 3 }).update({ actor: 'mallory' });
    } finally {
      await store.close();
    }
    const broken = await run(['audit', 'verify', '--json'], env);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ ok: false, seq: 3, problem: 'altered' });
  });

  it('prints the development root before init, a certificate openssl reads', async () => {
    const r = await run(['pki', 'roots']);
    expect(r.code).toBe(0);
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject'], { input: r.out, encoding: 'utf8' });
    expect(subject).toMatch(/^subject=/);
  });
});

describe('oneseal init and serve', () => {
  it('initialises a data dir, then serves a healthy API from it', async () => {
    delete process.env.SOFTHSM2_CONF; // the data dir's own token store, as `npm run setup` uses
    const env = tempEnv({ ONESEAL_PORT: '0' });
    const first = await run(['init'], env);
    expect(first).toMatchObject({ code: 0, out: expect.stringContaining('created SoftHSM token') });
    const roots = await run(['pki', 'roots', '--json'], env);
    expect(JSON.parse(roots.out)).toMatchObject({ source: 'database', pem: expect.stringContaining('BEGIN CERTIFICATE') });

    const running = await startServer(loadConfig(env));
    try {
      const res = await fetch(`${running.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', checks: { hsm: { ok: true }, db: { ok: true } } });
    } finally {
      await running.close();
    }
  });
});
