/**
 * Limits known before any work starts, against the whole service (HTTP, SoftHSM, SQLite): documents
 * over the page, 骑缝章-page or object limits are refused with 413/422 problem+json and nothing is
 * signed; a slow upload is cut off with 408 and nothing is recorded; POST /v/{id}/check and
 * POST /v1/verifications draw on one per-address bucket.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClient, bearer, call, countRows } from './support/api-client.js';
import { manyPagesPdf } from './support/big-pdfs.js';
import { scrape } from './support/ops.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await openStack({
    ONESEAL_MAX_PAGES: '50', ONESEAL_MAX_STRADDLE_PAGES: '10', ONESEAL_MAX_OBJECTS: '1000',
    ONESEAL_HEADERS_TIMEOUT_SECONDS: '2', ONESEAL_UPLOAD_TIMEOUT_SECONDS: '2',
    ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000',
    ONESEAL_VERIFY_RATE_PER_SECOND: '1', ONESEAL_VERIFY_RATE_BURST: '10',
  });
  ({ key } = await addClient(stack, 'limits', ['approval']));
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const url = (p: string) => `${stack.server.url}${p}`;
const stamp = (pdf: Buffer, query: string) =>
  call(url(`/v1/stamps?seal=approval&${query}`), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
const signatures = async () => (await scrape(stack.server.url)).get('oneseal_hsm_sign_seconds_count{outcome="ok"}') ?? 0;

describe('document limits', () => {
  it('refuses documents over the page, 骑缝章 or object limit with problem+json before signing anything', async () => {
    const before = await signatures();
    const cases = [
      { pdf: manyPagesPdf(60), query: 'page=1&x=100&y=100', status: 413, code: 'document-too-many-pages' },
      { pdf: manyPagesPdf(20), query: 'page=1&x=100&y=100&straddle=true', status: 422, code: 'straddle-too-many-pages' },
      { pdf: manyPagesPdf(5, { padding: 1500 }), query: 'page=1&x=100&y=100', status: 413, code: 'document-too-many-objects' },
      // A page tree that claims fewer pages than it has is counted, not believed.
      { pdf: Buffer.from(manyPagesPdf(60).toString('latin1').replace('/Count 60', '/Count 2'), 'latin1'), query: 'page=1&x=100&y=100', status: 413, code: 'document-too-many-pages' },
    ];
    for (const c of cases) {
      const r = await stamp(c.pdf, c.query);
      expect(r.status, c.code).toBe(c.status);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json<{ type: string }>().type).toBe(`https://oneseal.dev/problems/${c.code}`);
    }
    expect(await signatures()).toBe(before);
    expect(await countRows(stack, 'stamps')).toBe(0);

    // Within the limits the same shapes are stamped: the limits, not the documents, refused above.
    expect((await stamp(manyPagesPdf(10), 'page=1&x=100&y=100&straddle=true')).status).toBe(200);
    expect(await countRows(stack, 'stamps')).toBe(1);
  });
});

describe('slow clients', () => {
  it('cuts an upload that trickles in with 408 problem+json and records nothing', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const { port } = new URL(stack.server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    const body = manyPagesPdf(2);
    socket.write(`POST /v1/stamps?seal=approval&page=1&x=100&y=100 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n`
      + `Content-Type: application/pdf\r\nContent-Length: ${body.length}\r\n\r\n`);
    // One byte every 200 ms: the whole body would take minutes; the server's limit is 2 s.
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && sent < body.length) socket.write(body.subarray(sent, ++sent));
    }, 200);
    await closed;
    clearInterval(trickle);
    expect(sent).toBeLessThan(body.length);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('https://oneseal.dev/problems/request-too-slow');
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore);
  });

  it('sets the configured timeouts on the server', () => {
    const { server } = stack.server;
    expect(server.headersTimeout).toBe(2000);
    expect(server.requestTimeout).toBe(2000);
    expect(server.keepAliveTimeout).toBe(5000);
  });
});

describe('public verification rate limit', () => {
  it('is one bucket per address for POST /v1/verifications and POST /v/{id}/check', async () => {
    const verification = () => call(url('/v1/verifications'), { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    const check = () => call(url('/v/no-such-licence/check'), { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    // Alternating: alone, /v1/verifications would get its whole burst of 10 before the first 429.
    let allowedVerifications = 0;
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const r = await verification();
      if (r.status === 429) refused = r;
      else {
        expect(r.status).toBe(415); // allowed: it got as far as the body check
        allowedVerifications++;
        await check();
      }
    }
    expect(refused).toBeDefined();
    expect(allowedVerifications).toBeLessThan(10);
    expect(refused!.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
