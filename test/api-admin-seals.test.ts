import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEAL_ID } from '../src/init.js';
import { getSealVersion } from '../src/store/seals.js';
import { addClient, call, callAs, type Reply } from './support/api-client.js';
import { makePdf } from './support/pdfs.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig } from './support/validators.js';

let stack: Stack;
let base: string;
/** Two people holding seal-admin, each with a session token (a bearer like an API key). */
let adminA: { id: string; key: string };
let adminB: { id: string; key: string };
let stamper: { id: string; key: string };

// A made-up organisation whose code has a correct GB 32100 check character.
const ORG = { organisation: '测试合同单位', creditCode: '91350100M000100Y43', name: '合同专用章' };

beforeAll(async () => {
  stack = await openStack();
  base = stack.server.url;
  adminA = await personWithSession(stack, 'alice', ['seal-admin']);
  adminB = await personWithSession(stack, 'bob', ['seal-admin']);
  stamper = await addClient(stack, 'stamper', [DEFAULT_SEAL_ID]);
});
afterAll(async () => {
  await stack?.close();
});

const as = (who: { key: string }, method: string, path: string, body?: unknown): Promise<Reply> => callAs(base, who, method, path, body);

interface VersionJson {
  version: number;
  status: string;
  keyId: string;
  certSerial: string;
  revocationReason: string | null;
  destroyedAt: string | null;
}
interface SealJson {
  id: string;
  activeVersion: number | null;
  versions: VersionJson[];
  certificate: string | null;
  rotationPolicy: unknown;
  twoPersonControl: boolean;
}

async function seal(id: string): Promise<SealJson> {
  const r = await as(adminA, 'GET', `/v1/admin/seals/${id}`);
  expect(r.status).toBe(200);
  return r.json<SealJson>();
}

describe('admin seal routes: access', () => {
  it('answers 401 without a credential and 403 for a system client, naming the missing scope', async () => {
    const anonymous = await call(`${base}/v1/admin/seals`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    for (const [method, path] of [
      ['GET', '/v1/admin/seals'],
      ['GET', `/v1/admin/seals/${DEFAULT_SEAL_ID}`],
      ['POST', `/v1/admin/seals/${DEFAULT_SEAL_ID}/rotate`],
      ['POST', `/v1/admin/seals/${DEFAULT_SEAL_ID}/versions/1/destroy-key`],
      ['GET', '/v1/admin/proposals'],
    ] as const) {
      const r = await as(stamper, method, path);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json().type).toMatch(/scope-required$/);
      expect(r.json<{ detail: string }>().detail).toMatch(/client:stamper may not/);
    }
    // The refused rotation changed nothing.
    expect((await seal(DEFAULT_SEAL_ID)).activeVersion).toBe(1);
  });
});

describe('admin seal routes: lifecycle without two-person control', () => {
  it('refuses a seal with a wrong credit code check character, naming the field', async () => {
    const r = await as(adminA, 'POST', '/v1/admin/seals', { id: 'bad', ...ORG, creditCode: '91350100M000100Y44', keyAlgorithm: 'DSA' });
    expect(r.status).toBe(422);
    const fields = r.json<{ errors: { field: string; message: string }[] }>().errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['creditCode', 'keyAlgorithm']));
    expect((await as(adminA, 'GET', '/v1/admin/seals/bad')).status).toBe(404);
  });

  it('creates a seal with a certificate openssl reads, lists it, and refuses a duplicate id', async () => {
    const r = await as(adminA, 'POST', '/v1/admin/seals', { id: 'contracts', ...ORG, keyAlgorithm: 'EC-P256', certValidityDays: 365, rotationPolicy: { afterSignatures: 1000 } });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/v1/admin/seals/contracts');
    const created = r.json<SealJson>();
    expect(created).toMatchObject({ id: 'contracts', activeVersion: 1, rotationPolicy: { afterSignatures: 1000 }, twoPersonControl: false });
    expect(created.versions).toHaveLength(1);
    const serial = execFileSync('openssl', ['x509', '-noout', '-serial', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { input: created.certificate!, encoding: 'utf8' });
    expect(serial.toLowerCase()).toContain(`serial=${created.versions[0]!.certSerial.toLowerCase()}`);
    expect(serial).toContain('CN=测试合同单位合同专用章');
    expect(serial).toContain('serialNumber=contracts-v1');

    const list = await as(adminB, 'GET', '/v1/admin/seals');
    expect(list.json<{ seals: SealJson[] }>().seals.map((s) => s.id)).toEqual(expect.arrayContaining(['approval', 'contracts']));
    expect((await as(adminA, 'POST', '/v1/admin/seals', { id: 'contracts', ...ORG })).status).toBe(409);
  });

  it('rotates at once (200), destroys the retired key on the HSM, and an earlier stamp still verifies', async () => {
    const before = await stack.services.stamper.stamp(await makePdf({ pages: 1 }), { sealId: 'contracts', placement: { kind: 'invisible' } });
    expect(before.seal.version).toBe(1);

    const rotated = await as(adminA, 'POST', '/v1/admin/seals/contracts/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.json()).toMatchObject({ executed: true, result: { action: 'rotate', version: { version: 2, status: 'active' }, retired: { version: 1, status: 'retired' } } });

    // The active key cannot be destroyed.
    const refused = await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/2/destroy-key');
    expect(refused.status).toBe(409);

    const v1 = (await getSealVersion(stack.services.store.db, 'contracts', 1))!;
    expect(await stack.services.hsm.findKey(v1.keyId)).toBeDefined();
    const destroyed = await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/1/destroy-key');
    expect(destroyed.status).toBe(200);
    expect(destroyed.json()).toMatchObject({ executed: true, result: { action: 'destroy-key', version: { version: 1, status: 'destroyed' } } });
    expect(await stack.services.hsm.findKey(v1.keyId)).toBeUndefined();
    const pkcs11 = execFileSync('pkcs11-tool', ['--module', stack.services.config.hsm.modulePath, '--token-label', stack.services.config.hsm.tokenLabel,
      '--login', '--pin', stack.services.config.hsm.pin.reveal(), '--list-objects', '--type', 'privkey'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: stack.services.config.hsm.softhsmConfPath } });
    expect(pkcs11).not.toContain(v1.keyLabel);
    expect(pkcs11).toContain(`seal-contracts-v2`);

    const report = await pdfsig(stack.trust, before.pdf);
    expect(report.out).toContain('Signature Validation: Signature is Valid.');
    expect(report.out).toContain('Certificate Validation: Certificate is Trusted.');

    const shown = await seal('contracts');
    expect(shown.versions.map((v) => [v.version, v.status])).toEqual([[1, 'destroyed'], [2, 'active']]);
    expect(shown.versions[0]!.destroyedAt).not.toBeNull();
  });

  it('revokes a version with a reason (200) and validates the request first', async () => {
    const bad = await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/1/revoke', { reason: 'boredom' });
    expect(bad.status).toBe(422);
    expect((await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/x/revoke', { reason: 'superseded' })).status).toBe(400);
    expect((await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/9/revoke', { reason: 'superseded' })).status).toBe(404);
    const r = await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/1/revoke', { reason: 'superseded' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ executed: true, result: { action: 'revoke', version: { version: 1, revocationReason: 'superseded' } } });
    expect((await as(adminA, 'POST', '/v1/admin/seals/contracts/versions/1/revoke', { reason: 'superseded' })).status).toBe(409);
  });

  it('sets and removes a rotation policy, refusing a bad one', async () => {
    const set = await as(adminB, 'PUT', '/v1/admin/seals/contracts/rotation-policy', { rotationPolicy: { everyDays: 90 } });
    expect(set.status).toBe(200);
    expect(set.json()).toMatchObject({ rotationPolicy: { everyDays: 90 } });
    expect((await as(adminB, 'PUT', '/v1/admin/seals/contracts/rotation-policy', { rotationPolicy: { everyDays: -1 } })).status).toBe(422);
    const cleared = await as(adminB, 'PUT', '/v1/admin/seals/contracts/rotation-policy', { rotationPolicy: null });
    expect(cleared.json()).toMatchObject({ rotationPolicy: null });
  });
});

describe('admin licence-QR key routes', () => {
  it('rotates at once (200) and revokes the retired key (200), validating the request first; the audit log has both', async () => {
    const rotated = await as(adminA, 'POST', '/v1/admin/licence-qr/rotate');
    expect(rotated.status, rotated.bytes.toString()).toBe(200);
    const { kid, retired } = rotated.json<{ result: { kid: string; retired: string } }>().result;
    expect(kid).toMatch(/^[0-9a-f]{16}$/);
    expect(retired).toMatch(/^[0-9a-f]{16}$/);
    expect((await as(adminA, 'POST', '/v1/admin/licence-qr/keys/xyz/revoke', { reason: 'superseded' })).json().type).toMatch(/invalid-kid$/);
    expect((await as(adminA, 'POST', `/v1/admin/licence-qr/keys/${retired}/revoke`, { reason: 'bored' })).status).toBe(422);
    expect((await as(adminA, 'POST', '/v1/admin/licence-qr/keys/0000000000000000/revoke', { reason: 'superseded' })).status).toBe(404);
    const revoked = await as(adminA, 'POST', `/v1/admin/licence-qr/keys/${retired}/revoke`, { reason: 'superseded' });
    expect(revoked.status, revoked.bytes.toString()).toBe(200);
    expect(revoked.json()).toMatchObject({ executed: true, result: { action: 'revoke', kid: retired, status: 'retired', wasActive: false } });
    expect((await as(adminA, 'POST', `/v1/admin/licence-qr/keys/${retired}/revoke`, { reason: 'superseded' })).status).toBe(409);
    expect((await as(stamper, 'POST', '/v1/admin/licence-qr/rotate')).status).toBe(403);
    const trust = await (await call(`${base}/.well-known/oneseal/trust-list.json`)).json<{ payload: string }>();
    const list = JSON.parse(Buffer.from(trust.payload, 'base64url').toString()) as { licenceQr: Array<{ kid: string; status: string }> };
    expect(list.licenceQr.find((c) => c.kid === retired)?.status).toBe('revoked');
    expect(list.licenceQr.find((c) => c.kid === kid)?.status).toBe('active');
    const actions = await stack.services.store.db('audit_log').whereIn('action', ['licence-qr.rotate', 'licence-qr.revoke']).select('action', 'actor', 'subject');
    expect(actions).toEqual(expect.arrayContaining([
      { action: 'licence-qr.rotate', actor: 'person:alice', subject: kid },
      { action: 'licence-qr.revoke', actor: 'person:alice', subject: retired },
    ]));
  });
});

describe('admin seal routes: two-person control', () => {
  it('creates a seal under two-person control only when a second seal-admin approves it', async () => {
    const proposed = await as(adminA, 'POST', '/v1/admin/seals', { id: 'guarded', ...ORG, twoPersonControl: true });
    expect(proposed.status).toBe(202);
    const { proposal } = proposed.json<{ proposal: { id: string; action: string } }>();
    expect(proposal.action).toBe('seal.create');
    expect((await as(adminA, 'GET', '/v1/admin/seals/guarded')).status).toBe(404);
    const approved = await as(adminB, 'POST', `/v1/admin/proposals/${proposal.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json()).toMatchObject({ result: { id: 'guarded', twoPersonControl: true, activeVersion: 1 } });
  });

  it('keeps a rotation pending (202) until a second seal-admin approves it (200)', async () => {
    const proposed = await as(adminA, 'POST', '/v1/admin/seals/guarded/rotate');
    expect(proposed.status).toBe(202);
    const { proposal } = proposed.json<{ executed: false; proposal: { id: string; status: string; proposedBy: string } }>();
    expect(proposal).toMatchObject({ status: 'pending', proposedBy: 'person:alice' });
    expect(proposed.headers.get('location')).toBe(`/v1/admin/proposals/${proposal.id}`);
    expect((await seal('guarded')).activeVersion).toBe(1);

    const pending = await as(adminB, 'GET', '/v1/admin/proposals?status=pending');
    expect(pending.json<{ proposals: { id: string }[] }>().proposals.map((p) => p.id)).toContain(proposal.id);

    const own = await as(adminA, 'POST', `/v1/admin/proposals/${proposal.id}/approve`);
    expect(own.status).toBe(403);
    expect(own.json().type).toMatch(/same-person-approval$/);
    expect((await as(stamper, 'POST', `/v1/admin/proposals/${proposal.id}/approve`)).status).toBe(403);
    expect((await seal('guarded')).activeVersion).toBe(1);

    const approved = await as(adminB, 'POST', `/v1/admin/proposals/${proposal.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json()).toMatchObject({
      proposal: { id: proposal.id, status: 'executed', approvedBy: 'person:bob' },
      result: { action: 'rotate', version: { version: 2, status: 'active' } },
    });
    expect((await seal('guarded')).activeVersion).toBe(2);
    expect((await as(adminB, 'POST', `/v1/admin/proposals/${proposal.id}/approve`)).status).toBe(409);

    // The audit log names both people for the rotation.
    const entry = await stack.services.store.db('audit_log').where({ action: 'seal.rotate', subject: 'guarded' }).first();
    expect(entry.actor).toBe('person:bob');
    expect(JSON.parse(entry.details)).toMatchObject({ proposalId: proposal.id, proposedBy: 'person:alice', approvedBy: 'person:bob' });
  });

  it('does not run a rejected proposal', async () => {
    const proposed = await as(adminA, 'POST', '/v1/admin/seals/guarded/versions/1/destroy-key');
    expect(proposed.status).toBe(202);
    const id = proposed.json<{ proposal: { id: string } }>().proposal.id;
    const rejected = await as(adminB, 'POST', `/v1/admin/proposals/${id}/reject`);
    expect(rejected.status).toBe(200);
    expect(rejected.json()).toMatchObject({ proposal: { status: 'rejected', rejectedBy: 'person:bob' } });
    expect((await as(adminB, 'POST', `/v1/admin/proposals/${id}/approve`)).status).toBe(409);
    const v1 = (await seal('guarded')).versions.find((v) => v.version === 1)!;
    expect(v1.status).toBe('retired');
    expect(await stack.services.hsm.findKey(v1.keyId)).toBeDefined();
  });

  it('documents the admin and session operations in OpenAPI with bearer security', async () => {
    const doc = (await call(`${base}/openapi.json`)).json<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>();
    for (const [p, m] of [
      ['/v1/admin/seals', 'post'],
      ['/v1/admin/seals', 'get'],
      ['/v1/admin/seals/{id}', 'get'],
      ['/v1/admin/seals/{id}/rotate', 'post'],
      ['/v1/admin/seals/{id}/versions/{version}/revoke', 'post'],
      ['/v1/admin/seals/{id}/versions/{version}/destroy-key', 'post'],
      ['/v1/admin/seals/{id}/rotation-policy', 'put'],
      ['/v1/admin/proposals', 'get'],
      ['/v1/admin/proposals/{id}/approve', 'post'],
      ['/v1/admin/proposals/{id}/reject', 'post'],
      ['/v1/admin/seals/{id}/two-person-control', 'put'],
      ['/v1/admin/clients', 'post'],
      ['/v1/admin/clients/{ref}/grant', 'post'],
      ['/v1/admin/clients/{ref}/rotate-key', 'post'],
      ['/v1/admin/people', 'post'],
      ['/v1/admin/people/{name}/reset-totp', 'post'],
      ['/v1/admin/audit/entries', 'get'],
      ['/v1/sessions/current', 'delete'],
    ] as const) {
      expect(doc.paths[p]?.[m]?.security, `${m} ${p}`).toEqual([{ bearer: [] }]);
    }
  });
});
