/**
 * Licences under the policy, over real HTTP: a client with the licences scope issues only the types it
 * was granted and acts only on the licences it issued (the ownership rule: client B can no longer
 * revoke what client A issued); licence officers act on all; the holder's personal data (full ID
 * number, birth date, address) goes to the issuing client and officers only, and auditors get the
 * masked form the public page shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSample, SAMPLE_DATA } from './licences-samples.js';
import { addClient, call, callAs, type Reply } from './support/api-client.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let a: { id: string; key: string };
let b: { id: string; key: string };
let officer: { key: string };
let auditor: { key: string };
let permit: string;
/** A residence permit valid for years to come (the sample's term may have ended). */
const PERMIT: Record<string, string> = freshSample('residence-permit', { validTo: '2099-01-09' });

beforeAll(async () => {
  stack = await openStack();
  a = await addClient(stack, 'registry-a', [], { scopes: ['licences'], licenceTypes: ['residence-permit', 'business-licence'] });
  b = await addClient(stack, 'registry-b', [], { scopes: ['licences'], licenceTypes: ['residence-permit'] });
  officer = await personWithSession(stack, 'lin', ['licence-officer']);
  auditor = await personWithSession(stack, 'audrey', ['auditor']);
  const r = await send(a, 'POST', '/v1/licences', { type: 'residence-permit', data: PERMIT });
  expect(r.status, r.bytes.toString()).toBe(201);
  permit = r.json<{ id: string }>().id;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const send = (who: { key: string }, method: string, path: string, body?: unknown): Promise<Reply> => callAs(stack.server.url, who, method, path, body);

const problem = (r: Reply) => ({ status: r.status, type: r.json<{ type: string }>().type.split('/').pop(), detail: r.json<{ detail: string }>().detail });

describe('the ownership rule', () => {
  it('lets another licences client neither read, download, change nor revoke a licence it did not issue', async () => {
    for (const [method, path, body] of [
      ['GET', `/v1/licences/${permit}`, undefined],
      ['GET', `/v1/licences/${permit}/pdf`, undefined],
      ['POST', `/v1/licences/${permit}/versions`, { data: PERMIT }],
      ['POST', `/v1/licences/${permit}/revoke`, { reason: '冒名注销' }],
    ] as const) {
      const r = problem(await send(b, method, path, body));
      expect(r, `${method} ${path}`).toMatchObject({ status: 403, type: 'licence-not-owned' });
      expect(r.detail).toMatch(/Client "registry-b" may not act on licence .*: it acts only on licences it issued itself/);
    }
    expect((await send(officer, 'GET', `/v1/licences/${permit}`)).json()).toMatchObject({ status: 'valid' });
  });

  it('issues only granted types, naming the missing grant', async () => {
    const r = problem(await send(b, 'POST', '/v1/licences', { type: 'business-licence', data: SAMPLE_DATA['business-licence'] }));
    expect(r).toMatchObject({ status: 403, type: 'licence-type-not-granted' });
    expect(r.detail).toMatch(/may not issue "business-licence" licences: that type was not granted to it \(granted: residence-permit\)/);
  });

  it('keeps the licence with its issuing client when an officer changes it', async () => {
    const changed = await send(officer, 'POST', `/v1/licences/${permit}/versions`, { data: { ...PERMIT, address: '北京市东城区东长安街1号' } });
    expect(changed.status).toBe(201);
    const v2 = changed.json<{ id: string }>().id;
    expect((await send(a, 'GET', `/v1/licences/${v2}`)).json()).toMatchObject({ id: v2, version: 2, data: { address: '北京市东城区东长安街1号' } });
    expect(problem(await send(b, 'GET', `/v1/licences/${v2}`)).type).toBe('licence-not-owned');
    const audit = await stack.services.store.db('audit_log').whereIn('subject', [permit, v2]).orderBy('seq');
    expect(audit.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([['licence.issue', 'client:registry-a'], ['licence.change', 'person:lin']]);
    permit = v2;
  });
});

describe('personal data', () => {
  it('goes to the issuing client and licence officers; auditors get the masked form the public page shows', async () => {
    const full = (await send(a, 'GET', `/v1/licences/${permit}`)).json<{ holder: { id: string }; data: Record<string, string> }>();
    expect(full.holder.id).toBe(PERMIT.idNumber);
    expect(full.data).toMatchObject({ idNumber: PERMIT.idNumber, address: '北京市东城区东长安街1号' });
    expect((await send(officer, 'GET', `/v1/licences/${permit}`)).json()).toMatchObject({ holder: { id: PERMIT.idNumber } });

    const masked = await send(auditor, 'GET', `/v1/licences/${permit}`);
    expect(masked.status).toBe(200);
    const body = masked.json<Record<string, unknown>>();
    expect(body).toMatchObject({ id: permit, status: 'valid', personalData: 'masked', holder: { masked: true } });
    expect(body.data).toBeUndefined();
    const text = masked.bytes.toString();
    for (const secret of [PERMIT.idNumber, PERMIT.idNumber.slice(6, 14), PERMIT.name, '东长安街']) expect(text).not.toContain(secret);
    const publicStatus = (await call(`${stack.server.url}/v1/licences/${permit}/status`)).json<{ holder: unknown }>();
    expect((body as { holder: unknown }).holder).toEqual(publicStatus.holder);
    // Nor may an auditor download the PDF, which holds the data.
    expect(problem(await send(auditor, 'GET', `/v1/licences/${permit}/pdf`))).toMatchObject({ status: 403, type: 'role-required' });
  });

  it('is withdrawn with the type: a client whose grant is taken away loses its own licences of that type', async () => {
    const admin = await personWithSession(stack, 'sam', ['seal-admin']);
    expect((await send(admin, 'POST', '/v1/admin/clients/registry-a/ungrant', { licenceTypes: ['residence-permit'] })).status).toBe(200);
    expect(problem(await send(a, 'GET', `/v1/licences/${permit}`))).toMatchObject({ status: 403, type: 'licence-type-not-granted' });
    expect(problem(await send(a, 'POST', `/v1/licences/${permit}/revoke`, { reason: 'x' })).type).toBe('licence-type-not-granted');
  });
});
