/**
 * People log in with name, password and (required in production) a TOTP code, and get a bearer
 * token for a session with an idle time-out and an absolute lifetime. The API (POST /v1/sessions) and
 * the CLI (`oneseal login`) both come here.
 *
 * Against guessing: every wrong part gives the same 401, an unknown name costs the same scrypt as a
 * known one, and after MAX_FAILURES failures the name (existing or not, so a lock-out reveals nothing)
 * waits, longer after each lock-out. Attempts are counted before the password is checked, so a burst of
 * parallel guesses cannot slip in before the lock. A TOTP code is accepted once only. Every login,
 * failure and lock-out is an audit entry.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import type { Config } from '../config.js';
import { OneSealError } from '../errors.js';
import type { Store } from '../store/db.js';
import {
  claimTotpStep,
  clearThrottle,
  countLoginAttempt,
  endSession,
  findPersonByName,
  findSessionByTokenHash,
  getPerson,
  insertSession,
  touchSession,
  updateThrottle,
  type PersonRecord,
} from '../store/people.js';
import type { PersonActor } from './actors.js';
import { decoyPasswordHash, verifyPassword } from './passwords.js';
import type { AccessSecrets } from './secrets.js';
import { matchTotp } from './totp.js';

export interface SessionDeps {
  store: Store;
  secrets: AccessSecrets;
  config: Pick<Config, 'sessions'>;
}

export const MAX_FAILURES = 5;
/** The first lock-out lasts a minute; each next one twice as long, up to a day. */
const FIRST_LOCK_MS = 60_000;
const MAX_LOCK_MS = 24 * 3600_000;
/** last_seen_at is written at most this often: idle expiry is exact to within it, and reads stay reads. */
const TOUCH_EVERY_MS = 30_000;
const TOKEN_PREFIX = 'oss_';
const TOKEN_PATTERN = /^oss_[A-Za-z0-9_-]{43}$/;
const NAME_LIMIT = 64;

export type LoginChannel = 'api' | 'cli' | 'console';

export interface LoginResult {
  token: string;
  expiresAt: string;
  person: { id: string; name: string; roles: string[] };
}

function invalidCredentials(): OneSealError {
  return new OneSealError('invalid-credentials', 'unauthorized', 'The name, password or one-time code is not right.');
}

function lockedOut(until: Date, now: Date): OneSealError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new OneSealError('login-locked', 'rate-limited', `Too many failed logins for this name; try again in ${seconds} s.`, { retryAfter: seconds });
}

export function isSessionToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX);
}

interface Credentials {
  name: string;
  password: string;
  otp: string | undefined;
}

function credentialsOf(input: unknown): Credentials {
  const o = (typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
  const missing = ['name', 'password'].filter((k) => typeof o[k] !== 'string' || o[k] === '');
  if (o.otp !== undefined && typeof o.otp !== 'string') missing.push('otp');
  const unknown = Object.keys(o).filter((k) => !['name', 'password', 'otp'].includes(k));
  if (missing.length || unknown.length) {
    throw new OneSealError('invalid-login-request', 'bad-request', 'Send { "name": …, "password": …, "otp": "123456" } (otp: the six-digit code of your authenticator app).', {
      fields: [...missing.map((field) => ({ field, message: 'is required (a string)' })), ...unknown.map((field) => ({ field, message: 'is not a login field' }))],
    });
  }
  return { name: (o.name as string).slice(0, NAME_LIMIT), password: o.password as string, otp: o.otp as string | undefined };
}

type Verdict = { ok: true; person: PersonRecord } | { ok: false; reason: 'unknown-name' | 'password' | 'otp' | 'disabled' };

async function check(deps: SessionDeps, c: Credentials, now: Date): Promise<Verdict> {
  const person = await findPersonByName(deps.store.db, c.name);
  // An unknown name is checked against a decoy, so both cost one scrypt and the answer time tells nothing.
  const passwordOk = await verifyPassword(c.password, person?.passwordHash ?? (await decoyPasswordHash()));
  if (!person) return { ok: false, reason: 'unknown-name' };
  if (!passwordOk) return { ok: false, reason: 'password' };
  const totpNeeded = deps.config.sessions.requireTotp || c.otp !== undefined;
  if (totpNeeded) {
    if (!person.totpSecret || c.otp === undefined) return { ok: false, reason: 'otp' };
    const step = matchTotp(deps.secrets.decrypt(person.totpSecret), c.otp, now, person.totpLastStep);
    // The conditional update makes "used once" hold against a parallel login with the same code.
    if (step === undefined || !(await claimTotpStep(deps.store.db, person.id, step))) return { ok: false, reason: 'otp' };
  }
  if (person.disabledAt) return { ok: false, reason: 'disabled' };
  return { ok: true, person };
}

/** Checks the credentials and opens a session; 401 (one message for every wrong part) or 429 when locked. */
export async function login(deps: SessionDeps, input: unknown, channel: LoginChannel, now: Date = new Date()): Promise<LoginResult> {
  const c = credentialsOf(input);
  const at = now.toISOString();
  const gate = await deps.store.db.transaction(async (trx) => {
    const t = await countLoginAttempt(trx, c.name, at);
    if (t.lockedUntil && Date.parse(t.lockedUntil) > now.getTime()) {
      // Waiting does not count as a try: undo this attempt's count.
      await updateThrottle(trx, c.name, { failures: t.failures - 1, updatedAt: at });
      return { locked: new Date(t.lockedUntil) };
    }
    if (t.failures <= MAX_FAILURES) return { locked: undefined };
    const lockouts = t.lockouts + 1;
    const until = new Date(now.getTime() + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (lockouts - 1)));
    await updateThrottle(trx, c.name, { failures: 0, lockouts, lockedUntil: until.toISOString(), updatedAt: at });
    await appendAudit(trx, { actor: 'anonymous', action: 'login.locked', subject: c.name, details: { lockouts, until: until.toISOString(), channel } });
    return { locked: until };
  });
  if (gate.locked) throw lockedOut(gate.locked, now);

  const verdict = await check(deps, c, now);
  if (!verdict.ok) {
    await deps.store.db.transaction((trx) =>
      appendAudit(trx, { actor: 'anonymous', action: 'login.failure', subject: c.name, details: { reason: verdict.reason, channel } }));
    throw invalidCredentials();
  }
  const { person } = verdict;
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + deps.config.sessions.maxMs).toISOString();
  const sessionId = randomUUID();
  await deps.store.db.transaction(async (trx) => {
    await clearThrottle(trx, c.name);
    await insertSession(trx, { id: sessionId, personId: person.id, tokenHash: deps.secrets.mac('session', token), createdAt: at, lastSeenAt: at, expiresAt, endedAt: null });
    await appendAudit(trx, { actor: `person:${person.name}`, action: 'login', subject: person.name, details: { sessionId, channel, expiresAt } });
  });
  return { token, expiresAt, person: { id: person.id, name: person.name, roles: person.roles } };
}

function sessionRefused(code: string, message: string): OneSealError {
  return new OneSealError(code, 'unauthorized', message);
}

/** The person behind a session token, or 401: unknown, ended, idle too long, past its lifetime, person disabled. */
export async function authenticateSession(deps: SessionDeps, token: string, now: Date = new Date()): Promise<PersonActor> {
  const session = TOKEN_PATTERN.test(token) ? await findSessionByTokenHash(deps.store.db, deps.secrets.mac('session', token)) : undefined;
  if (!session) throw sessionRefused('invalid-session', 'The session token is not valid; log in again (POST /v1/sessions or `oneseal login`).');
  if (session.endedAt) throw sessionRefused('session-ended', `This session ended at ${session.endedAt}; log in again.`);
  const { idleMs } = deps.config.sessions;
  if (Date.parse(session.expiresAt) <= now.getTime()) throw sessionRefused('session-expired', `This session expired at ${session.expiresAt}; log in again.`);
  if (Date.parse(session.lastSeenAt) + idleMs <= now.getTime()) {
    throw sessionRefused('session-expired', `This session was idle for more than ${Math.round(idleMs / 60_000)} minutes; log in again.`);
  }
  const person = await getPerson(deps.store.db, session.personId);
  if (!person || person.disabledAt) throw sessionRefused('session-ended', 'This person is disabled; the session no longer counts.');
  if (now.getTime() - Date.parse(session.lastSeenAt) >= TOUCH_EVERY_MS) await touchSession(deps.store.db, session.id, now.toISOString());
  return { kind: 'person', id: person.id, name: person.name, roles: person.roles, sessionId: session.id, centre: person.centreCode };
}

export async function logout(deps: Pick<SessionDeps, 'store'>, actor: PersonActor): Promise<void> {
  await deps.store.db.transaction(async (trx) => {
    await endSession(trx, actor.sessionId, new Date().toISOString());
    await appendAudit(trx, { actor: `person:${actor.name}`, action: 'logout', subject: actor.name, details: { sessionId: actor.sessionId } });
  });
}
