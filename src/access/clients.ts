/**
 * System clients (approval systems, licence front ends): a unique name, an API key, scopes (stamps,
 * licences, verify) and grants (seals; licence types). Creating one, granting it more and giving it a
 * new key are changes under two-person control (the new key goes to whoever carries the change out);
 * taking grants away and revoking happen at once. Each change is audited in its own transaction.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import { OneSealError, type FieldError } from '../errors.js';
import { DEFAULT_SEAL_ID } from '../init.js';
import { centreField, checkCentreExists } from '../items/centres.js';
import { LicenceTypeRegistry } from '../licences/registry.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import { findClientByName, getClient, insertClient, listClients, lockClient, updateClient, type ApiClientRecord, type Scope } from '../store/clients.js';
import { anySealUnderTwoPersonControl, getSeal } from '../store/seals.js';
import { actorLabel, type Actor } from './actors.js';
import { generateApiKey, hashApiKey, isLegacyKeyHash } from './api-keys.js';
import { authorize, SCOPES } from './policy.js';
import { invalidRequest, readRequest } from './request-fields.js';
import type { ChangeHandler, GovernedDeps } from './two-person.js';
import { UUID } from '../store/ids.js';

/** Licences are issued with the default seal, so a licences scope is a use of that seal. */
const LICENCE_SEAL_ID = DEFAULT_SEAL_ID;

let licenceTypes: LicenceTypeRegistry | undefined;
/** The ids of the licence types this server knows (loaded once). */
export function knownLicenceTypes(): string[] {
  licenceTypes ??= LicenceTypeRegistry.load();
  return licenceTypes.list().map((t) => t.id);
}

export function clientView(c: ApiClientRecord) {
  return {
    id: c.id,
    name: c.name,
    seals: c.seals,
    scopes: c.scopes,
    licenceTypes: c.licenceTypes,
    centre: c.centreCode,
    createdAt: c.createdAt,
    revokedAt: c.revokedAt,
    /** True while the key is stored the old way (scrypt); its first use re-stores it as HMAC. */
    legacyKeyHash: isLegacyKeyHash(c.keyHash),
  };
}

export type ClientView = ReturnType<typeof clientView>;

/** Seals, scopes and licence types as a request names them (each optional). */
interface Grants {
  seals: string[];
  scopes: Scope[];
  licenceTypes: string[];
}

const CODE = 'invalid-client-request';

function stringList(o: Record<string, unknown>, field: string, errors: FieldError[]): string[] {
  const v = o[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.trim() !== '')) {
    errors.push({ field, message: 'must be a list of names' });
    return [];
  }
  return [...new Set(v.map((x: string) => x.trim()))];
}

function grantsOf(o: Record<string, unknown>, errors: FieldError[]): Grants {
  const seals = stringList(o, 'seals', errors);
  const scopes = stringList(o, 'scopes', errors);
  const types = stringList(o, 'licenceTypes', errors);
  for (const s of scopes) if (!SCOPES.includes(s as Scope)) errors.push({ field: 'scopes', message: `"${s}" is not a scope (${SCOPES.join(', ')})` });
  const known = knownLicenceTypes();
  for (const t of types) if (!known.includes(t)) errors.push({ field: 'licenceTypes', message: `"${t}" is not a licence type (${known.join(', ')})` });
  return { seals, scopes: scopes as Scope[], licenceTypes: types };
}

async function checkSealsExist(db: Db, seals: readonly string[]): Promise<void> {
  const missing: FieldError[] = [];
  for (const s of seals) if (!(await getSeal(db, s))) missing.push({ field: 'seals', message: `there is no seal "${s}"` });
  if (missing.length) throw invalidRequest(CODE, missing);
}

/** A client that could not do anything with its scopes is a mistake worth refusing. */
function checkUsable(g: Grants, errors: FieldError[]): void {
  if (g.scopes.includes('stamps') && g.seals.length === 0) errors.push({ field: 'seals', message: 'the stamps scope needs at least one seal (--seals)' });
  if (g.scopes.includes('licences') && g.licenceTypes.length === 0) errors.push({ field: 'licenceTypes', message: 'the licences scope needs at least one licence type (--licence-types)' });
  if (!g.scopes.includes('licences') && g.licenceTypes.length > 0) errors.push({ field: 'licenceTypes', message: 'licence types are only used with the licences scope' });
}

/** The seals whose use changes with this client: its seals, and the licence seal when it issues licences. */
function sealsConcerned(g: Grants): string[] {
  return [...g.seals, ...(g.scopes.includes('licences') ? [LICENCE_SEAL_ID] : [])];
}

function clientNotFound(ref: string): OneSealError {
  return new OneSealError('client-not-found', 'not-found', `There is no system client "${ref}"; \`oneseal client list\` shows them.`);
}

/** A client by id or by name. */
export async function requireClientRecord(db: Db, ref: unknown): Promise<ApiClientRecord> {
  if (typeof ref !== 'string' || ref.trim() === '') throw invalidRequest(CODE, [{ field: 'client', message: 'name the client (its name or id)' }]);
  const found = (UUID.test(ref) ? await getClient(db, ref) : undefined) ?? (await findClientByName(db, ref.trim()));
  if (!found) throw clientNotFound(ref);
  return found;
}

/** A client inside a change's transaction: its row locked first (see lockClient). */
async function lockedClient(trx: Db, id: string): Promise<ApiClientRecord> {
  const c = await lockClient(trx, id);
  if (!c) throw clientNotFound(id);
  return c;
}

function requireActive(c: ApiClientRecord): void {
  if (c.revokedAt) throw new OneSealError('client-revoked', 'conflict', `Client "${c.name}" was revoked at ${c.revokedAt}; add a new client instead.`);
}

type CreateParams = Grants & { name: string; centre?: string | null };

const createClient: ChangeHandler<CreateParams> = {
  action: 'client.create',
  async prepare(deps, input) {
    const { name, centre, ...grants } = readRequest(CODE, input, ['name', 'seals', 'scopes', 'licenceTypes', 'centre'], (o, errors) => {
      const name = typeof o.name === 'string' ? o.name.trim() : '';
      if (!name || name.length > 100) errors.push({ field: 'name', message: 'must be 1 to 100 characters' });
      const grants = grantsOf(o, errors);
      if (grants.scopes.length === 0 && o.scopes === undefined) grants.scopes = ['stamps'];
      if (grants.scopes.length === 0) errors.push({ field: 'scopes', message: `give at least one of ${SCOPES.join(', ')}` });
      checkUsable(grants, errors);
      return { name, centre: centreField(o, errors), ...grants };
    });
    await checkSealsExist(deps.store.db, grants.seals);
    await checkCentreExists(deps.store.db, centre);
    if (await findClientByName(deps.store.db, name)) throw new OneSealError('client-exists', 'conflict', `A system client named "${name}" exists already; client names are unique.`);
    return { params: { name, ...grants, ...(centre ? { centre } : {}) }, subject: name, sealId: null };
  },
  needsSecondPerson: (deps, params) => anySealUnderTwoPersonControl(deps.store.db, sealsConcerned(params)),
  async execute(deps, params, run) {
    const { key, keyId } = generateApiKey();
    const record: ApiClientRecord = {
      id: randomUUID(),
      name: params.name,
      keyPrefix: keyId,
      keyHash: hashApiKey(deps.secrets, key),
      seals: params.seals,
      scopes: params.scopes,
      licenceTypes: params.licenceTypes,
      centreCode: params.centre ?? null,
      createdAt: nowIso(),
      revokedAt: null,
    };
    await deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      if (!(await insertClient(trx, record))) throw new OneSealError('client-exists', 'conflict', `A system client named "${record.name}" exists already.`);
      await appendAudit(trx, {
        actor: run.label, action: 'client.create', subject: record.id,
        details: { name: record.name, seals: record.seals, scopes: record.scopes, licenceTypes: record.licenceTypes, centre: record.centreCode, ...run.auditDetails },
      });
    });
    // The key is shown to whoever carried the change out, once; only its HMAC is kept.
    return { ...clientView(record), key };
  },
};

type GrantParams = Grants & { clientId: string; name: string };

function merged(c: ApiClientRecord, g: Grants, add: boolean): Grants {
  const join = <T>(a: readonly T[], b: readonly T[]) => (add ? [...new Set([...a, ...b])] : a.filter((x) => !b.includes(x)));
  return { seals: join(c.seals, g.seals), scopes: join(c.scopes, g.scopes), licenceTypes: join(c.licenceTypes, g.licenceTypes) };
}

async function grantRequest(db: Db, input: unknown): Promise<{ client: ApiClientRecord; grants: Grants }> {
  const { ref, ...grants } = readRequest(CODE, input, ['client', 'seals', 'scopes', 'licenceTypes'], (o, errors) => {
    const g = grantsOf(o, errors);
    if (g.seals.length + g.scopes.length + g.licenceTypes.length === 0) errors.push({ field: '(body)', message: 'name seals, scopes or licence types' });
    return { ref: o.client, ...g };
  });
  await checkSealsExist(db, grants.seals);
  const client = await requireClientRecord(db, ref);
  requireActive(client);
  return { client, grants };
}

const grantClient: ChangeHandler<GrantParams> = {
  action: 'client.grant',
  async prepare(deps, input) {
    const { client, grants } = await grantRequest(deps.store.db, input);
    const errors: FieldError[] = [];
    checkUsable(merged(client, grants, true), errors);
    if (errors.length) throw invalidRequest(CODE, errors);
    return { params: { clientId: client.id, name: client.name, ...grants }, subject: client.name, sealId: null };
  },
  async needsSecondPerson(deps, params) {
    const client = await requireClientRecord(deps.store.db, params.clientId);
    return anySealUnderTwoPersonControl(deps.store.db, sealsConcerned(merged(client, params, true)));
  },
  async execute(deps, params, run) {
    return deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const client = await lockedClient(trx, params.clientId);
      requireActive(client);
      const after = merged(client, params, true);
      await updateClient(trx, client.id, after);
      await appendAudit(trx, {
        actor: run.label, action: 'client.grant', subject: client.id,
        details: { name: client.name, added: { seals: params.seals, scopes: params.scopes, licenceTypes: params.licenceTypes }, ...after, ...run.auditDetails },
      });
      return clientView({ ...client, ...after });
    });
  },
};

type KeyParams = { clientId: string; name: string };

const rotateClientKey: ChangeHandler<KeyParams> = {
  action: 'client.rotate-key',
  async prepare(deps, input) {
    const ref = readRequest(CODE, input, ['client'], (o) => o.client);
    const client = await requireClientRecord(deps.store.db, ref);
    requireActive(client);
    return { params: { clientId: client.id, name: client.name }, subject: client.name, sealId: null };
  },
  async needsSecondPerson(deps, params) {
    return anySealUnderTwoPersonControl(deps.store.db, sealsConcerned(await requireClientRecord(deps.store.db, params.clientId)));
  },
  async execute(deps, params, run) {
    const { key, keyId } = generateApiKey();
    return deps.store.db.transaction(async (trx) => {
      await run.beforeChange(trx);
      const client = await lockedClient(trx, params.clientId);
      requireActive(client);
      // Same client, grants and history (its stamps keep pointing at it); only the key changes.
      await updateClient(trx, client.id, { keyPrefix: keyId, keyHash: hashApiKey(deps.secrets, key) });
      await appendAudit(trx, { actor: run.label, action: 'client.rotate-key', subject: client.id, details: { name: client.name, ...run.auditDetails } });
      return { ...clientView(client), legacyKeyHash: false, key };
    });
  },
};

export const CLIENT_CHANGES = { 'client.create': createClient, 'client.grant': grantClient, 'client.rotate-key': rotateClientKey };

/** Takes seals, scopes or licence types away: at once (it only narrows what the client may do). */
export async function ungrantClient(deps: Pick<GovernedDeps, 'store'>, actor: Actor, input: unknown): Promise<ClientView> {
  authorize(actor, 'client.ungrant');
  const { client: found, grants } = await grantRequest(deps.store.db, input);
  return deps.store.db.transaction(async (trx) => {
    const client = await lockedClient(trx, found.id);
    const after = merged(client, grants, false);
    await updateClient(trx, client.id, after);
    await appendAudit(trx, {
      actor: actorLabel(actor), action: 'client.ungrant', subject: client.id,
      details: { name: client.name, removed: { seals: grants.seals, scopes: grants.scopes, licenceTypes: grants.licenceTypes }, ...after },
    });
    return clientView({ ...client, ...after });
  });
}

export async function revokeClient(deps: Pick<GovernedDeps, 'store'>, actor: Actor, ref: string): Promise<ClientView> {
  authorize(actor, 'client.revoke');
  const found = await requireClientRecord(deps.store.db, ref);
  return deps.store.db.transaction(async (trx) => {
    const client = await lockedClient(trx, found.id);
    if (client.revokedAt) return clientView(client);
    const revokedAt = nowIso();
    await updateClient(trx, client.id, { revokedAt });
    await appendAudit(trx, { actor: actorLabel(actor), action: 'client.revoke', subject: client.id, details: { name: client.name } });
    return clientView({ ...client, revokedAt });
  });
}

export async function readClients(deps: Pick<GovernedDeps, 'store'>, actor: Actor): Promise<ClientView[]> {
  authorize(actor, 'client.read');
  return (await listClients(deps.store.db)).map(clientView);
}
