import { once } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { readBody } from '../src/api/body.js';
import { requestId } from '../src/api/middleware.js';
import { problemMiddleware, PROBLEM_BASE } from '../src/api/problem.js';
import { OneSealError, type ErrorKind } from '../src/errors.js';
import { openStore, type Store } from '../src/store/db.js';
import { sqliteTestDatabase, type TestDatabase } from './support/databases.js';
import { openTestHsm, type TestToken } from './support/token.js';

async function listen(app: Koa): Promise<{ base: string; server: Server }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

let token: TestToken;
let tdb: TestDatabase;
let store: Store;
let base: string;
let server: Server;
/** What the app logs at info and above (request lines, warnings, errors). */
const appLog: Record<string, unknown>[] = [];

beforeAll(async () => {
  token = await openTestHsm({ poolSize: 2 });
  tdb = sqliteTestDatabase();
  store = await openStore({ database: tdb.database });
  const logger = pino({ level: 'info' }, { write: (line: string) => appLog.push(JSON.parse(line)) });
  ({ base, server } = await listen(createApp({ db: store.db, hsm: token.hsm, logger, healthProbeIntervalMs: 0 })));
});
afterAll(async () => {
  await closeServer(server);
  await store?.close();
  await token?.close();
  await tdb?.cleanup();
});

describe('the app skeleton on a real server', () => {
  it('answers an unknown route with a 404 problem carrying the request id', async () => {
    const res = await fetch(`${base}/no/such/thing?x=1`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      type: `${PROBLEM_BASE}route-not-found`,
      title: 'Not found',
      status: 404,
      detail: 'There is no GET /no/such/thing.',
      instance: '/no/such/thing',
      requestId: id,
    });
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const given = await fetch(`${base}/nope`, { headers: { 'X-Request-Id': 'abc-123.x' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123.x');
    expect(((await given.json()) as { requestId: string }).requestId).toBe('abc-123.x');
    const bad = await fetch(`${base}/nope`, { headers: { 'X-Request-Id': 'a b<script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports healthy after real round trips to the HSM and the SQLite file', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      status: 'ok',
      checks: { hsm: { ok: true, detail: `token "${token.label}"` }, db: { ok: true } },
    });
  });

  it('sends security headers and never opens CORS', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/healthz`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await preflight.json()) as { type: string }).type).toBe(`${PROBLEM_BASE}cors-forbidden`);
  });

  it('answers a known path with the wrong method with 405', async () => {
    const res = await fetch(`${base}/healthz`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('allow')).toMatch(/\bGET\b/);
  });

  it('answers TRACE, PROPFIND and other unknown methods with 405 (known path) or 501, problem+json, no stack logged', async () => {
    // fetch refuses TRACE, so this speaks HTTP through node:http.
    const send = (method: string, path: string) =>
      new Promise<{ status: number; type: string; allow: string | undefined; body: Record<string, unknown> }>((resolve, reject) => {
        const req = request(`${base}${path}`, { method }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () =>
            resolve({ status: res.statusCode!, type: String(res.headers['content-type']), allow: res.headers.allow, body: JSON.parse(text) as Record<string, unknown> }));
        });
        req.on('error', reject).end();
      });
    const from = appLog.length;
    for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'PURGE']) {
      const known = await send(method, '/healthz');
      expect(known, method).toMatchObject({ status: 405, type: 'application/problem+json', body: { type: `${PROBLEM_BASE}method-not-allowed`, status: 405 } });
      expect(known.allow, method).toMatch(/\bGET\b/);
      expect(known.body.allow).toEqual(known.allow!.split(', '));
      const unknown = await send(method, '/no/such/thing');
      expect(unknown, method).toMatchObject({ status: 501, type: 'application/problem+json', body: { type: `${PROBLEM_BASE}method-not-implemented`, status: 501 } });
    }
    const logged = appLog.slice(from);
    expect(logged.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(JSON.stringify(logged)).not.toMatch(/\bat .*\.(js|ts):\d+/);
    expect(logged.filter((l) => l.msg === 'request').map((l) => l.status)).toEqual([405, 501, 405, 501, 405, 501, 405, 501]);
  });

  it('reports the database as the failing part when it is gone', async () => {
    const other = sqliteTestDatabase();
    const closedStore = await openStore({ database: other.database });
    await closedStore.close();
    const { base: b, server: s } = await listen(createApp({ db: closedStore.db, hsm: token.hsm, healthProbeIntervalMs: 0 }));
    try {
      const res = await fetch(`${b}/healthz`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = (await res.json()) as { type: string; detail: string; checks: { hsm: { ok: boolean }; db: { ok: boolean } } };
      expect(body.type).toBe(`${PROBLEM_BASE}unhealthy`);
      expect(body.detail).toMatch(/^Not ready\. database: /);
      expect(body.checks.hsm.ok).toBe(true);
      expect(body.checks.db.ok).toBe(false);
    } finally {
      await closeServer(s);
      await other.cleanup();
    }
  });

  // Last: it closes the suite's HSM.
  it('reports the HSM as the failing part when its connection is gone', async () => {
    await token.hsm.close();
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { detail: string; checks: { hsm: { ok: boolean }; db: { ok: boolean } } };
    expect(body.detail).toMatch(/^Not ready\. HSM: .*closed/);
    expect(body.checks).toMatchObject({ hsm: { ok: false }, db: { ok: true } });
  });
});

describe('problem+json mapping and body limits', () => {
  let b: string;
  let s: Server;
  const logged: unknown[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const app = new Koa();
    app.silent = true;
    app.use(requestId());
    app.use(problemMiddleware(logger));
    app.use(async (ctx) => {
      const [, what, arg] = ctx.path.split('/');
      if (what === 'kind') {
        throw new OneSealError(`test-${arg}`, arg as ErrorKind, `a ${arg} problem`, {
          retryAfter: arg === 'rate-limited' ? 30 : undefined,
          fields: arg === 'unprocessable' ? [{ field: 'page', message: 'must be 1 or more' }] : undefined,
        });
      }
      if (what === 'bug') throw new TypeError('cannot read properties of undefined (secret internals)');
      if (what === 'upload') {
        const body = await readBody(ctx, { limit: 1024, types: ['application/pdf'] });
        ctx.body = { size: body.length };
      }
    });
    ({ base: b, server: s } = await listen(app));
  });
  afterAll(() => closeServer(s));

  it('maps every error kind to its status in one place', async () => {
    const expected: Record<ErrorKind, number> = {
      'bad-request': 400, unauthorized: 401, forbidden: 403, 'not-found': 404, conflict: 409, 'too-large': 413,
      'unsupported-media': 415, unprocessable: 422, 'rate-limited': 429, unavailable: 503, timeout: 503, internal: 500,
      'method-not-allowed': 405, 'not-implemented': 501,
    };
    for (const [kind, status] of Object.entries(expected)) {
      const res = await fetch(`${b}/kind/${kind}`);
      expect(res.status, kind).toBe(status);
      expect(res.headers.get('content-type'), kind).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      if (kind !== 'internal') expect(body).toMatchObject({ type: `${PROBLEM_BASE}test-${kind}`, status, detail: `a ${kind} problem` });
    }
    const limited = await fetch(`${b}/kind/rate-limited`);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await (await fetch(`${b}/kind/unprocessable`)).json()).toMatchObject({ errors: [{ field: 'page', message: 'must be 1 or more' }] });
  });

  it('hides a bug behind a generic 500 naming the request id, and logs it', async () => {
    const res = await fetch(`${b}/bug`, { headers: { 'X-Request-Id': 'req-42' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internals');
    expect(text).not.toContain('at ');
    expect(JSON.parse(text)).toMatchObject({ type: `${PROBLEM_BASE}internal`, requestId: 'req-42', detail: expect.stringContaining('req-42') });
    expect(logged).toContainEqual(expect.objectContaining({ requestId: 'req-42', err: expect.objectContaining({ message: expect.stringContaining('secret internals') }) }));
  });

  it('takes a body within the limit and refuses one over it, declared or streamed', async () => {
    const ok = await fetch(`${b}/upload`, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: Buffer.alloc(1024) });
    expect(await ok.json()).toEqual({ size: 1024 });

    const declared = await fetch(`${b}/upload`, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: Buffer.alloc(1025) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ type: `${PROBLEM_BASE}body-too-large`, limitBytes: 1024 });

    // No Content-Length: the limit must hold while streaming.
    const chunks = (async function* () {
      for (let i = 0; i < 64; i++) yield new Uint8Array(512);
    })();
    const streamed = await fetch(`${b}/upload`, {
      method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: chunks as unknown as RequestInit['body'], duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);

    const wrongType = await fetch(`${b}/upload`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
    expect(wrongType.status).toBe(415);
  });
});
