/**
 * `oneseal client add|list|revoke` against a running server: the key printed by `add --json` works
 * on the API, `list` never shows keys, `revoke` makes the key fail with 401 at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, call } from './support/api-client.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const url = (p: string) => `${stack.server.url}${p}`;

beforeAll(async () => {
  stack = await openStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

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
    expect(JSON.parse(list.out).clients).toContainEqual(expect.objectContaining({ id, name: '一网通办', seals: ['approval'], isAdmin: false, revokedAt: null }));
    expect(list.out).not.toContain(key.slice(key.indexOf('.') + 1));

    const revoked = await stack.cli(['client', 'revoke', id]);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`revoked client ${id}`);
    const after = await call(url('/v1/seals'), { headers: bearer(key) });
    expect(after.status).toBe(401);
    expect(after.json<{ detail: string }>().detail).toMatch(/"一网通办" was revoked/);

    const audit = await stack.services.store.db('audit_log').where({ subject: id }).orderBy('seq');
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['client.create', 'client.revoke']);
    expect(audit.map((a: { details: string }) => a.details).join()).not.toContain(key);
  });

  it('prints the key once in text mode with a warning to keep it', async () => {
    const r = await stack.cli(['client', 'add', '--name', 'ops', '--admin']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/admin/);
    expect(r.out).toMatch(/shown only now[\s\S]*\nos_[0-9a-f]{16}\./);
  });

  it('refuses a seal that does not exist, a missing grant and an unknown client id with exit code 2', async () => {
    const unknownSeal = await stack.cli(['client', 'add', '--name', 'x', '--seals', 'nope']);
    expect(unknownSeal.code).toBe(2);
    expect(unknownSeal.err).toContain('There is no seal "nope"');
    const noSeals = await stack.cli(['client', 'add', '--name', 'x']);
    expect(noSeals.code).toBe(2);
    expect(noSeals.err).toContain('--seals');
    const unknownClient = await stack.cli(['client', 'revoke', 'no-such-client']);
    expect(unknownClient.code).toBe(2);
    expect(unknownClient.err).toContain('no API client "no-such-client"');
  });
});
