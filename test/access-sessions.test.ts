/**
 * People's logins and sessions over real HTTP with TOTP required (as in production), and API keys:
 * one generic 401 for every wrong part, a TOTP code used once, lock-out after 5 failures with a
 * growing Retry-After (unknown names too, and a parallel burst gets no more tries), every login,
 * failure and lock audited; logout; keys checked with an HMAC whose answer time does not tell a known
 * key id from an unknown one (measured and printed, not asserted); keys stored the old way still work.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FAILURES } from '../src/access/sessions.js';
import { addClient, bearer, call, type Reply } from './support/api-client.js';
import { addPerson, otpNow, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let pat: TestPerson;
const db = () => stack.services.store.db;
const url = (p: string) => `${stack.server.url}${p}`;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_REQUIRE_TOTP: 'true' });
  pat = await addPerson(stack, 'pat', ['auditor']);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

function login(body: Record<string, unknown>): Promise<Reply> {
  return call(url('/v1/sessions'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

describe('logging in', () => {
  it('opens a session with name, password and the current code; the token works until logout', async () => {
    const r = await login({ name: 'pat', password: pat.password, otp: otpNow(pat) });
    expect(r.status).toBe(201);
    const { token, expiresAt, person } = r.json<{ token: string; expiresAt: string; person: { name: string; roles: string[] } }>();
    expect(token).toMatch(/^oss_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    expect(person).toMatchObject({ name: 'pat', roles: ['auditor'] });
    const me = await call(url('/v1/sessions/current'), { headers: bearer(token) });
    expect(me.json()).toMatchObject({ person: { name: 'pat' }, allowed: expect.arrayContaining(['audit.read', 'licence.read']) });
    expect(me.json<{ allowed: string[] }>().allowed).not.toContain('seal.rotate');
    // Only the token's HMAC is stored.
    expect(JSON.stringify(await db()('sessions').select())).not.toContain(token.slice(4));
    expect((await call(url('/v1/sessions/current'), { method: 'DELETE', headers: bearer(token) })).status).toBe(204);
    const after = await call(url('/v1/sessions/current'), { headers: bearer(token) });
    expect([after.status, after.json<{ type: string }>().type]).toEqual([401, 'https://oneseal.dev/problems/session-ended']);
  });

  it('answers every wrong part with the same 401, and accepts a code once only', async () => {
    const logins = async () => (await db()('audit_log').where({ action: 'login', actor: 'person:pat' })).length;
    const loginsBefore = await logins();
    const code = otpNow(pat, 1);
    const answers = await Promise.all([
      login({ name: 'pat', password: 'not the password', otp: otpNow(pat) }),
      login({ name: 'nobody', password: pat.password, otp: otpNow(pat) }),
      login({ name: 'pat', password: pat.password, otp: '000000' === otpNow(pat) ? '111111' : '000000' }),
      login({ name: 'pat', password: pat.password }),
    ]);
    const bodies = answers.map((a) => [a.status, a.json<{ type: string; detail: string }>().type, a.json<{ detail: string }>().detail]);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual([401, 'https://oneseal.dev/problems/invalid-credentials', 'The name, password or one-time code is not right.']);
    // The next step's code (clock drift) is accepted once; replayed, it is refused like any wrong code.
    expect((await login({ name: 'pat', password: pat.password, otp: code })).status).toBe(201);
    expect((await login({ name: 'pat', password: pat.password, otp: code })).status).toBe(401);
    // Two logins racing with one fresh code: one session.
    await db()('people').where({ name: 'pat' }).update({ totp_last_step: 0 });
    const raced = await Promise.all([1, 2].map(() => login({ name: 'pat', password: pat.password, otp: otpNow(pat) })));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 401]);
    const failures = await db()('audit_log').where({ action: 'login.failure' }).orderBy('seq');
    expect(failures.map((f: { details: string }) => JSON.parse(f.details).reason)).toEqual(expect.arrayContaining(['password', 'unknown-name', 'otp']));
    expect(failures.every((f: { actor: string }) => f.actor === 'anonymous')).toBe(true);
    // Two logins succeeded here (the drift code's and the race's winner), each audited.
    expect(await logins()).toBe(loginsBefore + 2);
  });

  it('locks a name after 5 failures, longer each time, whether or not the name exists; parallel guesses get no extra tries', async () => {
    const victim = await addPerson(stack, 'victim', ['operator']);
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login({ name: 'victim', password: `guess-${i}`, otp: '123456' })).status).toBe(401);
    const locked = await login({ name: 'victim', password: victim.password, otp: otpNow(victim) });
    expect(locked.status).toBe(429);
    const first = Number(locked.headers.get('retry-after'));
    expect(first).toBeGreaterThanOrEqual(59);
    expect(first).toBeLessThanOrEqual(60);
    expect(locked.json<{ detail: string }>().detail).toMatch(/Too many failed logins/);
    // Waiting (here: the lock made to have passed) and failing again locks for twice as long.
    await db()('login_throttle').where({ name: 'victim' }).update({ locked_until: new Date(Date.now() - 1000).toISOString() });
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login({ name: 'victim', password: `again-${i}`, otp: '123456' })).status).toBe(401);
    const second = await login({ name: 'victim', password: victim.password, otp: otpNow(victim) });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(119);
    const locks = await db()('audit_log').where({ action: 'login.locked', subject: 'victim' });
    expect(locks.map((l: { details: string }) => JSON.parse(l.details).lockouts)).toEqual([1, 2]);

    // A name nobody has locks the same way, so 429 does not tell which names exist.
    for (let i = 0; i < MAX_FAILURES; i++) await login({ name: 'ghost', password: 'x', otp: '123456' });
    expect((await login({ name: 'ghost', password: 'x', otp: '123456' })).status).toBe(429);

    // 20 guesses at once: at most 5 are checked before the lock.
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => login({ name: 'burst', password: `g${i}`, otp: '123456' })));
    expect(burst.filter((r) => r.status === 401)).toHaveLength(MAX_FAILURES);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(20 - MAX_FAILURES);
  });

  it('refuses a malformed request with 400 naming the fields, and limits logins per address', async () => {
    const r = await login({ name: 'pat', pass: 'x' });
    expect(r.status).toBe(400);
    expect(r.json<{ errors: { field: string }[] }>().errors.map((e) => e.field).sort()).toEqual(['pass', 'password']);
    const limited = await openStack({ ONESEAL_LOGINS_PER_MINUTE: '3' });
    try {
      const replies = [];
      for (let i = 0; i < 5; i++) {
        replies.push(await call(`${limited.server.url}/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: `n${i}`, password: 'x' }) }));
      }
      expect(replies.map((x) => x.status)).toEqual([401, 401, 401, 429, 429]);
      expect(replies[3]!.json<{ detail: string }>().detail).toMatch(/Too many logins from this address/);
    } finally {
      await limited.close();
    }
  }, 120_000);
});

describe('API keys', () => {
  it('answers an unknown key id and a known one with a wrong secret within noise of each other (measured, printed)', async () => {
    const { key } = await addClient(stack, 'timing', ['approval']);
    const known = `${key.slice(0, key.indexOf('.') + 1)}${'B'.repeat(43)}`;
    const unknown = `os_${randomBytes(8).toString('hex')}.${'B'.repeat(43)}`;
    const time = async (k: string) => {
      const start = performance.now();
      const r = await call(url('/v1/seals'), { headers: bearer(k) });
      expect(r.status).toBe(401);
      return performance.now() - start;
    };
    // Interleaved, after a warm-up, so drift of the machine hits both alike.
    for (let i = 0; i < 20; i++) await time(i % 2 ? known : unknown);
    const samples: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
    for (let i = 0; i < 200; i++) {
      samples.known.push(await time(known));
      samples.unknown.push(await time(unknown));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
    const line = (name: 'known' | 'unknown') => `${name.padEnd(8)} median ${median(samples[name]).toFixed(3)} ms  p90 ${p90(samples[name]).toFixed(3)} ms`;
    console.log(`401 answer time over HTTP, 200 requests each (key id known with a wrong secret vs unknown):\n${line('known')}\n${line('unknown')}\n`
      + `difference of medians ${(median(samples.known) - median(samples.unknown)).toFixed(3)} ms (the scrypt check it replaces took ~50 ms for a known id, ~0 for an unknown one)`);
    expect(samples.known).toHaveLength(200);
  }, 120_000);

  it('keeps a key stored the old way (scrypt) working, and re-stores it as HMAC at its first use', async () => {
    const { id, key } = await addClient(stack, 'legacy', ['approval']);
    const salt = randomBytes(16);
    const old = ['scrypt', 16384, 8, 1, salt.toString('base64url'), scryptSync(key, salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64url')].join('$');
    await db()('api_clients').where({ id }).update({ key_hash: old });
    const list = await call(url('/v1/seals'), { headers: bearer(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`) });
    expect(list.status).toBe(401);
    expect((await db()('api_clients').where({ id }).first()).key_hash).toBe(old);
    expect((await call(url('/v1/seals'), { headers: bearer(key) })).status).toBe(200);
    expect((await db()('api_clients').where({ id }).first()).key_hash).toBe(`hmac-sha256$${stack.services.secrets.mac('api-key', key)}`);
    expect((await call(url('/v1/seals'), { headers: bearer(key) })).status).toBe(200);
  });
});
