/**
 * A full server with a known PIN, a real API key and a person's session, driven through a realistic
 * session (stamps, replays, bad requests, refused credentials, a login, an admin call), with every log
 * line captured at debug level: the PIN, the API key, the password, the TOTP secret, the session token
 * and private key PEM never appear. Plus the HTTP hardening on every
 * route the API documents: security headers, CORS closed, unknown and oversized bodies refused,
 * admin routes closed to other clients.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/api/problem.js';
import { main as cli } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { initialise } from '../src/init.js';
import { createLogger, startServer, type RunningServer } from '../src/main.js';
import { LETTER, postStamp } from './support/ops.js';
import { repoRoot } from './support/pdfs.js';

const PIN = 'Sec-PIN-7c41e9d2';
const UUID = '00000000-0000-4000-8000-000000000000';

describe('secrets stay out of the logs; the HTTP surface is closed', () => {
  let dir: string;
  let server: RunningServer;
  let url: string;
  const logs: string[] = [];
  /** The client's API key and the seal-admin's session token. */
  const keys: Record<'client' | 'admin', string> = { client: '', admin: '' };
  let person: { password: string; totpSecret: string };
  let env: Record<string, string>;

  /** `oneseal … --break-glass --json` as the PIN holder setting the server up. */
  async function breakGlass(argv: string[]): Promise<Record<string, string>> {
    const out: string[] = [];
    const code = await cli([...argv, '--break-glass', '--json'], { out: (t) => out.push(t), err: (t) => logs.push(t), env });
    if (code !== 0) throw new Error(`${argv.join(' ')} failed: ${logs.at(-1)}`);
    return JSON.parse(out.join('')) as Record<string, string>;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'oneseal-security-'));
    env = { ONESEAL_DATA_DIR: dir, ONESEAL_PORT: '0', ONESEAL_PIN: PIN, ONESEAL_LOG_LEVEL: 'debug', ONESEAL_MAX_UPLOAD_MB: '1' };
    const config = loadConfig(env);
    delete process.env.SOFTHSM2_CONF; // the data dir's own token store
    await initialise(config, (change) => logs.push(change));
    server = await startServer(config, { logger: createLogger(config, { write: (line: string) => void logs.push(line) }) });
    url = server.url;
    keys.client = (await breakGlass(['client', 'add', '--name', 'security-client', '--seals', 'approval'])).key!;
    person = (await breakGlass(['user', 'add', '--name', 'sec-admin', '--roles', 'seal-admin'])) as unknown as typeof person;
    const login = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'sec-admin', password: person.password }) });
    keys.admin = ((await login.json()) as { token: string }).token;
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = (key: string, extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${key}`, ...extra });

  it('runs a realistic session with the answers a client expects', async () => {
    expect((await postStamp(url, keys.client, LETTER())).status).toBe(200);
    const first = await postStamp(url, keys.client, LETTER(), { idempotencyKey: 'sec-1' });
    const replay = await postStamp(url, keys.client, LETTER(), { idempotencyKey: 'sec-1' });
    expect([first.status, replay.status, replay.headers.get('idempotent-replayed')]).toEqual([200, 200, 'true']);
    expect((await postStamp(url, keys.client, LETTER(), { query: 'seal=approval&page=9&x=1&y=1' })).status).toBe(422);
    expect((await postStamp(url, keys.client, Buffer.from('%PDF-1.7\nnot really'))).status).toBe(422);
    // the PIN and a key with one character changed, sent as credentials
    expect((await postStamp(url, PIN, LETTER())).status).toBe(401);
    const wrongKey = keys.client.slice(0, -1) + (keys.client.endsWith('A') ? 'B' : 'A');
    expect((await postStamp(url, wrongKey, LETTER())).status).toBe(401);
    const adminList = await fetch(`${url}/v1/admin/seals`, { headers: auth(keys.admin) });
    expect(adminList.status).toBe(200);
    const rotated = await fetch(`${url}/v1/admin/seals/approval/rotate`, { method: 'POST', headers: auth(keys.admin) });
    expect(rotated.status).toBeLessThan(500);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  }, 120_000);

  it('refuses admin routes to a system client (403, naming the client and the missing scope)', async () => {
    for (const [method, route] of [['GET', '/v1/admin/seals'], ['POST', '/v1/admin/seals'], ['GET', `/v1/admin/proposals/${UUID}`]] as const) {
      const res = await fetch(`${url}${route}`, { method, headers: auth(keys.client, { 'Content-Type': 'application/json' }), ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(res.status, `${method} ${route}`).toBe(403);
      const problem = (await res.json()) as { type: string; detail: string };
      expect(problem.type).toBe(`${PROBLEM_BASE}scope-required`);
      expect(problem.detail).toContain('client:security-client may not');
    }
  });

  it('refuses unknown fields, unknown media types and oversized bodies', async () => {
    const unknownOption = await postStamp(url, keys.client, LETTER(), { query: 'seal=approval&page=1&x=150&y=60&colour=red' });
    expect(unknownOption.status).toBe(400);
    expect(((await unknownOption.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['colour']);

    const unknownField = await fetch(`${url}/v1/admin/seals`, {
      method: 'POST',
      headers: auth(keys.admin, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ id: 'sec-seal', organisation: 'X', name: 'Y', creditCode: '91350100M000100Y43', isAdmin: true }),
    });
    expect([400, 422]).toContain(unknownField.status);
    expect(((await unknownField.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain('isAdmin');
    expect((await fetch(`${url}/v1/admin/seals/sec-seal`, { headers: auth(keys.admin) })).status).toBe(404);

    const text = await fetch(`${url}/v1/stamps?seal=approval&invisible=true`, { method: 'POST', headers: auth(keys.client, { 'Content-Type': 'text/plain' }), body: 'hello' });
    expect(text.status).toBe(415);

    const big = Buffer.concat([LETTER(), Buffer.alloc(1024 * 1024 + 1)]);
    const declared = await postStamp(url, keys.client, big);
    expect(declared.status).toBe(413);
    // chunked, without a Content-Length: cut off while streaming
    const chunked = await fetch(`${url}/v1/stamps?seal=approval&invisible=true`, {
      method: 'POST',
      headers: auth(keys.client, { 'Content-Type': 'application/pdf' }),
      body: new ReadableStream({ start(c) { for (let i = 0; i < 24; i++) c.enqueue(new Uint8Array(64 * 1024)); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  /** Every documented operation, with path parameters filled in, called without credentials. */
  async function documentedOperations(): Promise<{ method: string; path: string }[]> {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const ops = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
        .map((m) => ({ method: m.toUpperCase(), path: p.replace(/\{version\}/g, '1').replace(/\{[^}]+\}/g, UUID) })));
    return [...ops, { method: 'GET', path: '/healthz' }, { method: 'GET', path: '/openapi.json' }, { method: 'GET', path: '/no/such/route' }];
  }

  it('sends the security headers on every route, and never a CORS allowance', async () => {
    const ops = await documentedOperations();
    expect(ops.length).toBeGreaterThan(20);
    for (const { method, path: p } of ops) {
      const res = await fetch(`${url}${p}`, { method, headers: { Origin: 'https://evil.example' }, ...(method === 'GET' ? {} : { body: '' }) });
      const where = `${method} ${p} → ${res.status}`;
      expect(res.headers.get('x-content-type-options'), where).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), where).toBe('DENY');
      expect(res.headers.get('referrer-policy'), where).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), where).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers.get('access-control-allow-origin'), where).toBeNull();
      expect(res.status, where).not.toBe(500);
      const body = await res.text();
      expect(body, where).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    }
  }, 60_000);

  it('refuses every CORS preflight', async () => {
    for (const { method, path: p } of await documentedOperations()) {
      const res = await fetch(`${url}${p}`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(res.status, `${method} ${p}`).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-methods')).toBeNull();
    }
  });

  // Last: it reads everything the tests above made the server log.
  it('never logged the PIN, an API key, a password, a TOTP secret, a session token or a private key', () => {
    const all = logs.join('\n');
    const requestLines = logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; requestId?: string });
    // the capture works: every request above was logged, with its request id
    expect(requestLines.filter((l) => l.msg === 'request' && l.requestId).length).toBeGreaterThan(60);
    expect(all).not.toContain(PIN);
    expect(keys.client).toMatch(/^os_[0-9a-f]{16}\./);
    expect(all).not.toContain(keys.client);
    expect(all).not.toContain(keys.client.split('.')[1]); // the secret part alone
    expect(keys.admin).toMatch(/^oss_/);
    for (const secret of [keys.admin, keys.admin.slice(4), person.password, person.totpSecret]) expect(all).not.toContain(secret);
    expect(all).not.toContain('PRIVATE KEY');
    const devRootKey = readFileSync(path.join(repoRoot, 'keys-dev/root-ca.key.pem'), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of devRootKey.slice(0, 3)) expect(all).not.toContain(line);
  });
});
