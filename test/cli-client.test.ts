/**
 * `oneseal client add|list|grant|ungrant|rotate-key|revoke` as a logged-in seal-admin against a running
 * server: the key printed by `add --json` works on the API, `list` never shows keys, grants change what
 * the key may do at once, `rotate-key` keeps the client and its history, `revoke` makes the key fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, call } from './support/api-client.js';
import { addPerson, cliLogin } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const url = (p: string) => `${stack.server.url}${p}`;

beforeAll(async () => {
  stack = await openStack();
  await createSeal();
  await cliLogin(stack, await addPerson(stack, 'alice', ['seal-admin']));
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

async function createSeal(): Promise<void> {
  const r = await stack.cli(['seal', 'create', '--id', 'contracts', '--organisation', '测试合同单位', '--credit-code', '91350100M000100Y43', '--name', '合同专用章', '--algorithm', 'EC-P256', '--break-glass']);
  expect(r.code, r.err).toBe(0);
}

describe('oneseal client', () => {
  it('adds a client whose key works, lists it without the key, and revokes it (then 401)', async () => {
    const added = await stack.cli(['client', 'add', '--name', '一网通办', '--seals', 'approval', '--json']);
    expect(added.code, added.err).toBe(0);
    const { id, key } = JSON.parse(added.out) as { id: string; key: string };
    expect(key).toMatch(/^os_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);

    const seals = await call(url('/v1/seals'), { headers: bearer(key) });
    expect(seals.status).toBe(200);
    expect(seals.json<{ seals: { id: string }[] }>().seals.map((s) => s.id)).toEqual(['approval']);

    const list = await stack.cli(['client', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out).clients).toContainEqual(expect.objectContaining({ id, name: '一网通办', seals: ['approval'], scopes: ['stamps'], revokedAt: null }));
    expect(list.out).not.toContain(key.slice(key.indexOf('.') + 1));

    const revoked = await stack.cli(['client', 'revoke', '一网通办']);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`revoked client ${id}`);
    const after = await call(url('/v1/seals'), { headers: bearer(key) });
    expect(after.status).toBe(401);
    expect(after.json<{ detail: string }>().detail).toMatch(/"一网通办" was revoked/);

    const audit = await stack.services.store.db('audit_log').where({ subject: id }).orderBy('seq');
    expect(audit.map((a: { action: string; actor: string }) => [a.action, a.actor])).toEqual([['client.create', 'person:alice'], ['client.revoke', 'person:alice']]);
    expect(audit.map((a: { details: string }) => a.details).join()).not.toContain(key);
  });

  it('prints the key once in text mode with a warning to keep it; names are unique', async () => {
    const r = await stack.cli(['client', 'add', '--name', 'ops', '--seals', 'approval']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/scopes stamps/);
    expect(r.out).toMatch(/shown only now[\s\S]*\nos_[0-9a-f]{16}\./);
    const again = await stack.cli(['client', 'add', '--name', 'ops', '--seals', 'approval']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/named "ops" exists already/);
  });

  it('grants and ungrants seals at once, and the key can do exactly that', async () => {
    const { key } = JSON.parse((await stack.cli(['client', 'add', '--name', 'grants', '--seals', 'approval', '--json'])).out) as { key: string };
    const canRead = async (seal: string) => (await call(url(`/v1/seals/${seal}`), { headers: bearer(key) })).status;
    expect(await canRead('contracts')).toBe(403);
    const granted = await stack.cli(['client', 'grant', 'grants', '--seals', 'contracts', '--json']);
    expect(granted.code, granted.err).toBe(0);
    expect(JSON.parse(granted.out)).toMatchObject({ seals: ['approval', 'contracts'] });
    expect(await canRead('contracts')).toBe(200);
    expect((await stack.cli(['client', 'ungrant', 'grants', '--seals', 'contracts'])).code).toBe(0);
    expect(await canRead('contracts')).toBe(403);
  });

  it('rotates a key: the old key stops, the new one works, the client (id, grants, history) stays', async () => {
    const first = JSON.parse((await stack.cli(['client', 'add', '--name', 'rotating', '--seals', 'approval', '--json'])).out) as { id: string; key: string };
    const rotated = await stack.cli(['client', 'rotate-key', 'rotating', '--json']);
    expect(rotated.code, rotated.err).toBe(0);
    const second = JSON.parse(rotated.out) as { id: string; key: string; seals: string[] };
    expect(second).toMatchObject({ id: first.id, seals: ['approval'] });
    expect(second.key).not.toBe(first.key);
    expect((await call(url('/v1/seals'), { headers: bearer(first.key) })).status).toBe(401);
    expect((await call(url('/v1/seals'), { headers: bearer(second.key) })).status).toBe(200);
    const history = await stack.services.store.db('audit_log').where({ subject: first.id }).orderBy('seq');
    expect(history.map((a: { action: string }) => a.action)).toEqual(['client.create', 'client.rotate-key']);
  });

  it('refuses a seal that does not exist, a stamps scope without seals and an unknown client with exit code 2', async () => {
    const unknownSeal = await stack.cli(['client', 'add', '--name', 'x', '--seals', 'nope']);
    expect(unknownSeal.code).toBe(2);
    expect(unknownSeal.err).toContain('there is no seal "nope"');
    const noSeals = await stack.cli(['client', 'add', '--name', 'x']);
    expect(noSeals.code).toBe(2);
    expect(noSeals.err).toContain('--seals');
    const badScope = await stack.cli(['client', 'add', '--name', 'x', '--scopes', 'admin']);
    expect(badScope.code).toBe(2);
    expect(badScope.err).toContain('"admin" is not a scope');
    const unknownClient = await stack.cli(['client', 'revoke', 'no-such-client']);
    expect(unknownClient.code).toBe(2);
    expect(unknownClient.err).toContain('no system client "no-such-client"');
  });
});
