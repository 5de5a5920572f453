/**
 * Authentication, seal grants and limits of the stamp API over real HTTP: 401, 403, 413, 429 as
 * problem+json, keys stored only as HMACs under the server secret, the seals listing with its certificates.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFDocument } from '@cantoo/pdf-lib';
import { RateLimiter } from '../src/api/rate-limit.js';
import { toProblem } from '../src/api/problem.js';
import { withTimeout } from '../src/api/stamp-input.js';
import { OneSealError } from '../src/errors.js';
import { createSeal } from '../src/seals/service.js';
import { addClient, bearer, call, stampForm } from './support/api-client.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let pdf: Uint8Array;
const url = (p: string) => `${stack.server.url}${p}`;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '2', ONESEAL_RATE_LIMIT_BURST: '10', ONESEAL_MAX_UPLOAD_MB: '1' });
  await createSeal(stack.services, { id: 'contracts', organisation: '某某区行政审批局', creditCode: '11110105MB0123456F', name: '合同专用章', isTest: true }, 'break-glass:test');
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]);
  pdf = await doc.save();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

function expectProblem(r: Awaited<ReturnType<typeof call>>, status: number, detail: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.json()).toMatchObject({ status });
  expect(r.json<{ detail: string }>().detail).toMatch(detail);
}

describe('API keys', () => {
  it('answers 401 with a Bearer challenge when there is no key, a malformed one or a wrong one', async () => {
    const { key } = await addClient(stack, 'keys', ['approval']);
    const none = await call(url('/v1/seals'));
    expectProblem(none, 401, /Authorization: Bearer <token>/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await call(url('/v1/seals'), { headers: { Authorization: `Basic ${key}` } }), 401, /must be "Bearer <token>"/);
    expectProblem(await call(url('/v1/seals'), { headers: bearer('os_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') }), 401, /not valid/);
    // The right key id with another secret: found by prefix, refused by the hash.
    const forged = `${key.slice(0, key.indexOf('.') + 1)}${'B'.repeat(43)}`;
    expectProblem(await call(url('/v1/seals'), { headers: bearer(forged) }), 401, /not valid/);
    expect((await call(url('/v1/seals'), { headers: bearer(key) })).status).toBe(200);
  });

  it('refuses every request that arrives after its key was revoked, even amid a burst of requests with that key', async () => {
    const { id, key } = await addClient(stack, 'revoked-mid-burst', ['approval']);
    // Lookups of one key that arrive together share a query (src/access/joined-lookups.ts); none may answer from before the revocation.
    const burst = Array.from({ length: 5 }, () => call(url('/v1/seals'), { headers: bearer(key) }));
    await stack.services.store.db('api_clients').where({ id }).update({ revoked_at: new Date().toISOString() });
    expectProblem(await call(url('/v1/seals'), { headers: bearer(key) }), 401, /was revoked/);
    for (const r of await Promise.all(burst)) expect([200, 401]).toContain(r.status);
  });

  it('stores only an HMAC of the key under the server secret', async () => {
    const { id, key } = await addClient(stack, 'hash-check', ['approval']);
    const row = await stack.services.store.db('api_clients').where({ id }).first();
    const secret = key.slice(key.indexOf('.') + 1);
    expect(row.key_hash).toMatch(/^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
    expect(row.key_hash).toBe(`hmac-sha256$${stack.services.secrets.mac('api-key', key)}`);
    // A plain (unkeyed) SHA-256 of the key is not what is stored: the database alone cannot check a guess.
    expect(row.key_hash).not.toContain(createHash('sha256').update(key).digest('base64url'));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(key.startsWith(`os_${row.key_prefix}.`)).toBe(true);
  });
});

describe('seal grants', () => {
  it('answers 403 naming the seal a client was not granted, for stamping and for reading it', async () => {
    const { key } = await addClient(stack, 'approvals only', ['approval']);
    const stamp = await call(url('/v1/stamps'), { method: 'POST', headers: bearer(key), body: stampForm([{ data: pdf, filename: 'a.pdf' }], { seal: 'contracts', page: '1', x: '100', y: '100' }) });
    expectProblem(stamp, 403, /may not use seal "contracts": it was not granted/);
    expectProblem(await call(url('/v1/seals/contracts'), { headers: bearer(key) }), 403, /"contracts"/);
    // An unknown seal is refused the same way, so grants do not reveal which seals exist.
    expectProblem(await call(url('/v1/seals/secret-seal'), { headers: bearer(key) }), 403, /"secret-seal"/);
  });

  it('lists the seals a client may use with the current certificate, all of them for a person and the verify scope', async () => {
    const { key } = await addClient(stack, 'lister', ['approval']);
    const r = await call(url('/v1/seals'), { headers: bearer(key) });
    const { seals } = r.json<{ seals: { id: string; currentVersion: { version: number; certSerial: string; certificate: string } }[] }>();
    expect(seals.map((s) => s.id)).toEqual(['approval']);
    const serial = execFileSync('openssl', ['x509', '-noout', '-serial'], { input: seals[0]!.currentVersion.certificate, encoding: 'utf8' });
    expect(serial.trim().replace(/^serial=/, '').toLowerCase().replace(/^0+/, '')).toBe(seals[0]!.currentVersion.certSerial.toLowerCase().replace(/^0+/, ''));
    const one = await call(url('/v1/seals/approval'), { headers: bearer(key) });
    expect(one.json()).toMatchObject({ id: 'approval', currentVersion: { version: seals[0]!.currentVersion.version } });

    const operator = await personWithSession(stack, 'olga', ['operator']);
    const all = (await call(url('/v1/seals'), { headers: bearer(operator.key) })).json<{ seals: { id: string }[] }>();
    expect(all.seals.map((s) => s.id).sort()).toEqual(['approval', 'contracts']);
    const relyingParty = await addClient(stack, 'relying party', [], { scopes: ['verify'] });
    const pinned = (await call(url('/v1/seals'), { headers: bearer(relyingParty.key) })).json<{ seals: { id: string }[] }>();
    expect(pinned.seals.map((s) => s.id).sort()).toEqual(['approval', 'contracts']);
    // It may read every seal's certificate, not stamp with any.
    expectProblem(await call(url('/v1/stamps'), { method: 'POST', headers: bearer(relyingParty.key), body: stampForm([{ data: pdf, filename: 'a.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100' }) }),
      403, /needs the scope stamps/);
  });
});

describe('limits', () => {
  it('answers 413 for an upload over the limit, declared or streamed', async () => {
    const { key } = await addClient(stack, 'big', ['approval']);
    const big = new Uint8Array(1024 * 1024 + 10);
    const declared = await call(url('/v1/stamps'), { method: 'POST', headers: bearer(key), body: stampForm([{ data: big, filename: 'big.pdf' }], { page: '1', x: '1', y: '1' }) });
    expectProblem(declared, 413, /over the 1 MB limit/);

    // Chunked, no Content-Length: refused while streaming.
    const TOTAL = 16 * 1024 * 1024;
    let sentBeforeAnswer = 0;
    const streamed = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request(url('/v1/stamps?page=1&x=1&y=1'), { method: 'POST', headers: { ...bearer(key), 'Content-Type': 'application/pdf', 'Transfer-Encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const pump = () => {
        // Offers 16 MB; the answer must come long before all of it was taken.
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      req.on('response', () => {
        sentBeforeAnswer = sent;
        sent = Infinity;
      });
      pump();
    });
    expect(streamed.status).toBe(413);
    expect(sentBeforeAnswer).toBeLessThan(TOTAL);
    expect(streamed.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(streamed.body).detail).toMatch(/over the 1 MB limit/);
  });

  it('answers 429 with Retry-After once a client exceeds its burst', async () => {
    const { key } = await addClient(stack, 'rate', ['approval']);
    const replies = await Promise.all(Array.from({ length: 30 }, () => call(url('/v1/seals'), { headers: bearer(key) })));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(20);
    const limited = replies.find((r) => r.status === 429)!;
    expectProblem(limited, 429, /more than 2 requests per second \(bursts up to 10\)/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another client has its own bucket.
    const other = await addClient(stack, 'rate-2', ['approval']);
    expect((await call(url('/v1/seals'), { headers: bearer(other.key) })).status).toBe(200);
  });

  it('refills a bucket at the configured rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 4, burst: 2, now: () => now });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 250;
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b')).toEqual({ allowed: true });
  });

  it('turns a request time-out into a 503 problem that says the work was cancelled and points at Idempotency-Key', async () => {
    const err = await withTimeout(5, () => new Promise(() => {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OneSealError);
    const problem = toProblem(err, 'req-1', '/v1/stamps');
    expect(problem.status).toBe(503);
    expect(problem.body.outcome).toBe('cancelled');
    expect(problem.body.detail).toMatch(/cancelled: nothing was stamped or recorded.*same Idempotency-Key/);
  });
});
