/**
 * `oneseal user …`, `login`, `whoami`, `logout` and `--break-glass` in-process against a running stack:
 * the credentials printed once in the shape, the session file (mode 0600, refused when others
 * can read it), and production refusing break-glass unless ONESEAL_BREAK_GLASS=1.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliLogin, loginToken, otpNow } from './support/people.js';
import { fixturePath, openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const sessionFile = () => stack.env.ONESEAL_SESSION_FILE!;

beforeAll(async () => {
  stack = await openStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('oneseal user', () => {
  it('add --json prints {id, name, roles, password, totpSecret, otpauthUrl} once; with --password-file no password', async () => {
    const r = await stack.cli(['user', 'add', '--name', 'alice', '--roles', 'seal-admin,auditor', '--break-glass', '--json']);
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(['id', 'name', 'roles', 'password', 'totpSecret', 'otpauthUrl']);
    expect(printed).toMatchObject({ name: 'alice', roles: ['seal-admin', 'auditor'], totpSecret: expect.stringMatching(/^[A-Z2-7]{32}$/) });
    expect(String(printed.otpauthUrl)).toMatch(/^otpauth:\/\/totp\/OneSeal%3Aalice\?secret=[A-Z2-7]{32}&issuer=OneSeal/);

    const file = path.join(stack.dir, 'bob.password');
    writeFileSync(file, 'a password bob chose himself\n');
    const chosen = JSON.parse((await stack.cli(['user', 'add', '--name', 'bob', '--roles', 'seal-admin', '--password-file', file, '--break-glass', '--json'])).out) as Record<string, unknown>;
    expect(chosen.password).toBeUndefined();
    expect(await loginToken(stack, { name: 'bob', password: 'a password bob chose himself' })).toMatch(/^oss_/);

    const text = await stack.cli(['user', 'add', '--name', 'carol', '--roles', 'operator', '--break-glass']);
    expect(text.out).toMatch(/added carol \(operator\)[\s\S]*password \(shown only now[^\n]*: [A-Za-z0-9]{20}\n[\s\S]*TOTP secret[^\n]*: [A-Z2-7]{32}\n\s+otpauth:/);

    const bad = await stack.cli(['user', 'add', '--name', 'Dave!', '--roles', 'king', '--break-glass', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.err).error.message).toMatch(/name must be a login name.*roles must be a non-empty list/);
  });

  it('login keeps the session in a file only its owner can read; whoami and logout use it', async () => {
    const alice = JSON.parse((await stack.cli(['user', 'add', '--name', 'erin', '--roles', 'seal-admin', '--break-glass', '--json'])).out) as { name: string; password: string; totpSecret: string };
    await cliLogin(stack, alice);
    expect(statSync(sessionFile()).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(sessionFile(), 'utf8')) as { token: string; name: string };
    expect(stored).toMatchObject({ name: 'erin', token: expect.stringMatching(/^oss_/) });
    const who = await stack.cli(['whoami']);
    expect(who.out).toMatch(/^person:erin \(seal-admin\)\nmay: .*seal\.rotate/);

    chmodSync(sessionFile(), 0o644);
    const exposed = await stack.cli(['whoami']);
    expect(exposed.code).toBe(1);
    expect(exposed.err).toMatch(/can be read by other users \(mode 644\)/);
    chmodSync(sessionFile(), 0o600);

    expect((await stack.cli(['logout'])).out).toBe('logged out');
    expect(() => statSync(sessionFile())).toThrow();
    // The token itself was ended, not only the file removed.
    const ended = await stack.services.store.db('sessions').whereNotNull('ended_at').count({ n: '*' }).first();
    expect(Number((ended as { n: number | string }).n)).toBeGreaterThanOrEqual(1);
    expect((await stack.cli(['whoami'])).err).toMatch(/Log in first/);
  });

  it('lists, disables, enables and resets people as a logged-in seal-admin', async () => {
    const admin = JSON.parse((await stack.cli(['user', 'add', '--name', 'frank', '--roles', 'seal-admin', '--break-glass', '--json'])).out) as { name: string; password: string };
    await cliLogin(stack, admin);
    const list = JSON.parse((await stack.cli(['user', 'list', '--json'])).out) as { people: { name: string; roles: string[]; disabled: boolean }[] };
    expect(list.people.map((p) => p.name)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol', 'frank']));
    expect(list.people.find((p) => p.name === 'carol')).toMatchObject({ roles: ['operator'], disabled: false });

    expect((await stack.cli(['user', 'disable', 'carol'])).out).toMatch(/disabled carol at /);
    expect((await stack.cli(['user', 'grant', 'carol', '--roles', 'auditor', '--json'])).code).toBe(0);
    expect(JSON.parse((await stack.cli(['user', 'enable', 'carol', '--json'])).out)).toMatchObject({ name: 'carol', disabled: false, roles: ['operator', 'auditor'] });
    expect(JSON.parse((await stack.cli(['user', 'ungrant', 'carol', '--roles', 'operator', '--json'])).out)).toMatchObject({ roles: ['auditor'] });

    const reset = JSON.parse((await stack.cli(['user', 'reset-password', 'carol', '--json'])).out) as { password: string };
    expect(reset.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(await loginToken(stack, { name: 'carol', password: reset.password })).toMatch(/^oss_/);
    // frank set both of carol's factors here: that is only possible where two-person control is off.
    const totp = JSON.parse((await stack.cli(['user', 'reset-totp', 'carol', '--json'])).out) as { totpSecret: string };
    expect(totp.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    // With TOTP required, carol's new code works at `oneseal login`.
    const file = path.join(stack.dir, 'carol.password');
    writeFileSync(file, reset.password);
    const required = { ONESEAL_REQUIRE_TOTP: 'true' };
    expect((await stack.cli(['login', '--name', 'carol', '--password-file', file], required)).code).toBe(1);
    expect((await stack.cli(['login', '--name', 'carol', '--password-file', file, '--otp', otpNow(totp)], required)).code).toBe(0);
    // carol (auditor) may read people but not change them.
    expect((await stack.cli(['user', 'list'])).code).toBe(0);
    const refused = await stack.cli(['user', 'disable', 'frank']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/person:carol may not disable a person \(their sessions end at once\): that needs the role seal-admin; carol has auditor/);
  });
});

describe('break-glass in production', () => {
  // A production configuration that passes validation (its own PIN, a public URL); the gate comes first.
  const production = { NODE_ENV: 'production', ONESEAL_PIN: 'a-real-pin-9f2c', ONESEAL_PUBLIC_URL: 'https://seal.example.gov.cn' };

  it('is refused without ONESEAL_BREAK_GLASS=1, before the HSM or database is touched', async () => {
    const before = await stack.services.store.db('audit_log').count({ n: '*' }).first();
    for (const argv of [['user', 'add', '--name', 'mallory', '--roles', 'seal-admin', '--break-glass'], ['seal', 'rotate', 'approval', '--break-glass'], ['stamp', fixturePath('approval-letter.pdf'), '-o', path.join(stack.dir, 'never.pdf'), '--page', '1', '--x', '50', '--y', '50']]) {
      const r = await stack.cli(argv, production);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err).toMatch(/Production refuses break-glass commands unless ONESEAL_BREAK_GLASS=1/);
    }
    expect(await stack.services.store.db('audit_log').count({ n: '*' }).first()).toEqual(before);
    expect(await stack.services.store.db('people').where({ name: 'mallory' }).first()).toBeUndefined();
  });

  it('passes the gate with ONESEAL_BREAK_GLASS=1 (this data dir then fails production’s other checks)', async () => {
    const r = await stack.cli(['user', 'add', '--name', 'mallory', '--roles', 'seal-admin', '--break-glass'], { ...production, ONESEAL_BREAK_GLASS: '1' });
    expect(r.code).not.toBe(0);
    expect(r.err).not.toMatch(/Production refuses break-glass/);
    expect(r.err).toMatch(/PIN|development root|refusing to start in production/);
  });
});
