import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants, generateKeyPairSync, privateEncrypt, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditEntryHash, verifyAuditChain } from '../src/audit/chain.js';
import { auditHeadStatement, signAuditHead, verifyAuditLog } from '../src/audit/heads.js';
import { loadConfig } from '../src/config.js';
import { listAuditHeads } from '../src/store/audit.js';
import type { DigestSigner } from '../src/hsm/types.js';
import { digestInfo } from '../src/hsm/signature-encoding.js';
import { selfSignCertificate } from '../src/pki/certificates.js';
import { getPkiKey, putPkiKey } from '../src/store/pki.js';
import { personWithSession } from './support/people.js';
import { addClient, bearer, call } from './support/api-client.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const scratch = mkdtempSync(path.join(tmpdir(), 'oneseal-heads-'));

beforeAll(async () => {
  stack = await openStack(); // the periodic signer's default interval (10 min) never fires during these tests
});
afterAll(async () => {
  await stack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const db = () => stack.services.store.db;
const auditKey = () => stack.services.authority.audit;
const sign = () => signAuditHead({ db: db(), signer: auditKey().signer, certificate: auditKey().certificate });
const verifyLog = async () => verifyAuditLog(db(), [(await getPkiKey(db(), 'audit'))!.certificate]);

async function append(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db().transaction((trx) => appendAudit(trx, { actor: 'test', action: 'test.event', subject: `s-${i}`, details: { i } }));
  }
}

/**
 * What someone with write access to the database but not to the HSM can do: change entry `seq` and
 * re-hash it and every entry after it, tip included, so the chain itself is consistent again.
 */
async function rewriteFrom(seq: number, actor: string): Promise<void> {
  const rows = await db()('audit_log').where('seq', '>=', seq).orderBy('seq');
  let prevHash = (await db()('audit_log').where({ seq: seq - 1 }).first()).hash as string;
  for (const row of rows) {
    const entry = {
      seq: Number(row.seq), at: row.at, actor: Number(row.seq) === seq ? actor : row.actor, action: row.action,
      subject: row.subject, details: JSON.parse(row.details), prevHash,
    };
    const hash = auditEntryHash(entry);
    await db()('audit_log').where({ seq: entry.seq }).update({ actor: entry.actor, prev_hash: prevHash, hash });
    prevHash = hash;
  }
  await db()('audit_tip').where({ id: 1 }).update({ hash: prevHash });
}

describe('the audit key', () => {
  it('lives in the HSM, non-extractable, certified by the root for signatures only', async () => {
    const { signer, certificate } = auditKey();
    expect(await stack.services.hsm.keyAttributes(signer.id)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
    const certFile = path.join(scratch, 'audit.crt');
    const rootFile = path.join(scratch, 'root.crt');
    writeFileSync(certFile, new X509Certificate(certificate).toString());
    writeFileSync(rootFile, new X509Certificate(stack.services.authority.root.certificate).toString());
    expect(execFileSync('openssl', ['verify', '-CAfile', rootFile, certFile], { encoding: 'utf8' })).toContain(': OK');
    const text = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/CN\s*=\s*OneSeal Audit Log Signer/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).not.toMatch(/Extended Key Usage/);
  });
});

describe('signed chain heads', () => {
  it('signs the tip once, with a signature openssl verifies under the audit certificate', async () => {
    await append(5);
    const tip = await db()('audit_tip').where({ id: 1 }).first();
    const first = await sign();
    expect(first).toMatchObject({ created: true, head: { seq: Number(tip.seq), hash: tip.hash, keyRole: 'audit' } });
    const again = await sign();
    expect(again).toEqual({ created: false, head: first!.head });
    expect((await listAuditHeads(db())).filter((h) => h.seq === first!.head.seq)).toHaveLength(1);

    const statement = path.join(scratch, 'head.json');
    const signature = path.join(scratch, 'head.sig');
    const pubkey = path.join(scratch, 'audit.pub');
    writeFileSync(statement, auditHeadStatement(first!.head));
    writeFileSync(signature, Buffer.from(first!.head.signature, 'base64'));
    writeFileSync(pubkey, new X509Certificate(auditKey().certificate).publicKey.export({ type: 'spki', format: 'pem' }));
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', pubkey, '-signature', signature, statement], { encoding: 'utf8' })).toMatch(/Verified OK/);
    expect(JSON.parse(auditHeadStatement(first!.head).toString('utf8'))).toEqual({
      statement: 'oneseal-audit-head', seq: first!.head.seq, hash: first!.head.hash, signedAt: first!.head.signedAt,
    });
  });

  it('leaves one head when two signers race for the same tip', async () => {
    await append(1);
    const before = (await listAuditHeads(db())).length;
    const results = await Promise.all([sign(), sign()]);
    expect(results.map((r) => r!.created).sort()).toEqual([false, true]);
    expect(results[0]!.head).toEqual(results[1]!.head);
    expect(await listAuditHeads(db())).toHaveLength(before + 1);
  });

  it('`oneseal audit sign-head` signs the moved tip and `audit verify` reports the heads it checked', async () => {
    await append(3);
    const signed = await stack.cli(['audit', 'sign-head', '--json']);
    expect(signed.code).toBe(0);
    const { signed: created, head } = JSON.parse(signed.out) as { signed: boolean; head: { seq: number } };
    expect(created).toBe(true);
    expect(head.seq).toBe(Number((await db()('audit_tip').where({ id: 1 }).first()).seq));
    expect(await stack.cli(['audit', 'sign-head'])).toMatchObject({ code: 0, out: expect.stringContaining(`entry ${head.seq} is signed already`) });

    const heads = await listAuditHeads(db());
    const verified = await stack.cli(['audit', 'verify', '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, heads: { checked: heads.length, latestSignedSeq: head.seq } });
    expect((await stack.cli(['audit', 'verify'])).out).toContain(`${heads.length} signed heads verified, latest signed entry ${head.seq}`);
  });

  it('POST /v1/admin/audit/heads signs for people with a role that may (here an auditor), never for a stamping client', async () => {
    const admin = await personWithSession(stack, 'audrey', ['auditor']);
    const other = await addClient(stack, 'audit-stamper', ['approval']);
    const url = `${stack.server.url}/v1/admin/audit/heads`;
    const created = await call(url, { method: 'POST', headers: bearer(admin.key) });
    expect(created.status).toBe(201);
    const body = created.json<{ signed: boolean; head: { seq: number } }>();
    expect(body.signed).toBe(true);
    // Adding the person and the client appended audit entries; the new head covers them.
    expect(body.head.seq).toBe(Number((await db()('audit_tip').where({ id: 1 }).first()).seq));
    const unchanged = await call(url, { method: 'POST', headers: bearer(admin.key) });
    expect(unchanged.status).toBe(200);
    expect(unchanged.json()).toMatchObject({ signed: false, head: { seq: body.head.seq } });
    expect((await call(url, { method: 'POST', headers: bearer(other.key) })).status).toBe(403);
    expect((await call(url, { method: 'POST' })).status).toBe(401);
    const spec = (await call(`${stack.server.url}/openapi.json`)).json<{ paths: Record<string, unknown> }>();
    expect(spec.paths['/v1/admin/audit/heads']).toHaveProperty('post');
  });

  it('fails `audit verify` naming a head whose signature was changed, on a log that is otherwise intact', async () => {
    const head = (await sign())!.head;
    expect((await stack.cli(['audit', 'verify'])).code).toBe(0);
    const bytes = Buffer.from(head.signature, 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0x01, bytes.length - 1);
    await db()('audit_heads').where({ seq: head.seq }).update({ signature: bytes.toString('base64') });
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
    const r = await stack.cli(['audit', 'verify', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, seq: head.seq, problem: 'head-signature' });
    await db()('audit_heads').where({ seq: head.seq }).update({ signature: head.signature });
    expect((await stack.cli(['audit', 'verify'])).code).toBe(0);
  });

  it('catches a consistent rewrite of entries a signed head covers, and a head re-pointed to the rewrite', async () => {
    const latest = (await sign())!.head;
    const rewritten = latest.seq - 3;
    // The first head at or after the rewritten entry is the one that catches it.
    const heads = (await listAuditHeads(db())).filter((h) => h.seq >= rewritten);
    const head = heads[0]!;
    await rewriteFrom(rewritten, 'mallory');
    expect(await verifyLog()).toMatchObject({ ok: false, seq: head.seq, problem: 'altered', message: expect.stringContaining('chain head') });
    // Refusing to sign: a new head must not vouch for the rewrite.
    await expect(sign()).rejects.toMatchObject({ code: 'audit-chain-broken', kind: 'conflict' });
    // The forger also moves the heads' hashes to the rewritten entries: the chain alone now looks fine, the signatures do not.
    for (const h of heads) {
      const entry = await db()('audit_log').where({ seq: h.seq }).first();
      await db()('audit_heads').where({ seq: h.seq }).update({ hash: entry.hash });
    }
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
    expect(await verifyLog()).toMatchObject({ ok: false, seq: head.seq, problem: 'head-signature' });
    const cli = await stack.cli(['audit', 'verify']);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`the chain head at entry ${head.seq}`);
    expect(cli.out).toContain('forged or damaged');

    // The forger swaps in a certificate of their own and re-signs the heads (they hold no
    // root key, so they self-certify): only a certificate kept outside the database catches it.
    const pinned = path.join(scratch, 'pinned-audit.crt');
    writeFileSync(pinned, new X509Certificate(auditKey().certificate).toString());
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forgerSigner: DigestSigner = {
      algorithm: 'RSA-2048',
      spki: new Uint8Array(forger.publicKey.export({ type: 'spki', format: 'der' })),
      // PKCS#1 v1.5 over a precomputed digest, as an HSM's CKM_RSA_PKCS does
      signDigest: async (hash, digest) => new Uint8Array(privateEncrypt({ key: forger.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, digest))),
    };
    const selfCert = await selfSignCertificate({ signer: forgerSigner, subject: { commonName: 'OneSeal Audit Log Signer' }, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000) });
    await putPkiKey(db(), { ...(await getPkiKey(db(), 'audit'))!, certificate: selfCert });
    for (const h of await listAuditHeads(db())) {
      const sig = cryptoSign('sha256', auditHeadStatement(h), forger.privateKey);
      await db()('audit_heads').where({ seq: h.seq }).update({ signature: sig.toString('base64') });
    }
    expect((await stack.cli(['audit', 'verify'])).code).toBe(0);
    const caught = await stack.cli(['audit', 'verify', '--certificate', pinned, '--json']);
    expect(caught.code).toBe(1);
    expect(JSON.parse(caught.out)).toMatchObject({ ok: false, problem: 'head-signature' });
    expect(await stack.cli(['audit', 'verify', '--certificate', path.join(scratch, 'head.json')])).toMatchObject({ code: 2, err: expect.stringContaining('not an X.509 certificate') });
  });
});

describe('an upgraded data dir', () => {
  it('refuses to start services without the audit key until `oneseal init` adds it', async () => {
    // As before the audit key existed: no key row, no heads (this stack's server keeps its old key object, unused from here on).
    await db()('audit_heads').delete();
    await db()('pki_keys').where({ role: 'audit' }).delete();
    const refused = await stack.cli(['audit', 'sign-head']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('run `oneseal init`');
    expect(await stack.cli(['init'])).toMatchObject({ code: 0, out: expect.stringContaining('created the audit key') });
    expect(await stack.cli(['audit', 'sign-head'])).toMatchObject({ code: 0, out: expect.stringContaining('signed the audit chain head') });
    expect((await stack.cli(['audit', 'verify'])).code).toBe(0);
  });
});

describe('the periodic signer', () => {
  it('takes its interval from ONESEAL_AUDIT_HEAD_INTERVAL_MINUTES (default 10)', () => {
    expect(loadConfig({}).auditHeadIntervalMs).toBe(10 * 60_000);
    expect(loadConfig({ ONESEAL_AUDIT_HEAD_INTERVAL_MINUTES: '2' }).auditHeadIntervalMs).toBe(2 * 60_000);
    expect(() => loadConfig({ ONESEAL_AUDIT_HEAD_INTERVAL_MINUTES: '0' })).toThrow(/ONESEAL_AUDIT_HEAD_INTERVAL_MINUTES/);
  });

  it('signs the head once it moved, without being asked', async () => {
    const other = await openStack({}, { auditHeadIntervalMs: 20 });
    try {
      const odb = other.services.store.db;
      await odb.transaction((trx) => appendAudit(trx, { actor: 'test', action: 'test.event' }));
      const tip = Number((await odb('audit_tip').where({ id: 1 }).first()).seq);
      const until = Date.now() + 30_000;
      while ((await listAuditHeads(odb)).at(-1)?.seq !== tip) {
        if (Date.now() > until) throw new Error(`no head was signed at entry ${tip}`);
        await new Promise((r) => setImmediate(r));
      }
      expect(JSON.parse((await other.cli(['audit', 'verify', '--json'])).out)).toMatchObject({ ok: true, heads: { latestSignedSeq: tip } });
    } finally {
      await other.close();
    }
  });
});
