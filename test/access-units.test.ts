/**
 * The pieces of access control that need no HSM: TOTP against the RFC 6238 test vectors, passwords,
 * the policy table's shape and messages, the session and break-glass settings of the configuration.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/access/actors.js';
import { decoyPasswordHash, generatePassword, hashPassword, passwordProblem, verifyPassword } from '../src/access/passwords.js';
import { ACTIONS, allows, authorize, authorizeLicence, authorizeSeal, POLICY, ROLES, SCOPES, seesPersonalData } from '../src/access/policy.js';
import { AccessSecrets } from '../src/access/secrets.js';
import { base32Decode, base32Encode, generateTotpSecret, matchTotp, otpauthUrl, totpCode, totpStep } from '../src/access/totp.js';
import { CHANGE_HANDLERS } from '../src/access/changes.js';
import { loadConfig } from '../src/config.js';
import { OneSealError } from '../src/errors.js';

function thrown(fn: () => unknown): OneSealError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OneSealError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  // RFC 6238 appendix B: the SHA-1 seed is the ASCII "12345678901234567890"; the 8-digit values' last six digits.
  const seed = base32Encode(Buffer.from('12345678901234567890'));
  const vectors: [number, string][] = [[59, '287082'], [1111111109, '081804'], [1111111111, '050471'], [1234567890, '005924'], [2000000000, '279037'], [20000000000, '353130']];

  it('gives the RFC test vectors', () => {
    for (const [t, code] of vectors) expect(totpCode(seed, totpStep(new Date(t * 1000)))).toBe(code);
  });

  it('round-trips base32 and makes 160-bit secrets', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 7]);
    expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    expect(base32Decode(generateTotpSecret())).toHaveLength(20);
    expect(() => base32Decode('not base32!')).toThrow(/base32/);
  });

  it('accepts the current step and one either side, never a code at or before the last used step', () => {
    const secret = generateTotpSecret();
    const now = new Date(1_800_000_000_000);
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) expect(matchTotp(secret, totpCode(secret, step + offset), now, 0)).toBe(step + offset);
    for (const offset of [-2, 2]) expect(matchTotp(secret, totpCode(secret, step + offset), now, 0)).toBeUndefined();
    // Used once: the same code, or an older one, is refused once its step was accepted.
    expect(matchTotp(secret, totpCode(secret, step), now, step)).toBeUndefined();
    expect(matchTotp(secret, totpCode(secret, step - 1), now, step)).toBeUndefined();
    expect(matchTotp(secret, totpCode(secret, step + 1), now, step)).toBe(step + 1);
    expect(matchTotp(secret, '12345', now, 0)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now, 0)).toBeUndefined();
  });

  it('makes the otpauth URL authenticator apps read', () => {
    const url = new URL(otpauthUrl('JBSWY3DPEHPK3PXP', 'alice', 'OneSeal'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/OneSeal:alice');
  });
});

describe('passwords', () => {
  it('hashes with salted scrypt and checks in constant time', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse battery')).not.toBe(hash);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'bcrypt$whatever')).toBe(false);
    expect(await verifyPassword('anything', await decoyPasswordHash())).toBe(false);
  });

  it('generates long passwords from a look-alike-free alphabet and refuses short ones', () => {
    const p = generatePassword();
    expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
    expect(generatePassword()).not.toBe(p);
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('long enough now')).toBeUndefined();
  });
});

describe('the policy table', () => {
  const person = (roles: Actor extends infer A ? (A extends { kind: 'person'; roles: infer R } ? R : never) : never): Actor =>
    ({ kind: 'person', id: 'p1', name: 'pat', roles, sessionId: 's' });
  const client = (scopes: ('stamps' | 'licences' | 'verify')[], extra: Partial<Extract<Actor, { kind: 'client' }>> = {}): Actor =>
    ({ kind: 'client', id: 'c1', name: 'window', seals: ['approval'], scopes, licenceTypes: ['business-licence'], ...extra });

  it('names only known roles and scopes, and every two-person action has a handler', () => {
    for (const action of ACTIONS) {
      const r = POLICY[action];
      for (const role of r.roles) expect(ROLES).toContain(role);
      for (const scope of r.scopes) expect(SCOPES).toContain(scope);
      if ('twoPerson' in r && r.twoPerson) {
        expect(CHANGE_HANDLERS).toHaveProperty([action]);
        // Changes to who may use a seal are for seal-admins only: never a system client.
        expect(r.scopes).toEqual([]);
        expect(r.roles).toEqual(['seal-admin']);
      }
    }
    expect(Object.keys(CHANGE_HANDLERS).sort()).toEqual(ACTIONS.filter((a) => 'twoPerson' in POLICY[a]).sort());
  });

  it('never lets a system client approve, nor the break-glass path, nor the system', () => {
    for (const scopes of [['stamps'], ['licences'], ['verify'], ['stamps', 'licences', 'verify']] as const) {
      expect(allows(client([...scopes]), 'proposal.approve')).toBe(false);
    }
    expect(allows({ kind: 'break-glass', osUser: 'root' }, 'proposal.approve')).toBe(false);
    expect(allows({ kind: 'break-glass', osUser: 'root' }, 'seal.rotate')).toBe(true);
    expect(allows({ kind: 'system', name: 'scheduler' }, 'seal.rotate')).toBe(false);
  });

  it('refuses with a 403 naming the missing role or scope', () => {
    const e = thrown(() => authorize(person(['auditor']), 'seal.rotate'));
    expect(e).toMatchObject({ kind: 'forbidden', code: 'role-required' });
    expect(e.message).toBe('person:pat may not rotate a seal’s key: that needs the role seal-admin; pat has auditor.');
    const c = thrown(() => authorize(client(['stamps']), 'licence.issue'));
    expect(c).toMatchObject({ code: 'scope-required', extra: { requiredScopes: ['licences'], scopes: ['stamps'] } });
    expect(c.message).toMatch(/needs the scope licences; the client has the scopes stamps/);
    const g = thrown(() => authorizeSeal(client(['stamps']), 'stamp.create', 'contracts'));
    expect(g).toMatchObject({ code: 'seal-not-granted', extra: { missingGrant: 'seal:contracts' } });
  });

  it('holds a licences client to its own licences of its granted types; officers see all', () => {
    const mine = { id: 'L1', typeId: 'business-licence', ownerClientId: 'c1' };
    const theirs = { ...mine, ownerClientId: 'c2' };
    const other = { ...mine, typeId: 'residence-permit' };
    const c = client(['licences']);
    expect(() => authorizeLicence(c, 'licence.revoke', mine)).not.toThrow();
    expect(thrown(() => authorizeLicence(c, 'licence.revoke', theirs)).code).toBe('licence-not-owned');
    expect(thrown(() => authorizeLicence(c, 'licence.read', other)).code).toBe('licence-type-not-granted');
    expect(seesPersonalData(c, mine)).toBe(true);
    expect(seesPersonalData(c, theirs)).toBe(false);
    expect(seesPersonalData(person(['licence-officer']), theirs)).toBe(true);
    expect(seesPersonalData(person(['auditor']), mine)).toBe(false);
    expect(() => authorizeLicence(person(['licence-officer']), 'licence.revoke', theirs)).not.toThrow();
  });
});

describe('the server secret', () => {
  it('derives one key per purpose and seals TOTP secrets so a change is detected', () => {
    const a = new AccessSecrets(Buffer.alloc(32, 1));
    const b = new AccessSecrets(Buffer.alloc(32, 2));
    expect(a.mac('api-key', 'x')).not.toBe(a.mac('session', 'x'));
    expect(a.mac('api-key', 'x')).not.toBe(b.mac('api-key', 'x'));
    // Keyed: not the plain HMAC of the data under the master key either.
    expect(a.mac('api-key', 'x')).not.toBe(createHmac('sha256', Buffer.alloc(32, 1)).update('x').digest('base64url'));
    expect(a.macMatches('proposal', 'content', a.mac('proposal', 'content'))).toBe(true);
    expect(a.macMatches('proposal', 'content!', a.mac('proposal', 'content'))).toBe(false);
    const sealed = a.encrypt('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(a.decrypt(sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => b.decrypt(sealed)).toThrow(/cannot be decrypted/);
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => a.decrypt(parts.join('.'))).toThrow(/cannot be decrypted/);
  });
});

describe('configuration of sessions and break-glass', () => {
  it('has laptop defaults and validates the limits', () => {
    const c = loadConfig({});
    expect(c.sessions).toEqual({ idleMs: 30 * 60_000, maxMs: 12 * 3600_000, requireTotp: false, loginsPerMinute: 30 });
    expect(c.breakGlassAllowed).toBe(false);
    expect(c.cliSessionFile).toMatch(/oneseal\/session-[0-9a-f]{16}\.json$/);
    expect(loadConfig({ ONESEAL_DATA_DIR: '/tmp/other' }).cliSessionFile).not.toBe(c.cliSessionFile);
    expect(loadConfig({ ONESEAL_SESSION_IDLE_MINUTES: '5', ONESEAL_SESSION_MAX_HOURS: '1', ONESEAL_REQUIRE_TOTP: 'true' }).sessions).toEqual({ idleMs: 5 * 60_000, maxMs: 3600_000, requireTotp: true, loginsPerMinute: 30 });
    const e = thrown(() => loadConfig({ ONESEAL_SESSION_IDLE_MINUTES: '600', ONESEAL_SESSION_MAX_HOURS: '2', ONESEAL_REQUIRE_TOTP: 'maybe', ONESEAL_BREAK_GLASS: 'yes' }));
    expect(e.fields?.map((f) => f.field).sort()).toEqual(['ONESEAL_BREAK_GLASS', 'ONESEAL_REQUIRE_TOTP', 'ONESEAL_SESSION_IDLE_MINUTES']);
  });

  it('always requires TOTP in production, and allows break-glass there only with ONESEAL_BREAK_GLASS=1', () => {
    const production = { NODE_ENV: 'production', ONESEAL_PIN: 'a-real-pin-9f2c', ONESEAL_PUBLIC_URL: 'https://seal.example.gov.cn' };
    expect(loadConfig(production).sessions.requireTotp).toBe(true);
    expect(loadConfig(production).breakGlassAllowed).toBe(false);
    expect(loadConfig({ ...production, ONESEAL_BREAK_GLASS: '1' }).breakGlassAllowed).toBe(true);
    expect(thrown(() => loadConfig({ ...production, ONESEAL_REQUIRE_TOTP: 'false' })).message).toMatch(/production always requires a TOTP code/);
  });
});
