import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/command.js';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config.js';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { openServices } from '../src/services.js';

const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-cli-seal-'));
const env = { ONESEAL_DATA_DIR: path.join(dir, 'data'), ONESEAL_LOG_LEVEL: 'silent', ONESEAL_SESSION_FILE: path.join(dir, 'session.json') };
const ORG = ['--organisation', '测试合同单位', '--credit-code', '91350100M000100Y43', '--name', '合同专用章'];

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function json<T = Record<string, unknown>>(...argv: string[]): Promise<T> {
  const r = await run(...argv, '--json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as T;
}

interface SealJson {
  activeVersion: number | null;
  versions: { version: number; status: string; keyId: string; certSerial: string; revocationReason: string | null }[];
}

/** Logs the CLI in as one of the seal-admins the PIN holder added. */
async function loginAs(name: 'alice' | 'bob'): Promise<void> {
  const r = await run('login', '--name', name, '--password-file', path.join(dir, `${name}.password`));
  expect(r.code, r.err).toBe(0);
}

beforeAll(async () => {
  delete process.env.SOFTHSM2_CONF; // the data dir's own token store, as `npm run setup` uses
  expect((await run('init')).code).toBe(0);
  for (const name of ['alice', 'bob']) {
    const added = await json<{ password: string }>('user', 'add', '--name', name, '--roles', 'seal-admin', '--break-glass');
    writeFileSync(path.join(dir, `${name}.password`), added.password, { mode: 0o600 });
  }
  await loginAs('alice');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('oneseal seal', () => {
  it('lists the seal commands in help and refuses missing arguments with exit 2', async () => {
    const help = await run('seal');
    for (const c of ['create', 'list', 'show', 'rotate', 'revoke', 'destroy-key', 'proposals', 'approve', 'reject']) expect(help.out).toContain(`seal ${c}`);
    expect(await run('seal', 'show')).toMatchObject({ code: 2, err: expect.stringContaining('oneseal seal show ID') });
    expect(await run('seal', 'revoke', 'approval', 'one', '--reason', 'superseded')).toMatchObject({ code: 2, err: expect.stringContaining('"one" is not a version number') });
    expect(await run('seal', 'show', 'nope')).toMatchObject({ code: 2, err: expect.stringContaining('There is no seal "nope"') });
  });

  it('creates a seal after checking every field, and shows it', async () => {
    const bad = await run('seal', 'create', '--id', 'contracts', ...ORG.slice(0, 2), '--credit-code', '91350100M000100Y44', '--name', '合同专用章', '--algorithm', 'DSA', '--json');
    expect(bad.code).toBe(2);
    const problem = JSON.parse(bad.err) as { error: { code: string; message: string } };
    expect(problem.error.code).toBe('invalid-seal-request');
    expect(problem.error.message).toMatch(/creditCode check character is wrong/);
    expect(problem.error.message).toMatch(/keyAlgorithm/);

    const created = await json<SealJson & { certificate: string }>('seal', 'create', '--id', 'contracts', ...ORG, '--algorithm', 'EC-P256', '--after-signatures', '5000');
    expect(created).toMatchObject({ id: 'contracts', activeVersion: 1, keyAlgorithm: 'EC-P256', rotationPolicy: { afterSignatures: 5000 } });
    expect(execFileSync('openssl', ['verify', '-CAfile', DEV_ROOT_CERT_PATH], { input: created.certificate, encoding: 'utf8' })).toMatch(/OK/);

    const shown = await run('seal', 'show', 'contracts');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/after 5000 signatures/);
    expect(shown.out).toMatch(/v1\s+active\s+EC-P256/);
    const list = await json<{ seals: { id: string }[] }>('seal', 'list');
    expect(list.seals.map((s) => s.id)).toEqual(['approval', 'contracts']);

    // The expiry printed is the certificate's own notAfter, as openssl reads it.
    const endDate = execFileSync('openssl', ['x509', '-noout', '-enddate'], { input: created.certificate, encoding: 'utf8' }).trim().replace(/^notAfter=/, '');
    const expires = new Date(endDate).toISOString().slice(0, 10);
    expect(shown.out).toMatch(new RegExp(`v1\\s+active\\s+EC-P256.*certificate expires ${expires}`));
    const listed = await run('seal', 'list');
    expect(listed.out).toMatch(new RegExp(`^contracts .*\\n\\s+v1\\s+active\\s+EC-P256.*certificate expires ${expires}`, 'm'));
    expect(listed.out).toMatch(/^approval .*\n\s+v1\s+active .*certificate expires \d{4}-\d\d-\d\d/m);
  });

  it('rotates with progress (key → certificate → switch), then revokes and destroys the old key', async () => {
    const rotated = await run('seal', 'rotate', 'contracts', '--json');
    expect(rotated.code, rotated.err).toBe(0);
    const steps = rotated.err.split('\n').map((l) => /: (generating the key pair|issuing its certificate|switching the active version)/.exec(l)?.[1]);
    expect(steps).toEqual(['generating the key pair', 'issuing its certificate', 'switching the active version']);
    expect(JSON.parse(rotated.out)).toMatchObject({ executed: true, result: { action: 'rotate', version: { version: 2 }, retired: { version: 1 } } });

    const revoked = await run('seal', 'revoke', 'contracts', '1', '--reason', 'superseded');
    expect(revoked).toMatchObject({ code: 0, out: expect.stringContaining('version 1 revoked (superseded') });
    const v1 = (await json<SealJson>('seal', 'show', 'contracts')).versions[0]!;
    expect(v1).toMatchObject({ status: 'revoked', revocationReason: 'superseded' });

    // The CRL written by the CLI is signed by the root and lists version 1.
    const crlFile = path.join(dir, 'root.crl');
    expect((await run('pki', 'crl', '-o', crlFile)).code).toBe(0);
    const crl = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', DEV_ROOT_CERT_PATH, '-noout', '-text'], { encoding: 'utf8' });
    expect(crl.stderr).toMatch(/verify OK/);
    expect(crl.stdout.toUpperCase()).toContain(`SERIAL NUMBER: ${v1.certSerial.toUpperCase()}`);

    expect(await run('seal', 'destroy-key', 'contracts', '2')).toMatchObject({ code: 1, err: expect.stringContaining('version 2 is active') });
    const destroyed = await run('seal', 'destroy-key', 'contracts', '1');
    expect(destroyed).toMatchObject({ code: 0, out: expect.stringContaining('the key of version 1 is destroyed') });
    const services = await openServices(loadConfig(env));
    try {
      expect(await services.hsm.findKey(v1.keyId)).toBeUndefined();
      const v2 = (await json<SealJson>('seal', 'show', 'contracts')).versions[1]!;
      expect(await services.hsm.findKey(v2.keyId)).toBeDefined();
    } finally {
      await services.close();
    }
  });

  it('has no --actor any more: a made-up name is a usage error, not an identity', async () => {
    const r = await run('seal', 'rotate', 'contracts', '--actor', 'bob');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--actor'/);
  });

  it('under two-person control, two people rotate through the CLI; one alone cannot', async () => {
    const createProposal = await json<{ executed: boolean; proposal: { id: string } }>('seal', 'create', '--id', 'guarded', ...ORG, '--two-person');
    expect(createProposal.executed).toBe(false);
    await loginAs('bob');
    expect((await run('seal', 'approve', createProposal.proposal.id)).code).toBe(0);
    await loginAs('alice');

    const proposed = await json<{ executed: boolean; proposal: { id: string; proposedBy: string } }>('seal', 'rotate', 'guarded');
    expect(proposed).toMatchObject({ executed: false, proposal: { proposedBy: 'person:alice' } });
    const id = proposed.proposal.id;
    expect((await json<SealJson>('seal', 'show', 'guarded')).activeVersion).toBe(1);
    expect((await run('seal', 'proposals', '--status', 'pending')).out).toContain(id);

    const own = await run('seal', 'approve', id);
    expect(own.code).toBe(1);
    expect(own.err).toMatch(/person:alice proposed this seal.rotate of guarded and cannot approve it too/);
    // Logging in again is still alice.
    await loginAs('alice');
    expect((await run('seal', 'approve', id)).code).toBe(1);
    // The PIN holder has no approval path: --break-glass is not an option of approve.
    expect((await run('seal', 'approve', id, '--break-glass')).code).toBe(2);
    expect((await json<SealJson>('seal', 'show', 'guarded')).activeVersion).toBe(1);

    await loginAs('bob');
    const approved = await run('seal', 'approve', id, '--json');
    expect(approved.code, approved.err).toBe(0);
    expect(approved.err).toMatch(/switching the active version/);
    expect(JSON.parse(approved.out)).toMatchObject({ proposal: { status: 'executed', approvedBy: 'person:bob' }, result: { version: { version: 2 } } });
    expect((await json<SealJson>('seal', 'show', 'guarded')).activeVersion).toBe(2);

    await loginAs('alice');
    const withdrawn = await json<{ proposal: { id: string } }>('seal', 'destroy-key', 'guarded', '1');
    expect((await run('seal', 'reject', withdrawn.proposal.id)).code).toBe(0);
    const listed = await json<{ proposals: { id: string; status: string }[] }>('seal', 'proposals', '--seal', 'guarded');
    expect(listed.proposals.map((p) => [p.id, p.status])).toEqual([[createProposal.proposal.id, 'executed'], [id, 'executed'], [withdrawn.proposal.id, 'rejected']]);
  });

  it('without a login, acts only with --break-glass, which is audited as the PIN holder and runs at once', async () => {
    expect((await run('logout')).code).toBe(0);
    const refused = await run('seal', 'rotate', 'guarded');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Log in first: oneseal login --name NAME/);
    const glass = await json<{ executed: boolean; result: { version: { version: number } } }>('seal', 'rotate', 'guarded', '--break-glass');
    expect(glass).toMatchObject({ executed: true, result: { version: { version: 3 } } });
    const services = await openServices(loadConfig(env));
    try {
      const entry = await services.store.db('audit_log').where({ action: 'seal.rotate', subject: 'guarded' }).orderBy('seq', 'desc').first();
      expect(entry.actor).toMatch(/^break-glass:/);
    } finally {
      await services.close();
    }
  });
});
