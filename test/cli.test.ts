import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/chain.js';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/command.js';
import { COMMANDS } from '../src/cli/registry.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/main.js';
import { openStore } from '../src/store/db.js';
import { repoRoot } from './support/pdfs.js';

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

  it('wraps --help for an 80-column terminal: no padded lines, every command and its whole usage shown', async () => {
    const r = await run(['--help']);
    const lines = r.out.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines.filter((l) => / $/.test(l))).toEqual([]);
    const words = r.out.split(/\s+/).join(' ');
    for (const c of COMMANDS) expect(words).toContain(`${c.name} ${c.usage ?? ''}`.trim().split(/\s+/).join(' '));
    const one = await run(['seal', 'create', '--help']);
    expect(one.code).toBe(0);
    expect(Math.max(...one.out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(one.out.split(/\s+/).join(' ')).toContain('[--image SEAL.png] [--diameter-mm N] [--break-glass] [--json]');
    for (const c of COMMANDS) {
      const help = await run([...c.name.split(' '), '--help']);
      expect(help.out.match(/\[--json\]/g), c.name).toHaveLength(1);
    }
  });

  it('registers every command once, and each loads an implementation only when asked', async () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    for (const c of COMMANDS) expect(typeof (await c.load()).run, c.name).toBe('function');
  });

  it('--help loads no command module and no dependency; verify loads the verifier', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-cli-loads-'));
    dirs.push(dir);
    // A module hook that names every module the launcher loads, from the built CLI as users run it.
    // The hook runs on the loader thread, whose asynchronous stderr can be lost when the CLI exits at once, so it writes synchronously.
    writeFileSync(path.join(dir, 'hook.mjs'), "import { writeSync } from 'node:fs';\nexport async function load(url, c, next) { writeSync(2, `LOADED ${url}\\n`); return next(url, c); }\n");
    writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(path.join(dir, 'hook.mjs')).href)});\n`);
    const loaded = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, path.join(repoRoot, 'bin', 'oneseal'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, ...tempEnv() },
      });
      return { status: r.status, modules: [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!.replace(pathToFileURL(repoRoot).href, '')) };
    };
    const help = loaded('--help');
    expect(help.status).toBe(0);
    expect(help.modules.filter((m) => m.startsWith('/dist/')).sort()).toEqual(
      ['cli/command', 'cli/help', 'cli/main', 'cli/prompt', 'cli/registry', 'errors', 'printable'].map((m) => `/dist/src/${m}.js`),
    );
    expect(help.modules.filter((m) => m.includes('node_modules'))).toEqual([]);
    const missing = loaded('verify', 'MISSING.pdf');
    expect(missing.status).toBe(2);
    expect(missing.modules).toContain('/dist/src/cli/verify.js');
    expect(missing.modules).not.toContain('/dist/src/cli/stamp.js');
  });

  it('names a missing or unreadable file in words, exit 2, never the raw errno text', async () => {
    const missing = await run(['verify', 'MISSING.pdf']);
    expect(missing).toMatchObject({ code: 2, err: 'oneseal verify: MISSING.pdf: no such file or directory' });
    const dir = await run(['verify', tmpdir()]);
    expect(dir).toMatchObject({ code: 2, err: 'oneseal verify: the path given is a directory, where a file is needed' });
    const json = await run(['verify', 'MISSING.pdf', '--json']);
    expect(JSON.parse(json.err)).toEqual({ error: { code: 'file-unreadable', message: 'MISSING.pdf: no such file or directory' } });
    for (const r of [missing, dir, json]) expect(r.err).not.toMatch(/ENOENT|EISDIR|\n\s+at /);
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
