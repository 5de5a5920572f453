/**
 * Long-term validity upkeep end to end: a TSA certificate made to expire in 30 days, two documents
 * stamped (B-T) while it is current, the TSA given a new certificate by `oneseal init`'s logic, then
 * `oneseal archive renew`. Verified at a time past the old TSA certificate's expiry: the renewed copy
 * is valid, the copy as first downloaded (unrenewed) is not. pdfsig and qpdf judge the renewed bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAuthority, issueAndRecord } from '../src/pki/authority.js';
import { toCertificate } from '../src/pki/der.js';
import { RENEW_LEASE } from '../src/archive/renew.js';
import { acquireLease, releaseLease } from '../src/store/leases.js';
import { putPkiKey } from '../src/store/pki.js';
import { loadDevRoot } from '../src/pki/dev-root.js';
import { verifyPdf } from '../src/verify/index.js';
import { addClient, bearer, call, callAs } from './support/api-client.js';
import { makePdf, qpdfCheck } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig, signaturesIn } from './support/validators.js';

const DAY = 24 * 3600 * 1000;
let stack: Stack;
let client: { id: string; key: string };
const stamped: { id: string; original: Buffer }[] = [];
let oldTsaExpiry: Date;

async function stampOne(): Promise<{ id: string; original: Buffer }> {
  const r = await call(`${stack.server.url}/v1/stamps?seal=approval&invisible=true`, { method: 'POST', headers: bearer(client.key, { 'Content-Type': 'application/pdf' }), body: await makePdf() });
  expect(r.status, r.bytes.toString()).toBe(200);
  return { id: r.headers.get('stamp-id')!, original: r.bytes };
}

const renew = (...args: string[]) => stack.cli(['archive', 'renew', '--break-glass', '--json', ...args]);
const anchors = () => ({ trustAnchors: [loadDevRoot().certDer] });

beforeAll(async () => {
  stack = await openStack();
  const s = stack.services;
  // The TSA's certificate ends in 30 days: what a TSA looks like a month before its certificate runs out.
  const signer = await s.hsm.generateKeyPair({ label: 'oneseal-tsa-short', algorithm: 'RSA-2048' });
  const now = new Date();
  oldTsaExpiry = new Date(now.getTime() + 30 * DAY);
  const certificate = await issueAndRecord(s.store.db, s.authority.root, {
    subjectSpki: signer.spki, subject: { country: 'CN', organization: 'OneSeal', commonName: 'OneSeal Time-Stamping Authority (short)' },
    profile: 'tsa', notBefore: new Date(now.getTime() - 60_000), notAfter: oldTsaExpiry, urls: s.authority.urls,
  });
  await putPkiKey(s.store.db, { role: 'tsa', keyId: signer.id, certificate, createdAt: now.toISOString() });
  s.authority.tsa = { signer, certificate };
  client = await addClient(stack, 'archive-lta', ['approval']);
  stamped.push(await stampOne(), await stampOne());
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('archive renew', () => {
  it('finds nothing due outside the horizon and both stamps inside it (dry run changes nothing)', async () => {
    const narrow = await renew('--due-within', '10', '--dry-run');
    expect(narrow.code, narrow.err).toBe(0);
    expect(JSON.parse(narrow.out).due).toEqual([]);
    const wide = await renew('--dry-run');
    expect(wide.code, wide.err).toBe(0);
    const due = JSON.parse(wide.out).due as { recordId: string; reason: string }[];
    expect(due.map((d) => d.recordId).sort()).toEqual(stamped.map((s) => s.id).sort());
    expect(due.every((d) => d.reason === 'expiring')).toBe(true);
    const r = await callAs(stack.server.url, client, 'GET', `/v1/stamps/${stamped[0]!.id}/pdf`);
    expect(r.bytes.equals(stamped[0]!.original)).toBe(true);
  });

  it('refuses to renew with a TSA whose own certificate expires within the horizon', async () => {
    const r = await renew();
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).blocked).toMatch(/TSA's own certificate/);
    expect(JSON.parse(r.out).renewed).toEqual([]);
  });

  it('does not run while another instance holds the renewal lease', async () => {
    const db = stack.services.store.db;
    expect(await acquireLease(db, RENEW_LEASE, 'other-instance', new Date(), 60_000)).toBe(true);
    try {
      const r = await renew();
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/running already/);
    } finally {
      await releaseLease(db, RENEW_LEASE, 'other-instance');
    }
  });

  it('after init gives the TSA a new certificate, renews both: earlier bytes kept, newest copy served, audited', async () => {
    const s = stack.services;
    const { authority, created } = await ensureAuthority({ db: s.store.db, hsm: s.hsm, publicUrl: s.config.publicUrl, allowDevRoot: true });
    expect(created).toEqual(['tsa']);
    expect(toCertificate(authority.tsa.certificate).notAfter.value.getTime()).toBeGreaterThan(Date.now() + 5 * 365 * DAY);
    s.authority.tsa = authority.tsa;

    const r = await renew();
    expect(r.code, r.err).toBe(0);
    const run = JSON.parse(r.out) as { renewed: { recordId: string; copySeq: number }[] };
    expect(run.renewed.map((x) => x.recordId).sort()).toEqual(stamped.map((x) => x.id).sort());
    expect(r.err).toContain('renewed 2/2');

    for (const { id, original } of stamped) {
      const got = await callAs(stack.server.url, client, 'GET', `/v1/stamps/${id}/pdf`);
      expect(got.status).toBe(200);
      expect(got.bytes.length).toBeGreaterThan(original.length);
      expect(got.bytes.subarray(0, original.length).equals(original)).toBe(true);
      const sigs = signaturesIn(got.bytes);
      expect(sigs.map((x) => x.docTimestamp)).toEqual([false, true]);
      expect(qpdfCheck(got.bytes).status).toBe(0);
    }
    const audit = await s.store.db('audit_log').where({ action: 'archive.renew' }).select('subject', 'actor');
    expect(audit.map((a) => a.subject).sort()).toEqual(stamped.map((x) => `stamp:${x.id}`).sort());

    // Nothing is due any more: the newest time-stamp now rests on the new TSA certificate.
    const again = await renew('--dry-run');
    expect(JSON.parse(again.out).due).toEqual([]);
  });

  it('past the old TSA certificate: the renewed copy verifies valid, the unrenewed one does not', async () => {
    const later = new Date(oldTsaExpiry.getTime() + 30 * DAY);
    const renewed = (await callAs(stack.server.url, client, 'GET', `/v1/stamps/${stamped[0]!.id}/pdf`)).bytes;
    const good = await verifyPdf(renewed, { ...anchors(), now: later });
    expect(good.verdict, JSON.stringify(good.signatures.map((x) => x.reasons))).toBe('valid');
    const seal = good.signatures.find((x) => x.kind === 'signature')!;
    expect(seal.level).toBe('B-LTA');
    expect(new Date(seal.provenTime!).getTime()).toBeLessThan(oldTsaExpiry.getTime());

    const bad = await verifyPdf(stamped[0]!.original, { ...anchors(), now: later });
    expect(bad.verdict).not.toBe('valid');
    expect(bad.signatures[0]!.reasons.map((x) => x.code)).toContain('TIMESTAMP_EXPIRED');
    // Before the old certificate expired, the original was fine: the difference is the renewal, not the document.
    const before = await verifyPdf(stamped[0]!.original, { ...anchors(), now: new Date(), ownCa: { revocationLookup: () => ({ status: 'good' }) } });
    expect(before.verdict).toBe('valid');
  });

  it('pdfsig still reports the seal signature of the renewed document valid', async () => {
    const renewed = (await callAs(stack.server.url, client, 'GET', `/v1/stamps/${stamped[1]!.id}/pdf`)).bytes;
    const { blocks } = await pdfsig(stack.trust, renewed);
    expect(blocks.length).toBe(2);
    expect(blocks[0]).toContain('Signature Validation: Signature is Valid.');
    expect(blocks[0]).toContain('Certificate is Trusted.');
  });
});
