/** People, their sessions and the login throttle: storage only; the rules live in src/access. */
import { int, json, mapper, nowIso, nullable, text } from './codec.js';
import type { Db } from './db.js';

export type Role = 'seal-admin' | 'licence-officer' | 'auditor' | 'operator';

export interface PersonRecord {
  id: string;
  name: string;
  roles: Role[];
  passwordHash: string;
  /** Encrypted under the server secret (src/access/secrets.ts); null until one is enrolled. */
  totpSecret: string | null;
  /** The last TOTP step accepted: codes of that step and earlier are refused (used once). */
  totpLastStep: number;
  /** Who besides the person learnt the current password (a proposer) or TOTP secret (an approver). */
  passwordKnownBy: string | null;
  totpKnownBy: string | null;
  disabledAt: string | null;
  /** The service centre the person works for; null: the district hall. */
  centreCode: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const nullableText = nullable(text);
const people = mapper<PersonRecord>({
  id: ['id', text],
  name: ['name', text],
  roles: ['roles', json<Role[]>()],
  passwordHash: ['password_hash', text],
  totpSecret: ['totp_secret', nullableText],
  totpLastStep: ['totp_last_step', int],
  passwordKnownBy: ['password_known_by', nullableText],
  totpKnownBy: ['totp_known_by', nullableText],
  disabledAt: ['disabled_at', nullableText],
  centreCode: ['centre_code', nullableText],
  createdBy: ['created_by', text],
  createdAt: ['created_at', text],
  updatedAt: ['updated_at', text],
});

/** False when a person with that name exists (the insert, a write, is the transaction's first statement). */
export async function insertPerson(db: Db, person: PersonRecord): Promise<boolean> {
  return (await db('people').insert(people.toRow(person)).onConflict('name').ignore().returning('id')).length > 0;
}

/**
 * Locks a person's row for the rest of the transaction by writing it (updated_at), then reads it: on
 * SQLite a transaction that reads first and writes later can fail with SQLITE_BUSY when another
 * connection wrote in between; on PostgreSQL the row lock serialises two changes to one person.
 */
export async function lockPersonByName(trx: Db, name: string): Promise<PersonRecord | undefined> {
  await trx('people').where({ name }).update({ updated_at: nowIso() });
  return findPersonByName(trx, name);
}

export async function getPerson(db: Db, id: string): Promise<PersonRecord | undefined> {
  const row = await db('people').where({ id }).first();
  return row ? people.fromRow(row) : undefined;
}

export async function findPersonByName(db: Db, name: string): Promise<PersonRecord | undefined> {
  const row = await db('people').where({ name }).first();
  return row ? people.fromRow(row) : undefined;
}

export async function listPeople(db: Db): Promise<PersonRecord[]> {
  return (await db('people').orderBy('name')).map(people.fromRow);
}

export async function updatePerson(db: Db, id: string, patch: Partial<Omit<PersonRecord, 'id' | 'createdAt' | 'createdBy'>>): Promise<void> {
  await db('people').where({ id }).update(people.toRow({ ...patch, updatedAt: nowIso() }));
}

/**
 * Records `step` as used if it is later than the last used one: one conditional UPDATE, so two
 * logins racing with the same code cannot both win.
 */
export async function claimTotpStep(db: Db, id: string, step: number): Promise<boolean> {
  return (await db('people').where({ id }).andWhere('totp_last_step', '<', step).update({ totp_last_step: step })) === 1;
}

export interface SessionRecord {
  id: string;
  personId: string;
  tokenHash: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  endedAt: string | null;
}

const sessions = mapper<SessionRecord>({
  id: ['id', text],
  personId: ['person_id', text],
  tokenHash: ['token_hash', text],
  createdAt: ['created_at', text],
  lastSeenAt: ['last_seen_at', text],
  expiresAt: ['expires_at', text],
  endedAt: ['ended_at', nullableText],
});

export async function insertSession(db: Db, session: SessionRecord): Promise<void> {
  await db('sessions').insert(sessions.toRow(session));
}

export async function findSessionByTokenHash(db: Db, tokenHash: string): Promise<SessionRecord | undefined> {
  const row = await db('sessions').where({ token_hash: tokenHash }).first();
  return row ? sessions.fromRow(row) : undefined;
}

export async function touchSession(db: Db, id: string, at: string): Promise<void> {
  await db('sessions').where({ id }).whereNull('ended_at').update({ last_seen_at: at });
}

export async function endSession(db: Db, id: string, at: string): Promise<void> {
  await db('sessions').where({ id }).whereNull('ended_at').update({ ended_at: at });
}

/** Ends every open session of a person (disabled, credentials reset). */
export async function endSessionsOf(db: Db, personId: string, at: string): Promise<number> {
  return db('sessions').where({ person_id: personId }).whereNull('ended_at').update({ ended_at: at });
}

export interface ThrottleRecord {
  name: string;
  failures: number;
  lockouts: number;
  lockedUntil: string | null;
  updatedAt: string;
}

const throttle = mapper<ThrottleRecord>({
  name: ['name', text],
  failures: ['failures', int],
  lockouts: ['lockouts', int],
  lockedUntil: ['locked_until', nullableText],
  updatedAt: ['updated_at', text],
});

/**
 * Counts a login attempt for `name` before its password is checked and returns the row as it now
 * stands. The increment takes the row lock (PostgreSQL) or the write lock (SQLite) first, so parallel
 * attempts are numbered one by one and a burst of guesses cannot all slip in before the lock-out.
 */
export async function countLoginAttempt(trx: Db, name: string, at: string): Promise<ThrottleRecord> {
  await trx('login_throttle').insert(throttle.toRow({ name, failures: 0, lockouts: 0, lockedUntil: null, updatedAt: at })).onConflict('name').ignore();
  await trx('login_throttle').where({ name }).increment('failures', 1);
  return throttle.fromRow(await trx('login_throttle').where({ name }).first());
}

export async function getThrottle(db: Db, name: string): Promise<ThrottleRecord | undefined> {
  const row = await db('login_throttle').where({ name }).first();
  return row ? throttle.fromRow(row) : undefined;
}

export async function updateThrottle(db: Db, name: string, patch: Partial<Omit<ThrottleRecord, 'name'>>): Promise<void> {
  await db('login_throttle').where({ name }).update(throttle.toRow(patch));
}

export async function clearThrottle(db: Db, name: string): Promise<void> {
  await db('login_throttle').where({ name }).delete();
}
