/**
 * Metrics and the extended health check on a real server (SoftHSM token, SQLite file, HTTP on
 * 127.0.0.1): counters move when stamps are made and refused, the exposition parses, and /healthz
 * reports certificates about to expire (warn) and expired (503).
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../src/api/problem.js';
import { checkExpiry } from '../src/observability/certificate-expiry.js';
import { Registry } from '../src/observability/metrics.js';
import { addClient } from './support/api-client.js';
import { LETTER, postStamp, scrape } from './support/ops.js';
import { openStack, type Stack } from './support/stamp-stack.js';

describe('metrics registry', () => {
  it('renders counters, gauges and cumulative histogram buckets in text format 0.0.4', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'Things.', ['kind']);
    const h = r.histogram('x_seconds', 'Time.', ['op'], [0.1, 1]);
    const g = r.gauge('x_now', 'Now.');
    c.inc({ kind: 'a"b\\c\nd' }, 2);
    h.observe({ op: 'sign' }, 0.05);
    h.observe({ op: 'sign' }, 0.5);
    h.observe({ op: 'sign' }, 5);
    g.set({}, 3);
    expect(r.render()).toBe([
      '# HELP x_total Things.', '# TYPE x_total counter', 'x_total{kind="a\\"b\\\\c\\nd"} 2',
      '# HELP x_seconds Time.', '# TYPE x_seconds histogram',
      'x_seconds_bucket{op="sign",le="0.1"} 1', 'x_seconds_bucket{op="sign",le="1"} 2', 'x_seconds_bucket{op="sign",le="+Inf"} 3',
      'x_seconds_sum{op="sign"} 5.55', 'x_seconds_count{op="sign"} 3',
      '# HELP x_now Now.', '# TYPE x_now gauge', 'x_now 3', '',
    ].join('\n'));
  });

  it('refuses labels other than the declared ones, and counters going down', () => {
    const c = new Registry().counter('y_total', 'Y.', ['code']);
    expect(() => c.inc({ cod: 'x' })).toThrow(/takes labels \{code\}/);
    expect(() => c.inc({ code: 'x', extra: 'y' })).toThrow(/takes labels/);
    expect(() => c.inc({ code: 'x' }, -1)).toThrow(/only goes up/);
  });
});

describe('certificate expiry check', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const at = (days: number) => new Date(now.getTime() + days * 86_400_000);
  it('passes, warns within 30 days, fails once expired', () => {
    expect(checkExpiry([{ name: 'root', notAfter: at(400) }], now)).toMatchObject({ ok: true, detail: expect.stringContaining('root on 2027') });
    expect(checkExpiry([{ name: 'root', notAfter: at(400) }, { name: 'seal a v1', notAfter: at(12) }], now))
      .toEqual({ ok: true, warn: true, detail: 'expiring within 30 days: seal a v1 in 12 days (2026-06-13)' });
    expect(checkExpiry([{ name: 'tsa', notAfter: at(-1) }, { name: 'seal a v1', notAfter: at(12) }], now))
      .toEqual({ ok: false, detail: 'expired: tsa (2026-05-31); rotate or renew them' });
  });
});

describe('GET /metrics and /healthz on a running server', () => {
  let stack: Stack;
  let url: string;
  let key: string;
  /** What the server logs at info and above. */
  const logged: Record<string, unknown>[] = [];
  beforeAll(async () => {
    stack = await openStack({}, { logger: pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) }) });
    url = stack.server.url;
    ({ key } = await addClient(stack, 'metrics-test', ['approval']));
  }, 120_000);
  afterAll(() => stack?.close());

  it('serves the Prometheus text format with every OneSeal metric declared', async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    for (const [name, type] of [['oneseal_stamps_total', 'counter'], ['oneseal_verifications_total', 'counter'], ['oneseal_hsm_sign_seconds', 'histogram'],
      ['oneseal_hsm_sessions', 'gauge'], ['oneseal_errors_total', 'counter'], ['oneseal_http_request_duration_seconds', 'histogram']]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    const samples = await scrape(url);
    expect(samples.get('oneseal_hsm_sessions{state="in_use"}')).toBe(0);
    expect(samples.get('oneseal_hsm_sessions{state="idle"}')).toBe(stack.services.config.hsm.poolSize);
    expect(samples.get('oneseal_hsm_sessions{state="waiting"}')).toBe(0);
  });

  it('counts a stamp, its HSM signatures and its request; a refused request counts as an error, not a stamp', async () => {
    const before = await scrape(url);
    const ok = await postStamp(url, key, LETTER());
    expect(ok.status).toBe(200);
    const bad = await postStamp(url, key, LETTER(), { query: 'seal=approval&page=1&x=150&y=60&colour=red' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { type: string }).type).toBe(`${PROBLEM_BASE}invalid-stamp-options`);
    const after = await scrape(url);
    const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);

    expect(delta('oneseal_stamps_total{seal="approval",level="B-T",outcome="ok"}')).toBe(1);
    expect([...after.keys()].filter((k) => k.startsWith('oneseal_stamps_total') && !k.includes('outcome="ok"'))).toEqual([]);
    // the seal's signature and the TSA's time-stamp token are both signed in the HSM
    expect(delta('oneseal_hsm_sign_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    expect(after.get('oneseal_hsm_sign_seconds_sum{outcome="ok"}')).toBeGreaterThan(0);
    expect(delta('oneseal_http_request_duration_seconds_count{route="/v1/stamps",method="POST",status="200"}')).toBe(1);
    expect(delta('oneseal_http_request_duration_seconds_count{route="/v1/stamps",method="POST",status="400"}')).toBe(1);
    expect(delta('oneseal_errors_total{code="invalid-stamp-options"}')).toBe(1);
  }, 60_000);

  it('counts a client that hangs up mid-upload as client-aborted, never as a database outage', async () => {
    const before = await scrape(url);
    const from = logged.length;
    const pdf = LETTER();
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await once(socket, 'connect');
    // Expect: 100-continue: the server says "100 Continue" once the request is in the application, so
    // the hang-up below happens while it reads the body, not before it sees the request.
    socket.write([
      'POST /v1/stamps?seal=approval&page=1&x=150&y=60 HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${key}`,
      'Content-Type: application/pdf', `Content-Length: ${pdf.length}`, 'Expect: 100-continue', '', '',
    ].join('\r\n'));
    const [interim] = (await once(socket, 'data')) as [Buffer];
    expect(interim.toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue/);
    socket.write(pdf.subarray(0, pdf.length >> 1));
    socket.destroy();

    const aborted = 'oneseal_errors_total{code="client-aborted"}';
    let after = await scrape(url);
    for (let i = 0; i < 500 && (after.get(aborted) ?? 0) === (before.get(aborted) ?? 0); i++) after = await scrape(url);
    expect((after.get(aborted) ?? 0) - (before.get(aborted) ?? 0)).toBe(1);
    expect(after.get('oneseal_errors_total{code="database-unavailable"}') ?? 0).toBe(before.get('oneseal_errors_total{code="database-unavailable"}') ?? 0);
    expect([...after.keys()].filter((k) => k.startsWith('oneseal_http_request_duration_seconds_count{route="/v1/stamps"') && k.includes('status="503"'))).toEqual([]);
    const lines = logged.slice(from);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', method: 'POST', path: '/v1/stamps', problem: 'client-aborted' }));
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ checks: { db: { ok: true } } });
  }, 60_000);

  it('labels by route pattern, never by raw path, and counts unknown routes as "unmatched"', async () => {
    const before = await scrape(url);
    const id = '00000000-0000-4000-8000-000000000000';
    expect((await fetch(`${url}/v1/stamps/${id}`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(404);
    expect((await fetch(`${url}/no/such/${id}`)).status).toBe(404);
    const after = await scrape(url);
    const keys = [...after.keys()].join('\n');
    expect(keys).not.toContain(id);
    expect((after.get('oneseal_http_request_duration_seconds_count{route="/v1/stamps/:id",method="GET",status="404"}') ?? 0)
      - (before.get('oneseal_http_request_duration_seconds_count{route="/v1/stamps/:id",method="GET",status="404"}') ?? 0)).toBe(1);
    expect(after.get('oneseal_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('oneseal_errors_total{code="stamp-not-found"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('oneseal_errors_total{code="route-not-found"}')).toBeGreaterThanOrEqual(1);
  });

  it('counts a stamp with an unknown seal under seal="unknown", so callers cannot mint label values', async () => {
    const { stamper } = stack.services;
    await expect(stamper.stamp(LETTER(), { sealId: 'no-such-seal-4711', placement: { kind: 'invisible' } })).rejects.toThrow();
    const after = await scrape(url);
    expect([...after.keys()].join('\n')).not.toContain('no-such-seal-4711');
    expect([...after.entries()].filter(([k]) => k.startsWith('oneseal_stamps_total{seal="unknown"'))).toHaveLength(1);
  });

  describe('/healthz certificate check', () => {
    const setNotAfter = (iso: string | null) =>
      stack.services.store.db('seal_versions').where({ seal_id: 'approval', status: 'active' }).update({ not_after: iso });
    let original: string;
    beforeAll(async () => {
      original = ((await stack.services.store.db('seal_versions').where({ seal_id: 'approval', status: 'active' }).first()) as { not_after: string }).not_after;
    });
    afterAll(() => setNotAfter(original));

    it('is ok with HSM, database and certificates when nothing expires soon', async () => {
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; warn?: boolean; detail?: string }> };
      expect(body.status).toBe('ok');
      expect(body.checks.hsm!.ok).toBe(true);
      expect(body.checks.db!.ok).toBe(true);
      expect(body.checks.certificates).toMatchObject({ ok: true, detail: expect.stringMatching(/^4 certificates; first to expire: /) });
      expect(body.checks.certificates!.warn).toBeUndefined();
    });

    it('warns (still 200) when a seal certificate expires within 30 days', async () => {
      await setNotAfter(new Date(Date.now() + 10.5 * 86_400_000).toISOString());
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: { certificates: { ok: boolean; warn: boolean; detail: string } } };
      expect(body.status).toBe('warn');
      expect(body.checks.certificates).toMatchObject({ ok: true, warn: true });
      expect(body.checks.certificates.detail).toMatch(/^expiring within 30 days: seal approval v1 in 10 days/);
    });

    it('fails with 503 naming the certificate once it has expired', async () => {
      await setNotAfter(new Date(Date.now() - 86_400_000).toISOString());
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { type: string; detail: string; checks: { hsm: { ok: boolean }; certificates: { ok: boolean } } };
      expect(body.type).toBe(`${PROBLEM_BASE}unhealthy`);
      expect(body.detail).toMatch(/^Not ready\. certificates: expired: seal approval v1 \(/);
      expect(body.checks.hsm.ok).toBe(true);
      expect(body.checks.certificates.ok).toBe(false);
    });
  });
});
