/**
 * Two-person control as an attacker would try it, over the real API (and the CLI where a path differs):
 * one person must never change who may use a seal alone — not by approving their own proposal, not
 * from a second session or the CLI, not as a disabled person or with an expired session, not through a
 * system client, not through the scheduler with a policy nobody approved, not by altering a proposal
 * in the database, not by racing two approvals, and not by learning both factors of another account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersonActor } from '../src/access/actors.js';
import { requestChange } from '../src/access/two-person.js';
import { performRotation } from '../src/seals/rotation.js';
import { runDueRotations } from '../src/seals/scheduler.js';
import { createSeal } from '../src/seals/service.js';
import { activeSealVersion, incrementSignatureCount, listSealVersions } from '../src/store/seals.js';
import { addClient, callAs, type Reply } from './support/api-client.js';
import { addPerson, cliLogin, loginToken, personWithSession, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
type Who = TestPerson & { key: string };
let alice: Who;
let bob: Who;
let carol: Who;
let stamper: { key: string };
const ORG = { organisation: '测试合同单位', creditCode: '91350100M000100Y43', name: '合同专用章', keyAlgorithm: 'EC-P256' as const };
const db = () => stack.services.store.db;

beforeAll(async () => {
  stack = await openStack();
  alice = await personWithSession(stack, 'alice', ['seal-admin']);
  bob = await personWithSession(stack, 'bob', ['seal-admin']);
  carol = await personWithSession(stack, 'carol', ['seal-admin']);
  stamper = await addClient(stack, 'stamper', ['approval']);
  await createSeal(stack.services, { id: 'guarded', ...ORG, isTest: true, twoPersonControl: true }, 'break-glass:setup');
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const as = (who: { key: string }, method: string, path: string, body?: unknown): Promise<Reply> => callAs(stack.server.url, who, method, path, body);

async function propose(who: { key: string }, method: string, path: string, body?: unknown): Promise<string> {
  const r = await as(who, method, path, body);
  expect(r.status, r.bytes.toString()).toBe(202);
  return r.json<{ proposal: { id: string } }>().proposal.id;
}

const versions = async (sealId: string) => (await listSealVersions(db(), sealId)).length;
const problemType = (r: Reply) => r.json<{ type: string }>().type.split('/').pop();

describe('one person alone cannot', () => {
  it('approve their own proposal, from this or a second session, or from the CLI', async () => {
    const before = await versions('guarded');
    const id = await propose(alice, 'POST', '/v1/admin/seals/guarded/rotate');
    const own = await as(alice, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([own.status, problemType(own)]).toEqual([403, 'same-person-approval']);
    const secondSession = { key: await loginToken(stack, alice) };
    expect(secondSession.key).not.toBe(alice.key);
    expect((await as(secondSession, 'POST', `/v1/admin/proposals/${id}/approve`)).status).toBe(403);
    await cliLogin(stack, alice);
    const viaCli = await stack.cli(['seal', 'approve', id]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.err).toMatch(/cannot approve it too/);
    expect(await versions('guarded')).toBe(before);
    // A different person approves: it runs once.
    expect((await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`)).status).toBe(200);
    expect(await versions('guarded')).toBe(before + 1);
  });

  it('approve as a system client, nor propose', async () => {
    const id = await propose(alice, 'POST', '/v1/admin/seals/guarded/rotate');
    const r = await as(stamper, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([r.status, problemType(r)]).toEqual([403, 'scope-required']);
    expect(r.json<{ detail: string }>().detail).toMatch(/client:stamper may not approve .*\(system clients never may\)/);
    expect((await as(stamper, 'POST', '/v1/admin/seals/guarded/rotate')).status).toBe(403);
    await as(alice, 'POST', `/v1/admin/proposals/${id}/reject`);
  });

  it('act as a disabled person: sessions end at once, logins fail, and their pending proposals cannot be approved', async () => {
    const dave = await personWithSession(stack, 'dave', ['seal-admin']);
    const id = await propose(dave, 'POST', '/v1/admin/seals/guarded/rotate');
    expect((await as(alice, 'POST', '/v1/admin/people/dave/disable')).status).toBe(200);
    const stale = await as(dave, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([stale.status, problemType(stale)]).toEqual([401, 'session-ended']);
    await expect(loginToken(stack, dave)).rejects.toThrow(/answered 401/);
    const approve = await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([approve.status, problemType(approve)]).toEqual([409, 'proposer-not-entitled']);
    // Enabling someone again is itself a change for two people.
    const enable = await propose(alice, 'POST', '/v1/admin/people/dave/enable');
    expect((await as(carol, 'POST', `/v1/admin/proposals/${enable}/approve`)).status).toBe(200);
    expect(await loginToken(stack, dave)).toMatch(/^oss_/);
  });

  it('use an expired or idle session', async () => {
    const token = await loginToken(stack, alice);
    const session = () => db()('sessions').orderBy('created_at', 'desc').first();
    const { id } = await session();
    expect((await as({ key: token }, 'GET', '/v1/admin/proposals')).status).toBe(200);
    await db()('sessions').where({ id }).update({ last_seen_at: new Date(Date.now() - 31 * 60_000).toISOString() });
    const idle = await as({ key: token }, 'GET', '/v1/admin/proposals');
    expect([idle.status, problemType(idle)]).toEqual([401, 'session-expired']);
    expect(idle.json<{ detail: string }>().detail).toMatch(/idle for more than 30 minutes/);
    const other = await loginToken(stack, alice);
    await db()('sessions').where({ id: (await session()).id }).update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    expect((await as({ key: other }, 'GET', '/v1/admin/proposals')).status).toBe(401);
  });

  it('approve a proposal that was altered in the database, or one marked approved there', async () => {
    const before = await versions('guarded');
    const altered = await propose(alice, 'POST', '/v1/admin/seals/guarded/versions/1/revoke', { reason: 'superseded' });
    await db()('proposals').where({ id: altered }).update({ params: JSON.stringify({ sealId: 'guarded', version: 2, reason: 'keyCompromise' }) });
    const r = await as(bob, 'POST', `/v1/admin/proposals/${altered}/approve`);
    expect([r.status, problemType(r)]).toEqual([409, 'proposal-tampered']);

    const forged = await propose(alice, 'POST', '/v1/admin/seals/guarded/rotate');
    const bobId = (await db()('people').where({ name: 'bob' }).first()).id;
    await db()('proposals').where({ id: forged }).update({ status: 'approved', approved_by: 'person:bob', approved_by_id: bobId, approved_at: new Date().toISOString(), approval_mac: 'x' });
    const retried = await as(carol, 'POST', `/v1/admin/proposals/${forged}/approve`);
    expect([retried.status, problemType(retried)]).toEqual([409, 'proposal-tampered']);
    expect(await versions('guarded')).toBe(before);
    expect((await db()('seal_versions').where({ seal_id: 'guarded' }).whereNotNull('revoked_at')).length).toBe(0);
  });

  it('get a proposal altered after its approval carried out on a retry', async () => {
    await createSeal(stack.services, { id: 'retry', ...ORG, isTest: true, twoPersonControl: true }, 'break-glass:setup');
    await performRotation(stack.services, 'retry', 'break-glass:setup');
    const id = await propose(alice, 'POST', '/v1/admin/seals/retry/versions/1/revoke', { reason: 'superseded' });
    // The version is revoked another way meanwhile: the approval is recorded, its execution fails.
    await requestChange(stack.services, { kind: 'break-glass', osUser: 'setup' }, 'seal.revoke', { sealId: 'retry', version: 1, reason: 'superseded' });
    const failed = await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([failed.status, problemType(failed)]).toEqual([409, 'seal-version-revoked']);
    expect((await db()('proposals').where({ id }).first()).status).toBe('approved');
    // Now someone points the approved proposal at the active version; a retry must not revoke it.
    await db()('proposals').where({ id }).update({ params: JSON.stringify({ sealId: 'retry', version: 2, reason: 'superseded' }) });
    const retried = await as(carol, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([retried.status, problemType(retried)]).toEqual([409, 'proposal-tampered']);
    expect((await db()('seal_versions').where({ seal_id: 'retry', version: 2 }).first()).revoked_at).toBeNull();
  });

  it('approve something other than what was reviewed', async () => {
    const id = await propose(alice, 'PUT', '/v1/admin/seals/guarded/rotation-policy', { rotationPolicy: { everyDays: 30 } });
    const { digest } = (await as(bob, 'GET', `/v1/admin/proposals/${id}`)).json<{ digest: string }>();
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const wrong = await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`, { digest: '0'.repeat(64) });
    expect([wrong.status, problemType(wrong)]).toEqual([409, 'proposal-changed']);
    expect((await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`, { digest })).status).toBe(200);
  });

  it('win twice with two approvals racing: the change runs once', async () => {
    const before = await versions('guarded');
    const id = await propose(alice, 'POST', '/v1/admin/seals/guarded/rotate');
    const answers = await Promise.all([as(bob, 'POST', `/v1/admin/proposals/${id}/approve`), as(carol, 'POST', `/v1/admin/proposals/${id}/approve`)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await versions('guarded')).toBe(before + 1);
    expect((await db()('audit_log').where({ action: 'seal.rotate', subject: 'guarded' })).filter((e: { details: string }) => JSON.parse(e.details).proposalId === id)).toHaveLength(1);
  });

  it('switch two-person control off, or get a system client or a person added, without a second person', async () => {
    const off = await as(alice, 'PUT', '/v1/admin/seals/guarded/two-person-control', { twoPersonControl: false });
    expect(off.status).toBe(202);
    expect((await db()('seals').where({ id: 'guarded' }).first()).two_person_control).toBeTruthy();
    // With a seal under two-person control, clients for it and people (who act on every seal) need two.
    expect((await as(alice, 'POST', '/v1/admin/clients', { name: 'sneaky', seals: ['guarded'] })).status).toBe(202);
    expect((await as(alice, 'POST', '/v1/admin/clients/stamper/grant', { seals: ['guarded'] })).status).toBe(202);
    // A new key for a client of a guarded seal would give its holder the client's use of the seal.
    await addClient(stack, 'guarded-window', ['guarded']);
    expect((await as(alice, 'POST', '/v1/admin/clients/guarded-window/rotate-key')).status).toBe(202);
    expect((await as(alice, 'POST', '/v1/admin/people', { name: 'mallory', roles: ['seal-admin'] })).status).toBe(202);
    expect((await as(alice, 'POST', '/v1/admin/people/carol/grant', { roles: ['licence-officer'] })).status).toBe(202);
    expect(await db()('api_clients').where({ name: 'sneaky' }).first()).toBeUndefined();
    expect(await db()('people').where({ name: 'mallory' }).first()).toBeUndefined();
    // Narrowing runs at once.
    expect((await as(alice, 'POST', '/v1/admin/clients/stamper/ungrant', { seals: ['guarded'] })).status).toBe(200);
  });
});

describe('the scheduler', () => {
  async function makeDue(sealId: string): Promise<void> {
    const v = (await activeSealVersion(db(), sealId))!;
    await incrementSignatureCount(db(), v.id);
  }

  it('rotates only under a policy two people approved, and names them', async () => {
    await createSeal(stack.services, { id: 'sched', ...ORG, isTest: true, twoPersonControl: true }, 'break-glass:setup');
    await makeDue('sched');
    // Written into the database behind OneSeal's back: no approval, not run.
    await db()('seals').where({ id: 'sched' }).update({ rotation_policy: JSON.stringify({ afterSignatures: 1 }) });
    let run = await runDueRotations(stack.services);
    expect(run.rotated).toEqual([]);
    expect(run.unapproved).toContainEqual({ sealId: 'sched', reason: expect.stringMatching(/carries no approval/) });

    // Proposed but not approved: the policy is not even stored.
    const id = await propose(alice, 'PUT', '/v1/admin/seals/sched/rotation-policy', { rotationPolicy: { afterSignatures: 1 } });
    await db()('seals').where({ id: 'sched' }).update({ rotation_policy: 'null' });
    expect((await runDueRotations(stack.services)).rotated).toEqual([]);

    expect((await as(bob, 'POST', `/v1/admin/proposals/${id}/approve`)).status).toBe(200);
    run = await runDueRotations(stack.services);
    expect(run.rotated.map((r) => r.sealId)).toEqual(['sched']);
    const entry = await db()('audit_log').where({ action: 'seal.rotate', subject: 'sched' }).first();
    expect(entry.actor).toBe('system:scheduler (policy approved by person:alice, person:bob)');

    // The approval is bound to the policy: a changed policy under the old approval is refused.
    await db()('seals').where({ id: 'sched' }).update({ rotation_policy: JSON.stringify({ afterSignatures: 1, everyDays: 1 }) });
    await makeDue('sched');
    run = await runDueRotations(stack.services);
    expect(run.rotated).toEqual([]);
    expect(run.unapproved).toContainEqual({ sealId: 'sched', reason: expect.stringMatching(/changed outside OneSeal/) });
  });

  it('does not run a one-person policy once the seal is under two-person control', async () => {
    await createSeal(stack.services, { id: 'solo', ...ORG, isTest: true }, 'break-glass:setup');
    expect((await as(alice, 'PUT', '/v1/admin/seals/solo/rotation-policy', { rotationPolicy: { afterSignatures: 1 } })).status).toBe(200);
    expect((await as(alice, 'PUT', '/v1/admin/seals/solo/two-person-control', { twoPersonControl: true })).status).toBe(200);
    await makeDue('solo');
    const run = await runDueRotations(stack.services);
    expect(run.rotated.map((r) => r.sealId)).not.toContain('solo');
    expect(run.unapproved).toContainEqual({ sealId: 'solo', reason: expect.stringMatching(/set by person:alice alone/) });
  });
});

describe('production', () => {
  const production = () => ({ ...stack.services, config: { ...stack.services.config, production: true } });
  const actor = async (name: string): Promise<PersonActor> => {
    const row = await db()('people').where({ name }).first();
    return { kind: 'person', id: row.id, name, roles: ['seal-admin'], sessionId: 'prod' };
  };

  it('puts every change under two-person control, and refuses to switch it off', async () => {
    await createSeal(stack.services, { id: 'relaxed', ...ORG, isTest: true }, 'break-glass:setup');
    const a = await actor('alice');
    expect((await requestChange(production(), a, 'seal.rotate', { sealId: 'relaxed' })).executed).toBe(false);
    const created = await requestChange(production(), a, 'seal.create', { id: 'prod-seal', ...ORG });
    expect(created.executed).toBe(false);
    expect(!created.executed && created.proposal.params).toMatchObject({ seal: { twoPersonControl: true } });
    await expect(requestChange(production(), a, 'seal.two-person', { sealId: 'guarded', on: false })).rejects.toMatchObject({ code: 'two-person-control-mandatory' });
    // The PIN holder's break-glass still runs at once (it holds the keys anyway), and is named as such.
    const glass = await requestChange(production(), { kind: 'break-glass', osUser: 'root' }, 'seal.rotate', { sealId: 'relaxed' });
    expect(glass.executed).toBe(true);
    expect((await db()('audit_log').where({ action: 'seal.rotate', subject: 'relaxed' }).first()).actor).toBe('break-glass:root');
  });
});

describe('people’s credentials', () => {
  it('split the factors of a new person between proposer and approver, and refuse to give both to one', async () => {
    const r = await as(alice, 'POST', '/v1/admin/people', { name: 'newbie', roles: ['auditor'] });
    expect(r.status).toBe(202);
    const { proposal, disclosed } = r.json<{ proposal: { id: string; params: Record<string, unknown> }; disclosed: { password: string } }>();
    expect(disclosed.password).toMatch(/^[A-Za-z0-9]{20}$/);
    // The stored proposal shows neither the password nor its hash.
    expect(proposal.params).toEqual({ name: 'newbie', roles: ['auditor'] });
    const approved = (await as(bob, 'POST', `/v1/admin/proposals/${proposal.id}/approve`)).json<{ result: Record<string, string> }>().result;
    expect(approved).toMatchObject({ name: 'newbie', roles: ['auditor'], totpSecret: expect.stringMatching(/^[A-Z2-7]{32}$/) });
    expect(approved.password).toBeUndefined();
    expect(await loginToken(stack, { name: 'newbie', password: disclosed.password })).toMatch(/^oss_/);

    // bob knows newbie's TOTP secret: he may not also learn a new password, by proposing it…
    const refused = await as(bob, 'POST', '/v1/admin/people/newbie/reset-password');
    expect([refused.status, problemType(refused)]).toEqual([403, 'factors-not-split']);
    // …and alice, who knows the password, may not approve a new TOTP secret for newbie.
    const totp = await propose(carol, 'POST', '/v1/admin/people/newbie/reset-totp');
    const refusedApproval = await as(alice, 'POST', `/v1/admin/proposals/${totp}/approve`);
    expect([refusedApproval.status, problemType(refusedApproval)]).toEqual([403, 'factors-not-split']);
    expect((await as(bob, 'POST', `/v1/admin/proposals/${totp}/approve`)).status).toBe(200);
  });

  it('a person added by the PIN holder gets the whole set printed once', async () => {
    const p = await addPerson(stack, 'bootstrap', ['operator']);
    expect(Object.keys(p).sort()).toEqual(['id', 'name', 'otpauthUrl', 'password', 'roles', 'totpSecret']);
    const row = await db()('people').where({ name: 'bootstrap' }).first();
    expect(JSON.stringify(row)).not.toContain(p.password);
    expect(JSON.stringify(row)).not.toContain(p.totpSecret);
    expect(row.password_known_by).toMatch(/^break-glass:/);
  });
});
