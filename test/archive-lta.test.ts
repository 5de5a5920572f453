/**
 * Long-term validity upkeep end to end: a TSA certificate made to expire in 30 days, two documents
 * stamped (B-T) while it is current, the TSA given a new certificate by `oneseal init`'s logic, then
 * `oneseal archive renew`. Verified at a time past the old TSA certificate's expiry: the renewed copy
 * is valid, the copy as first downloaded (unrenewed) is not. pdfsig and qpdf judge the renewed bytes.
 * The same for an exported ASiC-E package in a directory (`--packages DIR`): renewed with an archive
 * manifest and its time-stamp, it verifies past the old certificate — also through the real CLI run
 * under libfaketime at that date — while the unrenewed copy is indeterminate.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addArchiveTimestamp } from '../src/archive/package-renew.js';
import { verifyPackage } from '../src/archive/verify-package.js';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { localTimestamper } from '../src/pki/services.js';
import { readZip } from '../src/zip/read.js';
import { zip } from '../src/zip/write.js';
import { ensureAuthority, issueAndRecord } from '../src/pki/authority.js';
import { toCertificate } from '../src/pki/der.js';
import { RENEW_LEASE } from '../src/archive/renew.js';
import { acquireLease, releaseLease } from '../src/store/leases.js';
import { getPkiKey, putPkiKey } from '../src/store/pki.js';
import { describeNewestTimestamp } from '../src/archive/documents.js';
import { loadDevRoot } from '../src/pki/dev-root.js';
import { verifyPdf } from '../src/verify/index.js';
import { addClient, bearer, call, callAs } from './support/api-client.js';
import { makePdf, qpdfCheck, scratchDir } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig, signaturesIn } from './support/validators.js';

const DAY = 24 * 3600 * 1000;
let stack: Stack;
let client: { id: string; key: string };
const stamped: { id: string; original: Buffer }[] = [];
let oldTsaExpiry: Date;
const scratch = scratchDir();
const packagesDir = scratch.file('packages');
const packageFile = path.join(packagesDir, '2026', 'case.asice');
let unrenewedPackage: Buffer;
/** The stamp packaged (raised to B-LTA by the export, with the short-lived TSA too). */
let packagedId: string;
const documentIds = () => [...stamped.map((x) => x.id), packagedId].sort();

async function stampOne(): Promise<{ id: string; original: Buffer }> {
  const r = await call(`${stack.server.url}/v1/stamps?seal=approval&invisible=true`, { method: 'POST', headers: bearer(client.key, { 'Content-Type': 'application/pdf' }), body: await makePdf() });
  expect(r.status, r.bytes.toString()).toBe(200);
  return { id: r.headers.get('stamp-id')!, original: r.bytes };
}

const renew = (...args: string[]): ReturnType<Stack['cli']> => stack.cli(['archive', 'renew', '--break-glass', '--json', ...args]);
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
  packagedId = (await stampOne()).id;
  mkdirSync(path.dirname(packageFile), { recursive: true });
  const e = await stack.cli(['archive', 'export', '--stamp', packagedId, '-o', packageFile, '--break-glass']);
  expect(e.code, e.err).toBe(0);
  unrenewedPackage = readFileSync(packageFile);
}, 180_000);
afterAll(async () => {
  await stack?.close();
  scratch.cleanup();
});

const rootAnchors = () => {
  const der = loadDevRoot().certDer;
  return { der: [der], parsed: [toCertificate(der)] };
};
const checkPackage = (bytes: Buffer, now: Date) => verifyPackage(bytes, rootAnchors().der, rootAnchors().parsed, now);

describe('archive renew', () => {
  it('finds nothing due outside the horizon and both stamps inside it (dry run changes nothing)', async () => {
    const narrow = await renew('--due-within', '10', '--dry-run');
    expect(narrow.code, narrow.err).toBe(0);
    expect(JSON.parse(narrow.out).due).toEqual([]);
    const wide = await renew('--dry-run');
    expect(wide.code, wide.err).toBe(0);
    const due = JSON.parse(wide.out).due as { recordId: string; reason: string }[];
    expect(due.map((d) => d.recordId).sort()).toEqual(documentIds());
    expect(due.every((d) => d.reason === 'expiring')).toBe(true);
    const withPackages = await renew('--dry-run', '--packages', packagesDir);
    expect(JSON.parse(withPackages.out).packages.due).toEqual([expect.objectContaining({ file: packageFile, reason: 'expiring' })]);
    expect(readFileSync(packageFile).equals(unrenewedPackage)).toBe(true);
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
    expect(run.renewed.map((x) => x.recordId).sort()).toEqual(documentIds());
    expect(r.err).toContain('renewed 3/3');

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
    expect(audit.map((a) => a.subject).sort()).toEqual([...documentIds(), packagedId].map((id) => `stamp:${id}`).sort()); // the packaged one: raised by the export, then renewed

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

  it('renews the package in --packages DIR: an archive manifest over every entry, time-stamped; every entry kept byte for byte; audited', async () => {
    const r = await renew('--packages', packagesDir);
    expect(r.code, r.err + r.out).toBe(0);
    const run = JSON.parse(r.out) as { renewed: unknown[]; packages: { renewed: { file: string; timestamp: string }[] } };
    expect(run.renewed).toEqual([]);
    expect(run.packages.renewed).toEqual([expect.objectContaining({ file: packageFile, timestamp: 'META-INF/timestamp001.tst' })]);
    expect(r.err).toContain(`renewed 1/1: ${packageFile}`);
    const before = readZip(unrenewedPackage);
    const after = readZip(readFileSync(packageFile));
    expect(after[0]!.name).toBe('mimetype');
    for (const e of before) expect(after.find((x) => x.name === e.name)!.data.equals(e.data), e.name).toBe(true);
    expect(after.slice(-2).map((e) => e.name)).toEqual(['META-INF/timestamp001.tst', 'META-INF/ASiCArchiveManifest.xml']);
    const manifest = after.at(-1)!.data.toString();
    for (const e of before.filter((x) => x.name !== 'mimetype')) expect(manifest).toContain(`URI="${e.name}"`);
    expect(manifest).toContain('<asic:SigReference URI="META-INF/timestamp001.tst" MimeType="application/vnd.etsi.timestamp-token"/>');
    // openssl agrees the token stamps the archive manifest.
    const dir = scratch.file('renewed');
    mkdirSync(dir);
    spawnSync('unzip', ['-q', packageFile, '-d', dir]);
    const ts = spawnSync('openssl', ['ts', '-verify', '-data', path.join(dir, 'META-INF/ASiCArchiveManifest.xml'), '-in', path.join(dir, 'META-INF/timestamp001.tst'), '-token_in', '-CAfile', DEV_ROOT_CERT_PATH], { encoding: 'utf8' });
    expect(ts.stdout + ts.stderr).toContain('Verification: OK');
    const audit = await stack.services.store.db('audit_log').where({ action: 'archive.renew-package' }).select('subject');
    expect(audit.map((a) => a.subject)).toEqual(['package:case.asice']);
    expect(JSON.parse((await renew('--dry-run', '--packages', packagesDir)).out).packages.due).toEqual([]);
    expect((await renew('--packages', scratch.file('nowhere'))).code).toBe(2);
  });

  it('does not time-stamp an altered package again (that would launder it): it fails, named, and stays as it was', async () => {
    const dir = scratch.file('tampered');
    mkdirSync(dir);
    const altered = zip(readZip(unrenewedPackage).map((e) => ({ name: e.name, data: e.name === 'metadata.json' ? Buffer.from(e.data.toString().replace(packagedId, 'someone-else')) : e.data })));
    const file = path.join(dir, 'altered.asice');
    writeFileSync(file, altered);
    const r = await renew('--packages', dir);
    expect(r.code).toBe(1);
    const failed = JSON.parse(r.out).packages.failed as { file: string; error: string }[];
    expect(failed).toEqual([{ file, error: expect.stringMatching(/^it does not verify \(invalid: metadata\.json does not have the SHA-256/) }]);
    expect(readFileSync(file).equals(altered)).toBe(true);
  });

  it('past the old TSA certificate: the renewed package verifies valid through its archive time-stamp, the unrenewed one is indeterminate', async () => {
    const later = new Date(oldTsaExpiry.getTime() + 30 * DAY);
    const renewed = readFileSync(packageFile);
    const good = await checkPackage(renewed, later);
    expect(good.verdict, JSON.stringify(good.problems)).toBe('valid');
    expect(good.archiveTimestamps.map((a) => a.entry)).toEqual(['META-INF/timestamp001.tst']);
    // The document's own time-stamps ran out with the old certificate: it is judged as of the sealing time.
    expect(good.documents).toEqual([expect.objectContaining({ entry: `documents/stamp-${packagedId}.pdf`, verdict: 'valid', at: good.signedAt })]);
    expect(new Date(good.signedAt!).getTime()).toBeLessThan(oldTsaExpiry.getTime());
    const bad = await checkPackage(unrenewedPackage, later);
    expect(bad.verdict).toBe('indeterminate');
    expect(bad.problems).toContainEqual(expect.objectContaining({ entry: 'META-INF/signature.p7s', message: expect.stringMatching(/expired before .*renew the package/) }));
    // Today both verify: the difference is the renewal.
    expect((await checkPackage(unrenewedPackage, new Date())).verdict).toBe('valid');
  });

  it('the CLI under libfaketime, past the old TSA certificate: exit 0 for the renewed package, 3 for the unrenewed one', () => {
    const at = new Date(oldTsaExpiry.getTime() + 30 * DAY).toISOString().replace('T', ' ').slice(0, 19);
    const unrenewedFile = scratch.file('unrenewed.asice');
    writeFileSync(unrenewedFile, unrenewedPackage);
    const run = (file: string) => spawnSync('faketime', [at, process.execPath, path.resolve('bin/oneseal'), 'archive', 'verify', file, '--trust', DEV_ROOT_CERT_PATH, '--json'], { encoding: 'utf8', timeout: 60_000 });
    const clock = spawnSync('faketime', [at, process.execPath, '-e', 'console.log(new Date().toISOString())'], { encoding: 'utf8' });
    expect(clock.stdout.slice(0, 10)).toBe(at.slice(0, 10));
    const good = run(packageFile);
    expect(good.status, good.stdout + good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).documents[0].at).toBeDefined();
    const bad = run(unrenewedFile);
    expect(bad.status, bad.stdout + bad.stderr).toBe(3);
  });

  it('a second renewal chains: the first archive manifest kept under its number, named by the next; tampering with any link is named', async () => {
    const s = stack.services;
    const { asice } = await addArchiveTimestamp(readFileSync(packageFile), localTimestamper({ store: s.store, authority: s.authority }), new Date());
    const names = readZip(asice).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['META-INF/ASiCArchiveManifest001.xml', 'META-INF/timestamp001.tst', 'META-INF/timestamp002.tst', 'META-INF/ASiCArchiveManifest.xml']));
    const later = new Date(oldTsaExpiry.getTime() + 30 * DAY);
    const twice = await checkPackage(asice, later);
    expect(twice.verdict, JSON.stringify(twice.problems)).toBe('valid');
    expect(twice.archiveTimestamps.map((a) => [a.entry, a.manifest])).toEqual([
      ['META-INF/timestamp001.tst', 'META-INF/ASiCArchiveManifest001.xml'],
      ['META-INF/timestamp002.tst', 'META-INF/ASiCArchiveManifest.xml'],
    ]);
    const rezip = (change: (es: { name: string; data: Buffer }[]) => { name: string; data: Buffer }[]) => zip(change(readZip(asice).map((e) => ({ name: e.name, data: e.data }))));
    const flip = (name: string) => rezip((es) => es.map((e) => (e.name === name ? { name, data: Buffer.concat([e.data.subarray(0, -1), Buffer.from([e.data.at(-1)! ^ 1])]) } : e)));
    for (const name of ['META-INF/timestamp001.tst', 'META-INF/ASiCArchiveManifest001.xml']) {
      const r = await checkPackage(flip(name), later);
      expect(r.verdict, name).toBe('invalid');
      expect(r.problems.map((p) => p.entry)).toContain(name);
    }
    const added = await checkPackage(rezip((es) => [...es, { name: 'documents/late.pdf', data: Buffer.from('%PDF-1.4\n') }]), later);
    expect(added.verdict).toBe('invalid');
    expect(added.problems).toContainEqual(expect.objectContaining({ kind: 'added', entry: 'documents/late.pdf' }));
    const removed = await checkPackage(rezip((es) => es.filter((e) => e.name !== 'META-INF/timestamp001.tst')), later);
    expect(removed.verdict).toBe('invalid');
    expect(removed.problems).toContainEqual(expect.objectContaining({ kind: 'removed', entry: 'META-INF/timestamp001.tst' }));
  });

  it('weakening digests: a document whose time-stamp relies on one is due and renewed with the stronger digest; renewing with a weak one is refused', async () => {
    const s = stack.services;
    // A TSA signing with SHA-384 (EC P-384) stamps one document, then the RSA (SHA-256) TSA comes back.
    const saved = (await getPkiKey(s.store.db, 'tsa'))!;
    const savedTsa = s.authority.tsa;
    const signer = await s.hsm.generateKeyPair({ label: 'oneseal-tsa-p384', algorithm: 'EC-P384' });
    const certificate = await issueAndRecord(s.store.db, s.authority.root, {
      subjectSpki: signer.spki, subject: { country: 'CN', organization: 'OneSeal', commonName: 'OneSeal Time-Stamping Authority (P-384)' },
      profile: 'tsa', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 5 * 365 * DAY), urls: s.authority.urls,
    });
    await putPkiKey(s.store.db, { role: 'tsa', keyId: signer.id, certificate, createdAt: new Date().toISOString() });
    s.authority.tsa = { signer, certificate };
    let weakOne: { id: string; original: Buffer };
    try {
      weakOne = await stampOne();
    } finally {
      await putPkiKey(s.store.db, saved);
      s.authority.tsa = savedTsa;
    }
    expect(describeNewestTimestamp(weakOne.original)!.digests.sort()).toEqual(['SHA-256', 'SHA-384']);
    const sha384Weak = { ONESEAL_ARCHIVE_WEAK_DIGESTS: 'SHA-384' };

    const dry = await stack.cli(['archive', 'renew', '--break-glass', '--json', '--dry-run'], sha384Weak);
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out).due).toEqual([expect.objectContaining({ recordId: weakOne.id, reason: 'weakening' })]);
    const r = await stack.cli(['archive', 'renew', '--break-glass', '--json'], sha384Weak);
    expect(r.code, r.err + r.out).toBe(0);
    expect(JSON.parse(r.out).renewed).toEqual([expect.objectContaining({ recordId: weakOne.id, reason: 'weakening' })]);
    const served = (await callAs(stack.server.url, client, 'GET', `/v1/stamps/${weakOne.id}/pdf`)).bytes;
    expect(served.subarray(0, weakOne.original.length).equals(weakOne.original)).toBe(true);
    expect(describeNewestTimestamp(served)!.digests).toEqual(['SHA-256']);
    expect(JSON.parse((await stack.cli(['archive', 'renew', '--break-glass', '--json', '--dry-run'], sha384Weak)).out).due).toEqual([]);

    // With SHA-256 itself weakening, everything is due — documents and packages — but a renewal would use SHA-256 again: refused.
    const sha256Weak = { ONESEAL_ARCHIVE_WEAK_DIGESTS: 'SHA-256' };
    const all = JSON.parse((await stack.cli(['archive', 'renew', '--break-glass', '--json', '--dry-run', '--packages', packagesDir], sha256Weak)).out);
    expect(all.due.map((d: { recordId: string }) => d.recordId).sort()).toEqual([...documentIds(), weakOne.id].sort());
    expect(all.packages.due).toEqual([expect.objectContaining({ file: packageFile, reason: 'weakening' })]);
    const refused = await stack.cli(['archive', 'renew', '--break-glass', '--json', '--packages', packagesDir], sha256Weak);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).blocked).toMatch(/rely on SHA-256, which the configuration marks as weakening/);
    expect(JSON.parse(refused.out).renewed).toEqual([]);
    expect((await callAs(stack.server.url, client, 'GET', `/v1/stamps/${weakOne.id}/pdf`)).bytes.equals(served)).toBe(true);
  });
});
