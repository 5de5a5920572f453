import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/chain.js';
import { loadConfig } from '../src/config.js';
import { OneSealError } from '../src/errors.js';
import { DEFAULT_SEAL_ID, initialise } from '../src/init.js';
import type { PersonActor } from '../src/access/actors.js';
import { approveProposal, rejectProposal, requestChange, type ChangeOutcome } from '../src/access/two-person.js';
import { performKeyDestruction, performRevocation } from '../src/seals/lifecycle.js';
import { performRotation } from '../src/seals/rotation.js';
import { ROTATION_LEASE, runDueRotations, startRotationScheduler, type RotationRun } from '../src/seals/scheduler.js';
import { createSeal, signingMaterial, type GovernedDeps } from '../src/seals/service.js';
import { openServices, type Services } from '../src/services.js';
import { knexConfig } from '../src/store/db.js';
import { getProposal } from '../src/store/approvals.js';
import { acquireLease, getLease } from '../src/store/leases.js';
import { getIssuedCertificate } from '../src/store/pki.js';
import { getSealVersion, incrementSignatureCount, listSealVersions } from '../src/store/seals.js';
import { pgTestDatabase, PG_URL, probePostgres } from './support/databases.js';

const dataDir = mkdtempSync(join(tmpdir(), 'oneseal-lifecycle-'));
const config = loadConfig({ ONESEAL_DATA_DIR: dataDir, ONESEAL_LOG_LEVEL: 'silent' });
let services: Services;
let deps: GovernedDeps;
/** seal-admins, added by the PIN holder; actors as a logged-in session would give them. */
const people: Record<'alice' | 'bob' | 'carol', PersonActor> = {} as never;

const ORG = { organisation: '测试单位', creditCode: '91350100M000100Y43', name: '合同专用章', keyAlgorithm: 'EC-P256' as const };

async function expectError(p: Promise<unknown>, code: string, kind?: string): Promise<OneSealError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OneSealError);
  expect((e as OneSealError).code).toBe(code);
  if (kind) expect((e as OneSealError).kind).toBe(kind);
  return e as OneSealError;
}

async function auditActions(): Promise<string[]> {
  return (await services.store.db('audit_log').orderBy('seq')).map((r: { action: string }) => r.action);
}

beforeAll(async () => {
  delete process.env.SOFTHSM2_CONF; // the data dir's own token, as `npm run setup` makes it
  await initialise(config, () => undefined);
  services = await openServices(config);
  deps = services;
  for (const name of ['alice', 'bob', 'carol'] as const) {
    const added = await requestChange(services, { kind: 'break-glass', osUser: 'setup' }, 'person.add', { name, roles: ['seal-admin'] });
    people[name] = { kind: 'person', id: String(added.executed && added.result.id), name, roles: ['seal-admin'], sessionId: `test-${name}` };
  }
});

const proposalOf = (o: ChangeOutcome) => {
  expect(o.executed).toBe(false);
  return (o as Extract<ChangeOutcome, { executed: false }>).proposal;
};
afterAll(async () => {
  await services?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('rotation', () => {
  it('makes a new active version, retires the old one and keeps its certificate good', async () => {
    const inFlight = await signingMaterial(deps, DEFAULT_SEAL_ID);
    expect(inFlight.version.version).toBe(1);

    const { version, retired } = await performRotation(deps, DEFAULT_SEAL_ID, 'person:alice');
    expect(version.version).toBe(2);
    expect(version.status).toBe('active');
    expect(retired?.version).toBe(1);

    const [v1, v2] = await listSealVersions(services.store.db, DEFAULT_SEAL_ID);
    expect(v1!.status).toBe('retired');
    expect(v1!.retiredAt).not.toBeNull();
    // The first version was active from its creation (issue 13: it used to say activatedAt null).
    expect(v1!.activatedAt).toBe(v1!.createdAt);
    expect(v2!.activatedAt).toBe(v1!.retiredAt);
    expect(v2!.status).toBe('active');
    expect(v2!.activatedAt).not.toBeNull();
    expect(v2!.keyId).not.toBe(v1!.keyId);

    const next = await signingMaterial(deps, DEFAULT_SEAL_ID);
    expect(next.version.version).toBe(2);
    expect(next.key.id).toBe(v2!.keyId);
    // A stamp that loaded version 1 before the rotation can still finish with its key.
    expect((await inFlight.key.signDigest('SHA-256', new Uint8Array(32))).length).toBeGreaterThan(0);

    expect((await getIssuedCertificate(services.store.db, v1!.certSerial!))?.status).toBe('good');
    expect((await getIssuedCertificate(services.store.db, v2!.certSerial!))?.status).toBe('good');
    expect((await auditActions()).at(-1)).toBe('seal.rotate');
  });

  it('keeps exactly one active version when two rotations race', async () => {
    const results = await Promise.allSettled([performRotation(deps, DEFAULT_SEAL_ID, 'person:a'), performRotation(deps, DEFAULT_SEAL_ID, 'person:b')]);
    const versions = await listSealVersions(services.store.db, DEFAULT_SEAL_ID);
    expect(versions.filter((v) => v.status === 'active')).toHaveLength(1);
    // Whichever lost either ran after the winner (a second rotation) or was refused; never two actives.
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(versions).toHaveLength(2 + ok);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as OneSealError).code).toBe('rotation-conflict');
  });
});

describe('revocation and key destruction', () => {
  it('revokes a superseded version with its reason and time', async () => {
    const v = await performRevocation(deps, DEFAULT_SEAL_ID, 1, { reason: 'superseded', actor: 'person:alice' });
    expect(v.status).toBe('revoked');
    const stored = await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 1);
    expect(stored?.revocationReason).toBe('superseded');
    const issued = await getIssuedCertificate(services.store.db, stored!.certSerial!);
    expect(issued).toMatchObject({ status: 'revoked', reason: 'superseded', revokedAt: stored!.revokedAt });
    await expectError(performRevocation(deps, DEFAULT_SEAL_ID, 1, { reason: 'keyCompromise', actor: 'person:alice' }), 'seal-version-revoked', 'conflict');
  });

  it('refuses reasons it does not support and back-dating except for key compromise', async () => {
    await expectError(performRevocation(deps, DEFAULT_SEAL_ID, 2, { reason: 'certificateHold', actor: 'x' }), 'invalid-revocation-reason', 'unprocessable');
    await expectError(
      performRevocation(deps, DEFAULT_SEAL_ID, 2, { reason: 'superseded', revokedAt: new Date(Date.now() - 3600_000), actor: 'x' }),
      'invalid-revocation-time',
    );
    await expectError(
      performRevocation(deps, DEFAULT_SEAL_ID, 2, { reason: 'keyCompromise', revokedAt: new Date(Date.now() + 3600_000), actor: 'x' }),
      'invalid-revocation-time',
    );
    expect((await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 2))?.status).not.toBe('revoked');
  });

  it('revoking the active version for key compromise (back-dated) stops stamping until a rotation', async () => {
    const active = (await signingMaterial(deps, DEFAULT_SEAL_ID)).version;
    const compromisedAt = new Date(active.notBefore!); // in the past, and not before the certificate's validity
    await performRevocation(deps, DEFAULT_SEAL_ID, active.version, { reason: 'keyCompromise', revokedAt: compromisedAt, actor: 'person:alice' });
    const issued = await getIssuedCertificate(services.store.db, active.certSerial!);
    expect(issued).toMatchObject({ status: 'revoked', reason: 'keyCompromise', revokedAt: compromisedAt.toISOString() });
    const e = await expectError(signingMaterial(deps, DEFAULT_SEAL_ID), 'seal-not-active', 'conflict');
    expect(e.message).toMatch(/rotate/);

    const { version, retired } = await performRotation(deps, DEFAULT_SEAL_ID, 'person:alice');
    expect(retired).toBeUndefined();
    expect((await signingMaterial(deps, DEFAULT_SEAL_ID)).version.version).toBe(version.version);
  });

  it('destroys a revoked version\'s key in the HSM and keeps its certificate and revocation', async () => {
    const before = (await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 1))!;
    expect(await services.hsm.findKey(before.keyId)).toBeDefined();
    const v = await performKeyDestruction(deps, DEFAULT_SEAL_ID, 1, 'person:alice');
    expect(v.status).toBe('destroyed');
    expect(await services.hsm.findKey(before.keyId)).toBeUndefined();
    const after = (await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 1))!;
    expect(after).toMatchObject({ status: 'destroyed', revocationReason: 'superseded', revokedAt: before.revokedAt });
    expect(after.destroyedAt).not.toBeNull();
    expect(after.certificate).toEqual(before.certificate);
    expect((await getIssuedCertificate(services.store.db, before.certSerial!))?.status).toBe('revoked');
    await expectError(performKeyDestruction(deps, DEFAULT_SEAL_ID, 1, 'person:alice'), 'seal-key-destroyed', 'conflict');
  });

  it('refuses to destroy the key that is signing', async () => {
    const active = (await signingMaterial(deps, DEFAULT_SEAL_ID)).version;
    await expectError(performKeyDestruction(deps, DEFAULT_SEAL_ID, active.version, 'person:alice'), 'seal-version-in-use', 'conflict');
    expect(await services.hsm.findKey(active.keyId)).toBeDefined();
  });
});

describe('two-person control', () => {
  beforeAll(async () => {
    await createSeal(deps, { id: 'dual', ...ORG, twoPersonControl: true }, 'person:setup');
  });

  it('turns a change on a seal under two-person control into a proposal that changes nothing yet', async () => {
    const p = proposalOf(await requestChange(deps, people.alice, 'seal.revoke', { sealId: 'dual', version: 1, reason: 'superseded' }));
    expect(p).toMatchObject({ status: 'pending', proposedBy: 'person:alice', proposedById: people.alice.id });
    expect((await getSealVersion(services.store.db, 'dual', 1))?.status).toBe('active');
    await rejectProposal(deps, people.alice, p.id);
  });

  it('runs a proposal only when a second person approves it', async () => {
    const id = proposalOf(await requestChange(deps, people.alice, 'seal.rotate', { sealId: 'dual' })).id;
    expect((await getProposal(services.store.db, id))?.status).toBe('pending');
    expect(await listSealVersions(services.store.db, 'dual')).toHaveLength(1);

    const e = await expectError(approveProposal(deps, people.alice, id), 'same-person-approval', 'forbidden');
    expect(e.message).toMatch(/different seal-admin/);
    // Another session of the same person is the same person.
    await expectError(approveProposal(deps, { ...people.alice, sessionId: 'another-session' }, id), 'same-person-approval', 'forbidden');
    expect((await getProposal(services.store.db, id))?.status).toBe('pending');
    expect(await listSealVersions(services.store.db, 'dual')).toHaveLength(1);

    const { proposal, result } = await approveProposal(deps, people.bob, id);
    expect(proposal).toMatchObject({ status: 'executed', proposedBy: 'person:alice', approvedBy: 'person:bob' });
    expect(result).toMatchObject({ action: 'rotate', version: { version: 2 } });
    expect((await signingMaterial(deps, 'dual')).version.version).toBe(2);
    await expectError(approveProposal(deps, people.carol, id), 'proposal-closed', 'conflict');
    expect(await listSealVersions(services.store.db, 'dual')).toHaveLength(2);
  });

  it('revokes and destroys through proposals; a rejected proposal never runs', async () => {
    const revoke = proposalOf(await requestChange(deps, people.alice, 'seal.revoke', { sealId: 'dual', version: 1, reason: 'superseded' }));
    expect((await getSealVersion(services.store.db, 'dual', 1))?.status).toBe('retired');
    await approveProposal(deps, people.bob, revoke.id);
    expect((await getSealVersion(services.store.db, 'dual', 1))?.status).toBe('revoked');

    const destroy = proposalOf(await requestChange(deps, people.alice, 'seal.destroy-key', { sealId: 'dual', version: 1 }));
    const rejected = await rejectProposal(deps, people.carol, destroy.id);
    expect(rejected).toMatchObject({ status: 'rejected', rejectedBy: 'person:carol' });
    await expectError(approveProposal(deps, people.bob, destroy.id), 'proposal-closed');
    const v1 = (await getSealVersion(services.store.db, 'dual', 1))!;
    expect(await services.hsm.findKey(v1.keyId)).toBeDefined();

    const again = proposalOf(await requestChange(deps, people.bob, 'seal.destroy-key', { sealId: 'dual', version: 1 }));
    await approveProposal(deps, people.alice, again.id);
    expect(await services.hsm.findKey(v1.keyId)).toBeUndefined();
  });

  it('refuses a proposal that could never run', async () => {
    await expectError(requestChange(deps, people.alice, 'seal.destroy-key', { sealId: 'dual', version: 2 }), 'seal-version-in-use');
    await expectError(requestChange(deps, people.alice, 'seal.revoke', { sealId: 'dual', version: 9, reason: 'superseded' }), 'seal-version-not-found', 'not-found');
    await expectError(requestChange(deps, people.alice, 'seal.rotate', { sealId: 'nope' }), 'seal-not-found', 'not-found');
  });

  it('runs requests at once on a seal without two-person control', async () => {
    const before = (await signingMaterial(deps, DEFAULT_SEAL_ID)).version.version;
    const outcome = await requestChange(deps, people.alice, 'seal.rotate', { sealId: DEFAULT_SEAL_ID });
    expect(outcome.executed).toBe(true);
    expect((await signingMaterial(deps, DEFAULT_SEAL_ID)).version.version).toBe(before + 1);
  });
});

describe('scheduled rotation', () => {
  beforeAll(async () => {
    await createSeal(deps, { id: 'sched', ...ORG }, 'person:setup');
  });
  const setPolicy = (d: GovernedDeps, sealId: string, policy: unknown) => requestChange(d, people.alice, 'seal.rotation-policy', { sealId, policy });

  it('validates the policy', async () => {
    await expectError(setPolicy(deps, 'sched', { everyDays: -1 }), 'invalid-rotation-policy', 'unprocessable');
    await expectError(setPolicy(deps, 'sched', { weekly: true }), 'invalid-rotation-policy');
  });

  it('rotates a seal once when two instances run the schedule at the same time', async () => {
    await setPolicy(deps, 'sched', { afterSignatures: 2 });
    const active = (await signingMaterial(deps, 'sched')).version;
    const now = new Date();
    expect((await runDueRotations(deps, now)).rotated).toHaveLength(0);
    await incrementSignatureCount(services.store.db, active.id);
    await incrementSignatureCount(services.store.db, active.id);

    // A second instance: its own connection to the same database file.
    const other = knex(knexConfig(config.database));
    try {
      const otherDeps: GovernedDeps = { ...deps, store: { db: other, reads: other, close: () => other.destroy() } };
      const runs = await Promise.all([runDueRotations(deps, now), runDueRotations(otherDeps, now)]);
      const rotations = runs.flatMap((r) => r.rotated);
      expect(rotations.map((r) => r.sealId)).toEqual(['sched']);
      expect(runs.flatMap((r) => r.failed)).toEqual([]);
    } finally {
      await other.destroy();
    }
    const versions = await listSealVersions(services.store.db, 'sched');
    expect(versions.map((v) => v.status)).toEqual(['retired', 'active']);
    expect(await getLease(services.store.db, ROTATION_LEASE)).toBeUndefined();
  });

  it('does nothing while another instance holds the lease, and takes over an expired one', async () => {
    await setPolicy(deps, 'sched', { everyDays: 30 });
    const later = new Date(Date.now() + 31 * 24 * 3600_000);
    expect(await acquireLease(services.store.db, ROTATION_LEASE, 'other-instance', later, 60_000)).toBe(true);
    expect(await runDueRotations(deps, later)).toEqual({ ran: false, rotated: [], failed: [], unapproved: [] });
    expect(await listSealVersions(services.store.db, 'sched')).toHaveLength(2);

    const afterExpiry = new Date(later.getTime() + 60_000);
    const run = await runDueRotations(deps, afterExpiry);
    expect(run.ran).toBe(true);
    expect(run.rotated.map((r) => r.sealId)).toEqual(['sched']);
    expect(run.rotated[0]!.reason).toMatch(/every 30 days/);
  });

  it('the scheduler rotates due seals on its timer and stops', async () => {
    await setPolicy(deps, 'sched', { afterSignatures: 1 });
    const active = (await signingMaterial(deps, 'sched')).version;
    await incrementSignatureCount(services.store.db, active.id);
    let stop: (() => Promise<void>) | undefined;
    const run = await new Promise<RotationRun>((resolve, reject) => {
      stop = startRotationScheduler(deps, { intervalMs: 10, onRun: (r) => r.rotated.length && resolve(r), onError: reject });
    });
    await stop!();
    expect(run.rotated[0]!.rotation.retired?.version).toBe(active.version);
    expect((await signingMaterial(deps, 'sched')).version.version).toBe(active.version + 1);
  });
});

// The same races on PostgreSQL, where transactions really run in parallel (a pool of connections).
const pg = await probePostgres();
describe.skipIf(!pg.ok)(`on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const db = pgTestDatabase();
  const schema = db.database.client === 'pg' ? db.database.schema! : '';
  const pgConfig = loadConfig({ ONESEAL_DATA_DIR: dataDir, ONESEAL_LOG_LEVEL: 'silent', ONESEAL_DATABASE_URL: `${PG_URL}?schema=${schema}` });
  let pgServices: Services;
  let pgAlice: PersonActor;
  let pgDeps: GovernedDeps;
  beforeAll(async () => {
    await initialise(pgConfig, () => undefined);
    pgServices = await openServices(pgConfig);
    pgDeps = pgServices;
    const added = await requestChange(pgServices, { kind: 'break-glass', osUser: 'setup' }, 'person.add', { name: 'alice', roles: ['seal-admin'] });
    pgAlice = { kind: 'person', id: String(added.executed && added.result.id), name: 'alice', roles: ['seal-admin'], sessionId: 'pg' };
  });
  afterAll(async () => {
    await pgServices?.close();
    await db.cleanup();
  });

  it('two racing rotations leave one active version', async () => {
    const results = await Promise.allSettled([performRotation(pgDeps, DEFAULT_SEAL_ID, 'person:a'), performRotation(pgDeps, DEFAULT_SEAL_ID, 'person:b')]);
    const versions = await listSealVersions(pgServices.store.db, DEFAULT_SEAL_ID);
    expect(versions.filter((v) => v.status === 'active')).toHaveLength(1);
    expect(versions).toHaveLength(1 + results.filter((r) => r.status === 'fulfilled').length);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as OneSealError).code).toBe('rotation-conflict');
  });

  it('concurrent scheduled runs rotate once', async () => {
    await requestChange(pgServices, pgAlice, 'seal.rotation-policy', { sealId: DEFAULT_SEAL_ID, policy: { afterSignatures: 1 } });
    const active = (await signingMaterial(pgDeps, DEFAULT_SEAL_ID)).version;
    await incrementSignatureCount(pgServices.store.db, active.id);
    const now = new Date();
    const runs = await Promise.all([1, 2, 3].map(() => runDueRotations(pgDeps, now)));
    expect(runs.flatMap((r) => r.rotated)).toHaveLength(1);
    expect(runs.flatMap((r) => r.failed)).toEqual([]);
    expect((await signingMaterial(pgDeps, DEFAULT_SEAL_ID)).version.version).toBe(active.version + 1);
    expect(await verifyAuditChain(pgServices.store.db)).toMatchObject({ ok: true });
  });
});

describe('audit', () => {
  it('recorded every step and the chain verifies', async () => {
    const actions = await auditActions();
    for (const a of ['seal.rotate', 'seal.revoke', 'seal.destroy-key', 'proposal.create', 'proposal.approve', 'proposal.reject', 'seal.rotation-policy', 'person.add']) {
      expect(actions).toContain(a);
    }
    const rotateByScheduler = await services.store.db('audit_log').where({ action: 'seal.rotate' }).andWhere('actor', 'like', 'system:scheduler%');
    expect(rotateByScheduler.length).toBe(3);
    // The scheduler names who approved the policy it carried out.
    expect(new Set(rotateByScheduler.map((r: { actor: string }) => r.actor))).toEqual(new Set(['system:scheduler (policy approved by person:alice)']));
    expect(await verifyAuditChain(services.store.db)).toMatchObject({ ok: true });
  });
});
