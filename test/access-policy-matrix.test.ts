/**
 * The policy table (src/access/policy.ts), every cell tried through the real HTTP API: for each action
 * and each principal — a person holding exactly one role, a system client holding exactly one scope —
 * the request that action makes is sent, and it must succeed where the table allows it and be refused
 * with 403 naming the missing role or scope where it does not (personal data: masked instead of 403).
 * The cases are generated from the table; an action without a probe here does not compile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/access/actors.js';
import { ACTIONS, allows, POLICY, ROLES, SCOPES, type Action } from '../src/access/policy.js';
import { requestChange } from '../src/access/two-person.js';
import { importItems } from '../src/items/catalogue.js';
import { addCentre } from '../src/items/centres.js';
import { performRotation } from '../src/seals/rotation.js';
import { createSeal } from '../src/seals/service.js';
import { freshSample, SAMPLE_DATA } from './licences-samples.js';
import { addClient, bearer, call, callAs, type Reply } from './support/api-client.js';
import { makePdf } from './support/pdfs.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const PIN_HOLDER: Actor = { kind: 'break-glass', osUser: 'matrix-setup' };
const ORG = { organisation: '测试合同单位', creditCode: '91350100M000100Y43', name: '合同专用章', keyAlgorithm: 'EC-P256' as const };

interface Principal {
  label: string;
  actor: Pick<Actor, 'kind'> & { roles?: string[]; scopes?: string[] };
  key: string;
  /** The client's id (system clients). */
  id?: string;
}

const principals: Principal[] = [];
/** Shared things to act on, made once by the PIN holder or by the clients that own them. */
const fixtures = { licence: '', stamp: '', proposer: '' };
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '100000', ONESEAL_RATE_LIMIT_BURST: '100000' });
  for (const role of ROLES) {
    const p = await personWithSession(stack, `matrix-${role}`, [role]);
    principals.push({ label: `person with ${role}`, actor: { kind: 'person', roles: [role] }, key: p.key });
  }
  const grants = { stamps: { seals: ['approval'] }, licences: { seals: [], licenceTypes: Object.keys(SAMPLE_DATA) }, verify: { seals: [] } } as const;
  for (const scope of SCOPES) {
    const g = grants[scope];
    const c = await addClient(stack, `matrix-${scope}`, [...g.seals], { scopes: [scope], ...('licenceTypes' in g ? { licenceTypes: [...g.licenceTypes] } : {}) });
    principals.push({ label: `client with ${scope}`, actor: { kind: 'client', scopes: [scope] }, key: c.key, id: c.id });
  }
  const licences = principals.find((p) => p.label === 'client with licences')!;
  fixtures.licence = await issueLicence(licences.key);
  const stamps = principals.find((p) => p.label === 'client with stamps')!;
  fixtures.stamp = (await stamp(stamps.key)).headers.get('stamp-id')!;
  fixtures.proposer = (await personWithSession(stack, 'matrix-proposer', ['seal-admin'])).key;
  await createSeal(stack.services, { id: 'matrix', ...ORG, isTest: true }, 'break-glass:matrix-setup');
  await importItems(stack.services, PIN_HOLDER, 'code,name,department,seal,placement\nM-1,矩阵事项,市场监管,approval,invisible\nM-2,矩阵事项二,卫健,approval,invisible\n', 'csv');
  await addCentre(stack.services, PIN_HOLDER, { code: 'matrix-centre', name: '矩阵便民服务中心' });
  await requestChange(stack.services, PIN_HOLDER, 'delegation.create', { item: 'M-2', centre: 'matrix-centre' });
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const url = (p: string) => `${stack.server.url}${p}`;

const send = (key: string, method: string, path: string, body?: unknown): Promise<Reply> => callAs(stack.server.url, { key }, method, path, body);

async function stamp(key: string): Promise<Reply> {
  return call(url('/v1/stamps?seal=approval&invisible=true&level=B-B'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: await makePdf({ pages: 1 }) });
}

async function issueLicence(key: string): Promise<string> {
  const r = await send(key, 'POST', '/v1/licences', { type: 'business-licence', data: freshSample('business-licence') });
  expect(r.status, r.bytes.toString()).toBe(201);
  return r.json<{ id: string }>().id;
}

/** A licence the principal could act on if allowed: for a licences client, one it issued itself. */
async function freshLicence(p: Principal, allowed: boolean): Promise<string> {
  if (!allowed) return fixtures.licence;
  const issuer = p.actor.kind === 'client' ? p : principals.find((x) => x.label === 'client with licences')!;
  return issueLicence(issuer.key);
}

/** A seal with a retired version (for revoking and destroying), made by the PIN holder. */
async function sealWithRetiredVersion(): Promise<string> {
  const id = unique('retired');
  await createSeal(stack.services, { id, ...ORG, isTest: true }, 'break-glass:matrix-setup');
  await performRotation(stack.services, id, 'break-glass:matrix-setup');
  return id;
}

async function freshClient(): Promise<string> {
  const name = unique('client');
  await requestChange(stack.services, PIN_HOLDER, 'client.create', { name, seals: ['approval'] });
  return name;
}

async function freshPerson(disabled = false): Promise<string> {
  const name = unique('person');
  await requestChange(stack.services, PIN_HOLDER, 'person.add', { name, roles: ['operator'] });
  if (disabled) await send(fixtures.proposer, 'POST', `/v1/admin/people/${name}/disable`);
  return name;
}

/** A pending proposal made by another seal-admin (a policy change on a seal under two-person control). */
async function pendingProposal(): Promise<string> {
  const id = unique('guarded');
  await createSeal(stack.services, { id, ...ORG, isTest: true, twoPersonControl: true }, 'break-glass:matrix-setup');
  const r = await send(fixtures.proposer, 'PUT', `/v1/admin/seals/${id}/rotation-policy`, { rotationPolicy: { everyDays: 365 } });
  expect(r.status).toBe(202);
  return r.json<{ proposal: { id: string } }>().proposal.id;
}

/** A retired licence-QR key's kid (the PIN holder rotates), so revoking it leaves a key to issue licences with. */
async function retiredQrKid(): Promise<string> {
  const outcome = await requestChange(stack.services, PIN_HOLDER, 'licence-qr.rotate', {});
  if (!outcome.executed) throw new Error('a break-glass rotation runs at once');
  return String(outcome.result.retired);
}

type Probe = (p: Principal, allowed: boolean) => Promise<Reply>;

/** For each action, the request that does it, with what it needs set up first (only where it may succeed). */
const PROBES: Record<Action, Probe> = {
  'seal.read': (p) => send(p.key, 'GET', '/v1/seals/approval'),
  'seal.admin-read': (p) => send(p.key, 'GET', '/v1/admin/seals/approval'),
  'seal.create': (p) => send(p.key, 'POST', '/v1/admin/seals', { id: unique('created'), ...ORG }),
  'seal.rotate': (p) => send(p.key, 'POST', '/v1/admin/seals/matrix/rotate'),
  'seal.revoke': async (p, ok) => send(p.key, 'POST', `/v1/admin/seals/${ok ? await sealWithRetiredVersion() : 'matrix'}/versions/1/revoke`, { reason: 'superseded' }),
  'seal.destroy-key': async (p, ok) => send(p.key, 'POST', `/v1/admin/seals/${ok ? await sealWithRetiredVersion() : 'matrix'}/versions/1/destroy-key`),
  'seal.rotation-policy': (p) => send(p.key, 'PUT', '/v1/admin/seals/matrix/rotation-policy', { rotationPolicy: { everyDays: 365 } }),
  'seal.two-person': async (p, ok) => {
    const id = ok ? unique('switch') : 'matrix';
    if (ok) await createSeal(stack.services, { id, ...ORG, isTest: true }, 'break-glass:matrix-setup');
    return send(p.key, 'PUT', `/v1/admin/seals/${id}/two-person-control`, { twoPersonControl: true });
  },
  'licence-qr.rotate': (p) => send(p.key, 'POST', '/v1/admin/licence-qr/rotate'),
  'licence-qr.revoke': async (p, ok) => send(p.key, 'POST', `/v1/admin/licence-qr/keys/${ok ? await retiredQrKid() : '0000000000000000'}/revoke`, { reason: 'superseded' }),
  'proposal.read': (p) => send(p.key, 'GET', '/v1/admin/proposals'),
  'proposal.approve': async (p) => send(p.key, 'POST', `/v1/admin/proposals/${await pendingProposal()}/approve`),
  'proposal.reject': async (p) => send(p.key, 'POST', `/v1/admin/proposals/${await pendingProposal()}/reject`),
  'client.read': (p) => send(p.key, 'GET', '/v1/admin/clients'),
  'client.create': (p) => send(p.key, 'POST', '/v1/admin/clients', { name: unique('new-client'), seals: ['approval'] }),
  'client.grant': async (p) => send(p.key, 'POST', `/v1/admin/clients/${await freshClient()}/grant`, { seals: ['matrix'] }),
  'client.ungrant': async (p) => send(p.key, 'POST', `/v1/admin/clients/${await freshClient()}/ungrant`, { seals: ['approval'] }),
  'client.rotate-key': async (p) => send(p.key, 'POST', `/v1/admin/clients/${await freshClient()}/rotate-key`),
  'client.revoke': async (p) => send(p.key, 'POST', `/v1/admin/clients/${await freshClient()}/revoke`),
  'person.read': (p) => send(p.key, 'GET', '/v1/admin/people'),
  'person.add': (p) => send(p.key, 'POST', '/v1/admin/people', { name: unique('added'), roles: ['operator'] }),
  'person.grant': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson()}/grant`, { roles: ['auditor'] }),
  'person.ungrant': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson()}/ungrant`, { roles: ['operator'] }),
  'person.disable': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson()}/disable`),
  'person.enable': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson(true)}/enable`),
  'person.reset-password': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson()}/reset-password`),
  'person.reset-totp': async (p) => send(p.key, 'POST', `/v1/admin/people/${await freshPerson()}/reset-totp`),
  'licence-type.read': (p) => send(p.key, 'GET', '/v1/licence-types'),
  'licence.issue': (p) => send(p.key, 'POST', '/v1/licences', { type: 'business-licence', data: freshSample('business-licence') }),
  'licence.read': (p) => send(p.key, 'GET', `/v1/licences/${fixtures.licence}`),
  'licence.personal-data': (p) => send(p.key, 'GET', `/v1/licences/${fixtures.licence}`),
  'licence.pdf': (p) => send(p.key, 'GET', `/v1/licences/${fixtures.licence}/pdf`),
  'licence.change': async (p, ok) => send(p.key, 'POST', `/v1/licences/${await freshLicence(p, ok)}/versions`, { data: freshSample('business-licence', { address: '北京市海淀区中关村大街1号' }) }),
  'licence.revoke': async (p, ok) => send(p.key, 'POST', `/v1/licences/${await freshLicence(p, ok)}/revoke`, { reason: '矩阵测试' }),
  'stamp.create': (p) => stamp(p.key),
  'stamp.read': (p) => send(p.key, 'GET', `/v1/stamps/${fixtures.stamp}`),
  'stamp.personal-data': (p) => send(p.key, 'GET', `/v1/stamps/${fixtures.stamp}`),
  'stamp.pdf': (p) => send(p.key, 'GET', `/v1/stamps/${fixtures.stamp}/pdf`),
  'item.read': (p) => send(p.key, 'GET', '/v1/items'),
  'item.import': (p) => send(p.key, 'POST', '/v1/items/import', [{ code: unique('imported'), name: '导入事项', department: '民政', seal: 'approval', placement: 'invisible' }]),
  'centre.read': (p) => send(p.key, 'GET', '/v1/admin/centres'),
  'centre.add': (p) => send(p.key, 'POST', '/v1/admin/centres', { code: unique('centre'), name: '新便民服务中心' }),
  // Proposals (202) where allowed: delegations always need a second seal-admin.
  'delegation.create': (p) => send(p.key, 'POST', '/v1/admin/delegations', { item: 'M-1', centre: 'matrix-centre' }),
  'delegation.revoke': (p) => send(p.key, 'POST', '/v1/admin/delegations/revoke', { item: 'M-2', centre: 'matrix-centre' }),
  'stats.read': (p) => send(p.key, 'GET', '/v1/stats/stamps?by=department'),
  'audit.read': (p) => send(p.key, 'GET', '/v1/admin/audit/entries?limit=5'),
  'audit.sign-head': (p) => send(p.key, 'POST', '/v1/admin/audit/heads'),
  'archive.renew': (p) => send(p.key, 'POST', '/v1/admin/archive/renew', { dryRun: true }),
  'archive.export': (p) => send(p.key, 'GET', `/v1/archive?stamp=${fixtures.stamp}`),
};

/** What the table says for a principal holding one role or one scope. */
function expected(p: Principal, action: Action): boolean {
  const actor = p.actor.kind === 'person'
    ? { kind: 'person' as const, id: 'x', name: 'x', roles: p.actor.roles as never, sessionId: 'x' }
    : { kind: 'client' as const, id: 'x', name: 'x', seals: [], licenceTypes: [], scopes: p.actor.scopes as never };
  return allows(actor, action);
}

const results: Record<string, Record<string, string>> = {};

/** Personal data is a way of reading: shown in full or masked, and without the reading action refused as reading is. */
const PERSONAL_DATA: Partial<Record<Action, Action>> = { 'licence.personal-data': 'licence.read', 'stamp.personal-data': 'stamp.read' };

describe.each(ACTIONS)('%s', (action) => {
  // Evaluated when the tests run (after beforeAll filled the principals): one test per cell.
  it.each([...ROLES.map((r) => `person with ${r}`), ...SCOPES.map((s) => `client with ${s}`)])('%s', async (label) => {
    const p = principals.find((x) => x.label === label)!;
    const allowed = expected(p, action);
    const r = await PROBES[action](p, allowed);
    const where = `${action} as ${label}: ${r.status} ${r.bytes.toString().slice(0, 300)}`;
    (results[action] ??= {})[label] = String(r.status);
    if (PERSONAL_DATA[action] && r.status === 200) {
      // Reading is allowed to more than personal data: the answer shows either the data or the masked form.
      const body = r.json<{ personalData?: string }>();
      expect(body.personalData === undefined, where).toBe(allowed);
      if (!allowed) expect(body.personalData).toBe('masked');
      results[action][label] = allowed ? 'full' : 'masked';
      return;
    }
    if (allowed) {
      expect([200, 201, 202, 204], where).toContain(r.status);
      return;
    }
    expect(r.status, where).toBe(403);
    const problem = r.json<{ type: string; detail: string; requiredRoles?: string[]; requiredScopes?: string[] }>();
    const rule = POLICY[PERSONAL_DATA[action] ?? action] as { roles: readonly string[]; scopes: readonly string[] };
    if (p.actor.kind === 'person') {
      expect(problem.type, where).toMatch(/role-required$/);
      expect(problem.requiredRoles).toEqual(rule.roles);
    } else {
      expect(problem.type, where).toMatch(/scope-required$/);
      expect(problem.requiredScopes).toEqual(rule.scopes);
    }
  }, 60_000);
});

describe('the matrix as run', () => {
  it('covered every cell, and prints it', () => {
    const columns = [...ROLES, ...SCOPES];
    const rows = ACTIONS.map((a) => [a.padEnd(22), ...columns.map((c, i) => (results[a]?.[i < ROLES.length ? `person with ${c}` : `client with ${c}`] ?? '?').padEnd(16))].join(' '));
    console.log([['action'.padEnd(22), ...columns.map((c) => c.padEnd(16))].join(' '), ...rows].join('\n'));
    expect(Object.keys(results).sort()).toEqual([...ACTIONS].sort());
    for (const a of ACTIONS) expect(Object.keys(results[a]!)).toHaveLength(columns.length);
  });
});
