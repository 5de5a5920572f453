/**
 * Who may do what: THE policy table. Every route of the API and every CLI command asks it (through
 * `authorize`), and the web console reads it to show what a person may do. One row per action: the
 * people's roles and the system clients' scopes that allow it, whether a system client is further
 * limited to what it owns or was granted, and whether the action is a change under two-person control.
 *
 * Read it as: a person may do an action when one of their roles is listed; a system client when one
 * of its scopes is listed AND the ownership rule holds for the thing acted on; the PIN holder on the
 * server (break-glass) may do everything except approve (a break-glass change runs at once instead);
 * nobody else may do anything. Public routes (health, metrics, verification, licence status, PKI,
 * API documentation) are not actions: they need no credential.
 */
import { OneSealError } from '../errors.js';
import type { Scope } from '../store/clients.js';
import type { Role } from '../store/people.js';
import { actorLabel, type Actor } from './actors.js';

export const ROLES: readonly Role[] = ['seal-admin', 'licence-officer', 'auditor', 'operator'];
export const SCOPES: readonly Scope[] = ['stamps', 'licences', 'verify'];
export type { Role, Scope };

/**
 * What limits a system client beyond its scope:
 * - granted-seal: the seal must be among the client's grants (the `verify` scope reads every seal);
 * - own-stamp: a stamp or batch the client made;
 * - licence-type: a licence type the client was granted;
 * - own-licence: a licence the client issued, of a type it is still granted.
 */
export type Ownership = 'granted-seal' | 'own-stamp' | 'licence-type' | 'own-licence';

export interface Rule {
  summary: string;
  roles: readonly Role[];
  scopes: readonly Scope[];
  ownership?: Ownership;
  /** A change that becomes a proposal for a second seal-admin wherever two-person control applies. */
  twoPerson?: boolean;
}

const SA: Role = 'seal-admin';
const LO: Role = 'licence-officer';
const AU: Role = 'auditor';
const OP: Role = 'operator';

export const POLICY = {
  'seal.read': { summary: 'list seals and their current certificates', roles: [SA, LO, AU, OP], scopes: ['stamps', 'verify'], ownership: 'granted-seal' },
  'seal.admin-read': { summary: 'read seals with every version and key id', roles: [SA, AU], scopes: [] },
  'seal.create': { summary: 'create a seal', roles: [SA], scopes: [], twoPerson: true },
  'seal.rotate': { summary: 'rotate a seal’s key', roles: [SA], scopes: [], twoPerson: true },
  'seal.revoke': { summary: 'revoke a seal version’s certificate', roles: [SA], scopes: [], twoPerson: true },
  'seal.destroy-key': { summary: 'destroy a seal version’s key', roles: [SA], scopes: [], twoPerson: true },
  'seal.rotation-policy': { summary: 'set or remove a seal’s rotation policy', roles: [SA], scopes: [], twoPerson: true },
  'seal.two-person': { summary: 'switch two-person control on (at once) or off (proposed)', roles: [SA], scopes: [], twoPerson: true },
  'proposal.read': { summary: 'read two-person-control proposals', roles: [SA, AU], scopes: [] },
  'proposal.approve': { summary: 'approve another person’s proposal, which carries it out', roles: [SA], scopes: [] },
  'proposal.reject': { summary: 'reject a proposal (or withdraw one’s own)', roles: [SA], scopes: [] },
  'client.read': { summary: 'list system clients and their grants', roles: [SA, AU], scopes: [] },
  'client.create': { summary: 'create a system client and its API key', roles: [SA], scopes: [], twoPerson: true },
  'client.grant': { summary: 'grant a client seals, scopes or licence types', roles: [SA], scopes: [], twoPerson: true },
  'client.ungrant': { summary: 'take seals, scopes or licence types from a client', roles: [SA], scopes: [] },
  'client.rotate-key': { summary: 'give a client a new API key (the old one stops)', roles: [SA], scopes: [], twoPerson: true },
  'client.revoke': { summary: 'revoke a client (its key stops at once)', roles: [SA], scopes: [] },
  'person.read': { summary: 'list people and their roles', roles: [SA, AU], scopes: [] },
  'person.add': { summary: 'add a person with roles', roles: [SA], scopes: [], twoPerson: true },
  'person.grant': { summary: 'give a person more roles', roles: [SA], scopes: [], twoPerson: true },
  'person.ungrant': { summary: 'take roles from a person', roles: [SA], scopes: [] },
  'person.disable': { summary: 'disable a person (their sessions end at once)', roles: [SA], scopes: [] },
  'person.enable': { summary: 'enable a disabled person again', roles: [SA], scopes: [], twoPerson: true },
  'person.reset-password': { summary: 'give a person a new password', roles: [SA], scopes: [], twoPerson: true },
  'person.reset-totp': { summary: 'give a person a new TOTP secret', roles: [SA], scopes: [], twoPerson: true },
  'licence-qr.rotate': { summary: 'rotate the licence-QR signing key (the old one stays in the trust list)', roles: [SA], scopes: [], twoPerson: true },
  'licence-qr.revoke': { summary: 'revoke a licence-QR key’s certificate', roles: [SA], scopes: [], twoPerson: true },
  'licence-type.read': { summary: 'list licence types, their data schemas and seals', roles: [LO, AU], scopes: ['licences'], ownership: 'licence-type' },
  'licence.issue': { summary: 'issue a licence', roles: [LO], scopes: ['licences'], ownership: 'licence-type' },
  'licence.read': { summary: 'read a licence record (masked without licence.personal-data)', roles: [LO, AU], scopes: ['licences'], ownership: 'own-licence' },
  'licence.personal-data': { summary: 'see a holder’s full ID number, birth date and address', roles: [LO], scopes: ['licences'], ownership: 'own-licence' },
  'licence.pdf': { summary: 'download a licence PDF (it holds personal data)', roles: [LO], scopes: ['licences'], ownership: 'own-licence' },
  'licence.change': { summary: 'issue the next version of a licence', roles: [LO], scopes: ['licences'], ownership: 'own-licence' },
  'licence.revoke': { summary: 'revoke a licence', roles: [LO], scopes: ['licences'], ownership: 'own-licence' },
  'stamp.create': { summary: 'stamp documents with a seal', roles: [], scopes: ['stamps'], ownership: 'granted-seal' },
  'stamp.read': { summary: 'read stamp and batch records (no document content)', roles: [AU, OP], scopes: ['stamps'], ownership: 'own-stamp' },
  'stamp.personal-data': { summary: 'see and search a stamp’s file name and case number (they name applicants)', roles: [AU], scopes: ['stamps'], ownership: 'own-stamp' },
  'stamp.pdf': { summary: 'download a stamped PDF or a batch’s ZIP', roles: [AU], scopes: ['stamps'], ownership: 'own-stamp' },
  'item.read': { summary: 'list the item catalogue and its stamp profiles', roles: [SA, LO, AU, OP], scopes: ['stamps', 'licences'] },
  'item.import': { summary: 'import items into the catalogue (all rows or none)', roles: [SA], scopes: [] },
  'centre.read': { summary: 'list service centres and the items delegated to them', roles: [SA, LO, AU, OP], scopes: [] },
  'centre.add': { summary: 'add a service centre', roles: [SA], scopes: [] },
  'delegation.create': { summary: 'delegate an item to a service centre', roles: [SA], scopes: [], twoPerson: true },
  'delegation.revoke': { summary: 'take a delegated item back from a service centre', roles: [SA], scopes: [], twoPerson: true },
  'stats.read': { summary: 'read stamp statistics by department, item and centre', roles: [SA, AU, OP], scopes: [] },
  'audit.read': { summary: 'read the audit log', roles: [SA, AU], scopes: [] },
  'archive.renew': { summary: 'renew the long-term validation of stored documents (new time-stamps)', roles: [SA, OP], scopes: [] },
  'archive.export': { summary: 'export a case, stamp or licence as an archive package (ASiC-E)', roles: [LO, AU], scopes: ['stamps'], ownership: 'own-stamp' },
  'audit.sign-head': { summary: 'sign the audit chain head now', roles: [SA, AU, OP], scopes: [] },
} as const satisfies Record<string, Rule>;

export type Action = keyof typeof POLICY;
export const ACTIONS = Object.keys(POLICY) as Action[];

export function rule(action: Action): Rule {
  return POLICY[action];
}

/** The table's answer before any ownership check. */
export function allows(actor: Actor, action: Action): boolean {
  const r: Rule = POLICY[action];
  switch (actor.kind) {
    case 'person':
      return actor.roles.some((role) => r.roles.includes(role));
    case 'client':
      return actor.scopes.some((scope) => r.scopes.includes(scope));
    case 'break-glass':
      return action !== 'proposal.approve';
    case 'system':
      return false;
  }
}

function list(items: readonly string[]): string {
  return items.length ? items.join(', ') : 'none';
}

/** Throws 403 naming the role or scope the actor lacks, unless the table allows the action. */
export function authorize(actor: Actor, action: Action): void {
  if (allows(actor, action)) return;
  const r: Rule = POLICY[action];
  const label = actorLabel(actor);
  if (actor.kind === 'person') {
    throw new OneSealError('role-required', 'forbidden',
      `${label} may not ${r.summary}: that needs the role ${r.roles.join(' or ') || '(no role: system clients only)'}; ${actor.name} has ${list(actor.roles)}.`,
      { extra: { action, requiredRoles: r.roles, roles: actor.roles } });
  }
  if (actor.kind === 'client') {
    throw new OneSealError('scope-required', 'forbidden',
      `${label} may not ${r.summary}: that needs ${r.scopes.length ? `the scope ${r.scopes.join(' or ')}` : 'a person (system clients never may)'}; the client has the scopes ${list(actor.scopes)}.`,
      { extra: { action, requiredScopes: r.scopes, scopes: actor.scopes } });
  }
  throw new OneSealError('not-allowed', 'forbidden',
    actor.kind === 'break-glass'
      ? `${label} may not ${r.summary}: a break-glass command carries the change out itself; approvals need a second person.`
      : `${label} may not ${r.summary}.`,
    { extra: { action } });
}

/** The seal grant rule: 403 naming the seal unless the client was granted it (people and break-glass pass). */
export function authorizeSeal(actor: Actor, action: 'seal.read' | 'stamp.create', sealId: string): void {
  authorize(actor, action);
  if (actor.kind !== 'client') return;
  if (action === 'seal.read' && actor.scopes.includes('verify')) return;
  if (!actor.seals.includes(sealId)) {
    throw new OneSealError('seal-not-granted', 'forbidden',
      `Client "${actor.name}" may not use seal "${sealId}": it was not granted to this client (granted: ${list(actor.seals)}).`,
      { extra: { seal: sealId, missingGrant: `seal:${sealId}` } });
  }
}

/** Whether the actor sees this seal in listings (same rule as authorizeSeal, without throwing). */
export function seesSeal(actor: Actor, sealId: string): boolean {
  if (!allows(actor, 'seal.read')) return false;
  return actor.kind !== 'client' || actor.scopes.includes('verify') || actor.seals.includes(sealId);
}

/** The licence-type grant rule for issuing. */
export function authorizeLicenceType(actor: Actor, action: 'licence.issue', typeId: string): void {
  authorize(actor, action);
  if (actor.kind === 'client' && !actor.licenceTypes.includes(typeId)) {
    throw new OneSealError('licence-type-not-granted', 'forbidden',
      `Client "${actor.name}" may not issue "${typeId}" licences: that type was not granted to it (granted: ${list(actor.licenceTypes)}).`,
      { extra: { licenceType: typeId, missingGrant: `licence-type:${typeId}` } });
  }
}

/**
 * The seal a licence is issued with: the type's own seal for anyone allowed to issue the type; another
 * seal only for a client granted that seal (people hold roles, not seals) or the PIN holder.
 */
export function authorizeIssuingSeal(actor: Actor, typeSeal: string, sealId: string): void {
  authorize(actor, 'licence.issue');
  if (sealId === typeSeal || actor.kind === 'break-glass' || (actor.kind === 'client' && actor.seals.includes(sealId))) return;
  throw new OneSealError('seal-not-granted', 'forbidden',
    actor.kind === 'client'
      ? `Client "${actor.name}" may not issue licences with seal "${sealId}": it was not granted to this client (granted: ${list(actor.seals)}).`
      : `${actorLabel(actor)} issues licences with the type's own seal "${typeSeal}"; only a system client granted seal "${sealId}" may choose it.`,
    { extra: { seal: sealId, missingGrant: `seal:${sealId}` } });
}

/** The ownership rule for a licence: a client acts only on licences it issued, of a type it is granted. */
export function authorizeLicence(actor: Actor, action: 'licence.read' | 'licence.pdf' | 'licence.change' | 'licence.revoke',
  licence: { id: string; typeId: string; ownerClientId: string | null }): void {
  authorize(actor, action);
  if (actor.kind !== 'client') return;
  if (licence.ownerClientId !== actor.id) {
    throw new OneSealError('licence-not-owned', 'forbidden',
      `Client "${actor.name}" may not act on licence ${licence.id}: it acts only on licences it issued itself.`,
      { extra: { licence: licence.id, missingGrant: 'ownership' } });
  }
  if (!actor.licenceTypes.includes(licence.typeId)) {
    throw new OneSealError('licence-type-not-granted', 'forbidden',
      `Client "${actor.name}" may not act on "${licence.typeId}" licences any more: that type is not granted to it (granted: ${list(actor.licenceTypes)}).`,
      { extra: { licenceType: licence.typeId, missingGrant: `licence-type:${licence.typeId}` } });
  }
}

/** Whether the actor may see a licence holder's personal data (else the masked form the public page shows). */
export function seesPersonalData(actor: Actor, licence: { typeId: string; ownerClientId: string | null }): boolean {
  if (!allows(actor, 'licence.personal-data')) return false;
  return actor.kind !== 'client' || (licence.ownerClientId === actor.id && actor.licenceTypes.includes(licence.typeId));
}

/** The ownership rule for stamps: clients see their own; people with the role see all. */
export function seesStamp(actor: Actor, action: 'stamp.read' | 'stamp.personal-data' | 'stamp.pdf', stamp: { clientId: string }): boolean {
  if (!allows(actor, action)) return false;
  return actor.kind !== 'client' || stamp.clientId === actor.id;
}
