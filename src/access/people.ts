/**
 * People: who they are (a login name), what they may do (roles), and how they prove it (a password and
 * a TOTP secret). Adding a person, giving roles, enabling and resetting credentials are changes under
 * two-person control (two-person.ts); taking roles away and disabling happen at once.
 *
 * Nobody but the person should know both of their factors. Where a second person approves, the
 * password is set by the proposer (shown to them once, only its hash is stored with the proposal) and
 * the TOTP secret is made when the approver carries the change out (shown to the approver once): the
 * new person gets one factor from each. Each person row remembers who besides the person learnt each
 * factor, and a reset through a second person that would hand both to the same person is refused.
 * (Where two-person control does not apply, one seal-admin may do all of it: they could add a person
 * of their own anyway.)
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import { OneSealError, type FieldError } from '../errors.js';
import { centreField, checkCentreExists } from '../items/centres.js';
import { readRequest } from './request-fields.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import {
  endSessionsOf,
  findPersonByName,
  getPerson,
  insertPerson,
  listPeople,
  lockPersonByName,
  updatePerson,
  type PersonRecord,
  type Role,
} from '../store/people.js';
import { anySealUnderTwoPersonControl } from '../store/seals.js';
import { actorIdentity, actorLabel, type Actor, type PersonActor } from './actors.js';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { authorize, ROLES } from './policy.js';
import { generateTotpSecret, matchTotp, otpauthUrl } from './totp.js';
import type { ChangeHandler, GovernedDeps, Prepared } from './two-person.js';

const PERSON_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
export const TOTP_ISSUER = 'OneSeal';

export function personView(p: PersonRecord) {
  return {
    id: p.id,
    name: p.name,
    roles: p.roles,
    disabled: p.disabledAt !== null,
    disabledAt: p.disabledAt,
    centre: p.centreCode,
    totpEnrolled: p.totpSecret !== null,
    createdAt: p.createdAt,
    createdBy: p.createdBy,
  };
}

const CODE = 'invalid-person-request';

function nameOf(o: Record<string, unknown>, errors: FieldError[]): string {
  const name = o.name;
  if (typeof name !== 'string' || !PERSON_NAME.test(name)) {
    errors.push({ field: 'name', message: 'must be a login name: a lower-case letter, then up to 63 lower-case letters, digits, ".", "_" or "-"' });
    return '';
  }
  return name;
}

function rolesOf(o: Record<string, unknown>, errors: FieldError[]): Role[] {
  const roles = o.roles;
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => ROLES.includes(r as Role))) {
    errors.push({ field: 'roles', message: `must be a non-empty list of ${ROLES.join(', ')}` });
    return [];
  }
  return [...new Set(roles as Role[])];
}

function personNotFound(name: string): OneSealError {
  return new OneSealError('person-not-found', 'not-found', `There is no person "${name}"; \`oneseal user list\` shows them.`);
}

export async function requirePerson(db: Db, name: string): Promise<PersonRecord> {
  const p = typeof name === 'string' && PERSON_NAME.test(name) ? await findPersonByName(db, name) : undefined;
  if (!p) throw personNotFound(String(name));
  return p;
}

/** requirePerson inside a change's transaction: the row is locked first (see lockPersonByName). */
async function lockedPerson(trx: Db, name: string): Promise<PersonRecord> {
  const p = await lockPersonByName(trx, name);
  if (!p) throw personNotFound(name);
  return p;
}

/** A chosen password (checked) or undefined to generate one; see hashedPassword. */
function passwordOf(o: Record<string, unknown>, errors: FieldError[]): string | undefined {
  if (o.password === undefined) return undefined;
  const problem = typeof o.password === 'string' ? passwordProblem(o.password) : 'must be a string';
  if (problem) errors.push({ field: 'password', message: problem });
  return o.password as string;
}

/** The hash to store, and the password to show once when it was generated. */
async function hashedPassword(chosen: string | undefined): Promise<{ hash: string; disclosed?: { password: string } }> {
  const password = chosen ?? generatePassword();
  return { hash: await hashPassword(password), ...(chosen === undefined ? { disclosed: { password } } : {}) };
}

const nameAndRoles = (input: unknown) => readRequest(CODE, input, ['name', 'roles'], (o, errors) => ({ name: nameOf(o, errors), roles: rolesOf(o, errors) }));
const nameOnly = (input: unknown) => readRequest(CODE, input, ['name'], (o, errors) => nameOf(o, errors));

/** Who besides the person learns a factor: nobody when it is the person themselves. */
function knower(identity: string, person: Pick<PersonRecord, 'id'> | undefined): string | null {
  return person && identity === person.id ? null : identity;
}

function newTotp(deps: GovernedDeps, name: string): { sealed: string; shown: { totpSecret: string; otpauthUrl: string } } {
  const secret = generateTotpSecret();
  return { sealed: deps.secrets.encrypt(secret), shown: { totpSecret: secret, otpauthUrl: otpauthUrl(secret, name, TOTP_ISSUER) } };
}

/** Roles change who may act on every seal, so people changes follow two-person control wherever any seal is under it. */
const peopleNeedSecondPerson = async (deps: GovernedDeps): Promise<boolean> => anySealUnderTwoPersonControl(deps.store.db);

type AddParams = { name: string; roles: Role[]; passwordHash: string; centre?: string | null };

const addPerson: ChangeHandler<AddParams> = {
  action: 'person.add',
  async prepare(deps, input): Promise<Prepared<AddParams>> {
    const { name, roles, chosen, centre } = readRequest(CODE, input, ['name', 'roles', 'password', 'centre'], (o, errors) =>
      ({ name: nameOf(o, errors), roles: rolesOf(o, errors), chosen: passwordOf(o, errors), centre: centreField(o, errors) }));
    await checkCentreExists(deps.store.db, centre);
    if (await findPersonByName(deps.store.db, name)) throw new OneSealError('person-exists', 'conflict', `A person named "${name}" exists already.`);
    const password = await hashedPassword(chosen);
    return { params: { name, roles, passwordHash: password.hash, ...(centre ? { centre } : {}) }, subject: name, sealId: null, ...(password.disclosed ? { disclosed: password.disclosed } : {}) };
  },
  needsSecondPerson: peopleNeedSecondPerson,
  async execute(deps, params, run) {
    const totp = newTotp(deps, params.name);
    const now = nowIso();
    const person: PersonRecord = {
      id: randomUUID(),
      name: params.name,
      roles: params.roles,
      passwordHash: params.passwordHash,
      totpSecret: totp.sealed,
      totpLastStep: 0,
      passwordKnownBy: run.proposerIdentity,
      totpKnownBy: actorIdentity(run.actor),
      disabledAt: null,
      centreCode: params.centre ?? null,
      createdBy: run.label,
      createdAt: now,
      updatedAt: now,
    };
    await deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      if (!(await insertPerson(trx, person))) throw new OneSealError('person-exists', 'conflict', `A person named "${params.name}" exists already.`);
      await appendAudit(trx, { actor: run.label, action: 'person.add', subject: person.name, details: { id: person.id, roles: person.roles, centre: person.centreCode, ...run.auditDetails } });
    });
    // password: the slot a generated password takes when the change runs at once (the proposer's, so it
    // is not known here), keeping the order {id, name, roles, password, totpSecret, otpauthUrl}.
    return { id: person.id, name: person.name, roles: person.roles, ...(person.centreCode ? { centre: person.centreCode } : {}), password: undefined, ...totp.shown };
  },
  publicParams: ({ name, roles, centre }) => ({ name, roles, ...(centre ? { centre } : {}) }),
};

type GrantParams = { name: string; roles: Role[] };

const grantRoles: ChangeHandler<GrantParams> = {
  action: 'person.grant',
  async prepare(deps, input) {
    const { name, roles } = nameAndRoles(input);
    const person = await requirePerson(deps.store.db, name);
    const added = roles.filter((r) => !person.roles.includes(r));
    if (added.length === 0) throw new OneSealError('nothing-to-change', 'conflict', `${name} has ${roles.join(', ')} already.`);
    return { params: { name, roles: added }, subject: name, sealId: null };
  },
  needsSecondPerson: peopleNeedSecondPerson,
  async execute(deps, params, run) {
    return deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const person = await lockedPerson(trx, params.name);
      const roles = [...new Set([...person.roles, ...params.roles])];
      await updatePerson(trx, person.id, { roles });
      await appendAudit(trx, { actor: run.label, action: 'person.grant', subject: person.name, details: { added: params.roles, roles, ...run.auditDetails } });
      return personView({ ...person, roles });
    });
  },
};

type NameParams = { name: string };

const enablePerson: ChangeHandler<NameParams> = {
  action: 'person.enable',
  async prepare(deps, input) {
    const person = await requirePerson(deps.store.db, nameOnly(input));
    if (!person.disabledAt) throw new OneSealError('nothing-to-change', 'conflict', `${person.name} is not disabled.`);
    return { params: { name: person.name }, subject: person.name, sealId: null };
  },
  needsSecondPerson: peopleNeedSecondPerson,
  async execute(deps, params, run) {
    return deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const person = await lockedPerson(trx, params.name);
      await updatePerson(trx, person.id, { disabledAt: null });
      await appendAudit(trx, { actor: run.label, action: 'person.enable', subject: person.name, details: { ...run.auditDetails } });
      return personView({ ...person, disabledAt: null });
    });
  },
};

type ResetPasswordParams = { name: string; passwordHash: string };

/** Refuses to let one person (other than the owner) learn both factors of an account. */
function assertFactorsSplit(person: PersonRecord, learner: string, factor: 'password' | 'TOTP secret'): void {
  const other = factor === 'password' ? person.totpKnownBy : person.passwordKnownBy;
  if (learner !== person.id && other === learner) {
    throw new OneSealError('factors-not-split', 'forbidden',
      `This would tell the same person both of ${person.name}'s factors (they already know the ${factor === 'password' ? 'TOTP secret' : 'password'}); another seal-admin must ${factor === 'password' ? 'propose' : 'approve'} it.`);
  }
}

const resetPassword: ChangeHandler<ResetPasswordParams> = {
  action: 'person.reset-password',
  async prepare(deps, input) {
    const { name, chosen } = readRequest(CODE, input, ['name', 'password'], (o, errors) => ({ name: nameOf(o, errors), chosen: passwordOf(o, errors) }));
    await requirePerson(deps.store.db, name);
    const password = await hashedPassword(chosen);
    return { params: { name, passwordHash: password.hash }, subject: name, sealId: null, ...(password.disclosed ? { disclosed: password.disclosed } : {}) };
  },
  needsSecondPerson: peopleNeedSecondPerson,
  async checkProposer(deps, params, proposer) {
    assertFactorsSplit(await requirePerson(deps.store.db, params.name), actorIdentity(proposer), 'password');
  },
  async execute(deps, params, run) {
    return deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const person = await lockedPerson(trx, params.name);
      // The proposer chose or saw the new password: they are who knows it.
      if (run.proposalId) assertFactorsSplit(person, run.proposerIdentity, 'password');
      const now = nowIso();
      await updatePerson(trx, person.id, { passwordHash: params.passwordHash, passwordKnownBy: knower(run.proposerIdentity, person) });
      const ended = await endSessionsOf(trx, person.id, now);
      await appendAudit(trx, { actor: run.label, action: 'person.reset-password', subject: person.name, details: { sessionsEnded: ended, ...run.auditDetails } });
      return { name: person.name };
    });
  },
  publicParams: ({ name }) => ({ name }),
};

const resetTotp: ChangeHandler<NameParams> = {
  action: 'person.reset-totp',
  async prepare(deps, input) {
    const person = await requirePerson(deps.store.db, nameOnly(input));
    return { params: { name: person.name }, subject: person.name, sealId: null };
  },
  needsSecondPerson: peopleNeedSecondPerson,
  async checkExecutor(deps, params, _proposer, executor) {
    assertFactorsSplit(await requirePerson(deps.store.db, params.name), actorIdentity(executor), 'TOTP secret');
  },
  async execute(deps, params, run) {
    const totp = newTotp(deps, params.name);
    await deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const person = await lockedPerson(trx, params.name);
      // Whoever carries it out sees the new secret.
      const learner = actorIdentity(run.actor);
      if (run.proposalId) assertFactorsSplit(person, learner, 'TOTP secret');
      await updatePerson(trx, person.id, { totpSecret: totp.sealed, totpLastStep: 0, totpKnownBy: knower(learner, person) });
      const ended = await endSessionsOf(trx, person.id, nowIso());
      await appendAudit(trx, { actor: run.label, action: 'person.reset-totp', subject: person.name, details: { sessionsEnded: ended, ...run.auditDetails } });
    });
    return { name: params.name, ...totp.shown };
  },
};

export const PERSON_CHANGES = { 'person.add': addPerson, 'person.grant': grantRoles, 'person.enable': enablePerson, 'person.reset-password': resetPassword, 'person.reset-totp': resetTotp };

/** Takes roles away: at once (it only narrows what someone may do). */
export async function ungrantRoles(deps: Pick<GovernedDeps, 'store'>, actor: Actor, input: unknown): Promise<ReturnType<typeof personView>> {
  authorize(actor, 'person.ungrant');
  const { name, roles } = nameAndRoles(input);
  return deps.store.db.transaction(async (trx) => {
    const person = await lockedPerson(trx, name);
    const kept = person.roles.filter((r) => !roles.includes(r));
    await updatePerson(trx, person.id, { roles: kept });
    await appendAudit(trx, { actor: actorLabel(actor), action: 'person.ungrant', subject: name, details: { removed: roles.filter((r) => person.roles.includes(r)), roles: kept } });
    return personView({ ...person, roles: kept });
  });
}

/** Disables a person at once and ends their sessions; their proposals can no longer be approved. */
export async function disablePerson(deps: Pick<GovernedDeps, 'store'>, actor: Actor, input: unknown): Promise<ReturnType<typeof personView>> {
  authorize(actor, 'person.disable');
  const name = nameOnly(input);
  return deps.store.db.transaction(async (trx) => {
    const person = await lockedPerson(trx, name);
    if (person.disabledAt) return personView(person);
    const disabledAt = nowIso();
    await updatePerson(trx, person.id, { disabledAt });
    const ended = await endSessionsOf(trx, person.id, disabledAt);
    await appendAudit(trx, { actor: actorLabel(actor), action: 'person.disable', subject: name, details: { sessionsEnded: ended } });
    return personView({ ...person, disabledAt });
  });
}

export async function readPeople(deps: Pick<GovernedDeps, 'store'>, actor: Actor): Promise<ReturnType<typeof personView>[]> {
  authorize(actor, 'person.read');
  return (await listPeople(deps.store.db)).map(personView);
}

/**
 * A TOTP secret offered to a person for enrolment, sealed for the round trip through their browser:
 * bound to the person, so a sealed offer from one account is refused by another.
 */
export function offerTotp(deps: Pick<GovernedDeps, 'secrets'>, person: PersonActor): { sealed: string; shown: { totpSecret: string; otpauthUrl: string } } {
  const secret = generateTotpSecret();
  return { sealed: deps.secrets.encrypt(`${person.id}:${secret}`), shown: { totpSecret: secret, otpauthUrl: otpauthUrl(secret, person.name, TOTP_ISSUER) } };
}

/** Whether someone besides the person knows one of their factors (a generated password, a secret an approver saw). */
export async function credentialsShared(db: Db, person: PersonActor): Promise<boolean> {
  const p = await getPerson(db, person.id);
  return !!p && (p.passwordKnownBy !== null || p.totpKnownBy !== null || p.totpSecret === null);
}

/**
 * A person replaces their own factors: a new password (proving the current one) and a TOTP secret only
 * they saw (proving it with a code from the new entry). Afterwards nobody else knows either. It acts on
 * the caller's own account only, so no role is needed beyond being logged in.
 */
export async function setOwnCredentials(deps: Pick<GovernedDeps, 'store' | 'secrets'>, actor: PersonActor,
  input: { currentPassword: string; newPassword: string; totpOffer: string; otp: string }, now: Date = new Date()): Promise<void> {
  const person = await getPerson(deps.store.db, actor.id);
  if (!person) throw personNotFound(actor.name);
  const errors: FieldError[] = [];
  if (!(await verifyPassword(input.currentPassword, person.passwordHash))) errors.push({ field: 'currentPassword', message: 'is not your current password' });
  const problem = passwordProblem(input.newPassword);
  if (problem) errors.push({ field: 'newPassword', message: problem });
  let secret: string | undefined;
  try {
    const [owner, offered] = deps.secrets.decrypt(input.totpOffer).split(':');
    if (owner === person.id) secret = offered;
  } catch {
    // An altered or foreign offer: reported as a wrong code below.
  }
  const step = secret ? matchTotp(secret, input.otp, now, 0) : undefined;
  if (step === undefined) errors.push({ field: 'otp', message: 'is not the code the new authenticator entry shows now' });
  if (errors.length) throw new OneSealError('invalid-credentials-change', 'unprocessable', 'The new credentials were not saved.', { fields: errors });
  const passwordHash = await hashPassword(input.newPassword);
  await deps.store.db.transaction(async (trx) => {
    await updatePerson(trx, person.id, { passwordHash, passwordKnownBy: null, totpSecret: deps.secrets.encrypt(secret!), totpLastStep: step!, totpKnownBy: null });
    await appendAudit(trx, { actor: actorLabel(actor), action: 'person.own-credentials', subject: person.name, details: { sessionId: actor.sessionId } });
  });
}
