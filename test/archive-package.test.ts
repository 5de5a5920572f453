/**
 * Archive packages end to end: a case of three stamps and a licence exported as ASiC-E (CLI and
 * API), checked by `oneseal archive verify` and by tools OneSeal did not write — unzip/zipinfo
 * (mimetype first, stored), openssl cms (the manifest signature with the dev root), pdftotext (the
 * Chinese report) — then tampered with: a flipped byte, a re-zipped altered entry, a deleted and an
 * added entry each make verify exit 1 naming the entry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { readZip } from '../src/zip/read.js';
import { zip } from '../src/zip/write.js';
import { SAMPLE_DATA } from './licences-samples.js';
import { addClient, bearer, call, callAs } from './support/api-client.js';
import { makePdf, scratchDir } from './support/pdfs.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { signaturesIn } from './support/validators.js';

const CASE = 'SP-2026-0042';
let stack: Stack;
let stamper: { id: string; key: string };
let other: { id: string; key: string };
let licenceId: string;
const stampIds: string[] = [];
let packageFile: string;
let exported: { raised: string[]; notRaised: unknown[] };
const scratch = scratchDir();

const verifyCli = (file: string) => stack.cli(['archive', 'verify', file, '--trust', DEV_ROOT_CERT_PATH, '--json']);

/** The package rebuilt with `change` applied to its entries (a valid ZIP: only the manifest can tell). */
function rezip(name: string, change: (entries: { name: string; data: Uint8Array }[]) => { name: string; data: Uint8Array }[]): string {
  const entries = readZip(readFileSync(packageFile)).map((e) => ({ name: e.name, data: e.data }));
  const file = scratch.file(name);
  writeFileSync(file, zip(change(entries)));
  return file;
}

beforeAll(async () => {
  stack = await openStack();
  stamper = await addClient(stack, 'archive-stamper', ['approval']);
  other = await addClient(stack, 'archive-other', ['approval']);
  for (let i = 0; i < 3; i++) {
    // The first is only B-T: the export raises it to B-LTA.
    const r = await call(`${stack.server.url}/v1/stamps?seal=approval&invisible=true&level=${i === 0 ? 'B-T' : 'B-LTA'}&caseNumber=${CASE}&itemCode=ITEM-${i}`, {
      method: 'POST', headers: bearer(stamper.key, { 'Content-Type': 'application/pdf' }), body: await makePdf(),
    });
    expect(r.status, r.bytes.toString()).toBe(200);
    stampIds.push(r.headers.get('stamp-id')!);
  }
  const issuer = await addClient(stack, 'archive-licences', [], { scopes: ['licences'], licenceTypes: ['business-licence'] });
  const l = await callAs(stack.server.url, issuer, 'POST', '/v1/licences', { type: 'business-licence', data: SAMPLE_DATA['business-licence'], caseNumber: CASE });
  expect(l.status, l.bytes.toString()).toBe(201);
  licenceId = l.json<{ id: string }>().id;
  packageFile = scratch.file('case.asice');
  const r = await stack.cli(['archive', 'export', '--case', CASE, '-o', packageFile, '--break-glass', '--json']);
  expect(r.code, r.err).toBe(0);
  exported = JSON.parse(r.out);
  expect(JSON.parse(r.out).documents).toBe(4);
}, 240_000);
afterAll(async () => {
  await stack?.close();
  scratch.cleanup();
});

describe('archive export', () => {
  it('raises the B-T stamp to B-LTA first: the package and later downloads carry the raised copy, audited', async () => {
    const file = `documents/stamp-${stampIds[0]}.pdf`;
    // The B-LTA stamps are already; the licence is B-LT, so it is raised too.
    expect(exported.raised.sort()).toEqual([file, `documents/licence-${licenceId}.pdf`].sort());
    expect(exported.notRaised).toEqual([]);
    const packaged = readZip(readFileSync(packageFile)).find((e) => e.name === file)!.data;
    expect(signaturesIn(packaged).map((x) => x.docTimestamp)).toEqual([false, true]);
    const served = await callAs(stack.server.url, stamper, 'GET', `/v1/stamps/${stampIds[0]}/pdf`);
    expect(served.bytes.equals(packaged)).toBe(true);
    const audit = await stack.services.store.db('audit_log').where({ action: 'archive.renew', subject: `stamp:${stampIds[0]}` }).select('details');
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0]!.details)).toContain('export');
    const metadata = JSON.parse(readZip(readFileSync(packageFile)).find((e) => e.name === 'metadata.json')!.data.toString()) as { documents: { id: string; lta: string }[] };
    expect(metadata.documents.find((d) => d.id === stampIds[0])!.lta).toBe('raised');
    expect(metadata.documents.find((d) => d.id === stampIds[1])!.lta).toBe('already');
  });

  it('packages a B-B stamp as it is and says why it cannot be raised', async () => {
    const r = await call(`${stack.server.url}/v1/stamps?seal=approval&invisible=true&level=B-B`, { method: 'POST', headers: bearer(stamper.key, { 'Content-Type': 'application/pdf' }), body: await makePdf() });
    expect(r.status, r.bytes.toString()).toBe(200);
    const id = r.headers.get('stamp-id')!;
    const out = scratch.file('bb.asice');
    const e = await stack.cli(['archive', 'export', '--stamp', id, '-o', out, '--break-glass']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toContain(`NOT raised to B-LTA: documents/stamp-${id}.pdf: it carries no time-stamp (B-B)`);
    const packaged = readZip(readFileSync(out)).find((x) => x.name === `documents/stamp-${id}.pdf`)!.data;
    expect(packaged.equals(r.bytes)).toBe(true);
  });

  it('is a ZIP whose first entry is mimetype, stored, then documents, reports, audit proof, metadata, manifest and signature', () => {
    const listing = execFileSync('unzip', ['-l', packageFile], { encoding: 'utf8' });
    // "  Length      Date    Time    Name" rows: the first file row names mimetype.
    const rows = listing.split('\n').map((l) => /^\s*\d+\s+\S+\s+\S+\s+(\S+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
    expect(rows[0]).toBe('mimetype');
    expect(execFileSync('unzip', ['-Z1', packageFile], { encoding: 'utf8' }).split('\n')[0]).toBe('mimetype');
    const info = execFileSync('zipinfo', [packageFile, 'mimetype'], { encoding: 'utf8' });
    expect(info).toMatch(/\bstor\b/);
    expect(execFileSync('unzip', ['-p', packageFile, 'mimetype'], { encoding: 'utf8' })).toBe('application/vnd.etsi.asic-e+zip');
    const entries = readZip(readFileSync(packageFile)).map((e) => e.name);
    for (const id of stampIds) expect(entries).toEqual(expect.arrayContaining([`documents/stamp-${id}.pdf`, `reports/stamp-${id}.json`, `reports/stamp-${id}.pdf`]));
    expect(entries).toEqual(expect.arrayContaining([`documents/licence-${licenceId}.pdf`, 'audit/proof.json', 'metadata.json', 'META-INF/ASiCManifest.xml', 'META-INF/signature.p7s']));
  });

  it('lists every file in the manifest and signs it so that openssl cms accepts it with the dev root', () => {
    const dir = scratch.file('extracted');
    mkdirSync(dir);
    execFileSync('unzip', ['-q', packageFile, '-d', dir]);
    const manifest = readFileSync(path.join(dir, 'META-INF/ASiCManifest.xml'), 'utf8');
    expect(manifest).toContain('URI="metadata.json"');
    expect(manifest).toContain('URI="audit/proof.json"');
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-content', path.join(dir, 'META-INF/ASiCManifest.xml'), '-inform', 'DER', '-in', path.join(dir, 'META-INF/signature.p7s'), '-CAfile', DEV_ROOT_CERT_PATH, '-out', '/dev/null'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // CAdES-B-T: signing-certificate-v2 signed, a signature time-stamp unsigned.
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'META-INF/signature.p7s')], { encoding: 'utf8' });
    expect(printed).toContain('id-smime-aa-signingCertificateV2');
    expect(printed).toContain('id-smime-aa-timeStampToken');
    const metadata = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { caseNumber: string; retention: { years: number }; documents: { itemCode: string | null }[]; itemCodes: string[] };
    expect(metadata.caseNumber).toBe(CASE);
    expect(metadata.retention.years).toBe(30);
    expect(metadata.itemCodes.sort()).toEqual(['ITEM-0', 'ITEM-1', 'ITEM-2']);
    const report = execFileSync('pdftotext', [path.join(dir, `reports/stamp-${stampIds[0]}.pdf`), '-'], { encoding: 'utf8' });
    expect(report).toContain('验证报告');
    expect(report).toContain('有效');
  });

  it('verifies offline: exit 0, every document valid', async () => {
    const r = await verifyCli(packageFile);
    expect(r.code, r.out).toBe(0);
    const result = JSON.parse(r.out) as { verdict: string; documents: { verdict: string }[]; problems: unknown[] };
    expect(result.verdict).toBe('valid');
    expect(result.documents).toHaveLength(4);
    expect(result.documents.every((d) => d.verdict === 'valid')).toBe(true);
  });

  it('a flipped byte in any entry is named (exit 1)', { timeout: 120_000 }, async () => {
    const bytes = readFileSync(packageFile);
    const entries = readZip(bytes);
    for (const target of entries.map((e) => e.name)) {
      const e = entries.find((x) => x.name === target)!;
      const flipped = Buffer.from(bytes);
      const at = e.offset + 30 + Buffer.byteLength(e.name) + Math.floor(e.data.length / 2);
      flipped[at] ^= 0x01;
      const file = scratch.file(`flipped-${target.replace(/\W/g, '_')}.asice`);
      writeFileSync(file, flipped);
      const r = await verifyCli(file);
      expect(r.code, `${target}: ${r.out}`).toBe(1);
      expect(r.out).toContain(target);
    }
  });

  it('an entry altered and re-zipped, deleted or added is named (exit 1)', async () => {
    const doc = `documents/stamp-${stampIds[0]}.pdf`;
    const altered = rezip('altered.asice', (es) => es.map((e) => (e.name === 'metadata.json' ? { ...e, data: Buffer.from(Buffer.from(e.data).toString().replace(CASE, 'SP-2026-0043')) } : e)));
    const deleted = rezip('deleted.asice', (es) => es.filter((e) => e.name !== doc));
    const added = rezip('added.asice', (es) => [...es.slice(0, -2), { name: 'documents/extra.pdf', data: Buffer.from('%PDF-1.4\n') }, ...es.slice(-2)]);
    const manifestGone = rezip('no-manifest.asice', (es) => es.filter((e) => e.name !== 'META-INF/ASiCManifest.xml'));
    for (const [file, name, kind] of [[altered, 'metadata.json', 'ALTERED'], [deleted, doc, 'REMOVED'], [added, 'documents/extra.pdf', 'ADDED'], [manifestGone, 'META-INF/ASiCManifest.xml', 'REMOVED']] as const) {
      const r = await stack.cli(['archive', 'verify', file, '--trust', DEV_ROOT_CERT_PATH]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain(`${kind} ${name}`);
    }
    // A manifest edited to match an altered document breaks the CAdES signature instead.
    const forged = rezip('forged.asice', (es) => es.map((e) => (e.name === 'META-INF/ASiCManifest.xml' ? { ...e, data: Buffer.from(Buffer.from(e.data).toString().replace(/<ds:DigestValue>[^<]*</, '<ds:DigestValue>AAAA<')) } : e)));
    const r = await stack.cli(['archive', 'verify', forged, '--trust', DEV_ROOT_CERT_PATH]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/META-INF\/ASiCManifest\.xml: the manifest signature does not verify/);
  });

  it('is indeterminate (exit 3) with a root that did not sign it, and a usage error (exit 2) without a file', async () => {
    const otherRoot = scratch.file('other-root.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', scratch.file('k.pem'), '-out', otherRoot, '-subj', '/CN=Other Root', '-days', '2']);
    const r = await stack.cli(['archive', 'verify', packageFile, '--trust', otherRoot]);
    expect(r.code, r.out).toBe(3);
    expect((await stack.cli(['archive', 'verify'])).code).toBe(2);
  });

  it('over the API: an auditor gets the case; the client that made the stamps gets its stamp but not the case with another client’s licence; another client gets nothing', async () => {
    const auditor = await personWithSession(stack, 'archive-auditor', ['auditor']);
    const r = await callAs(stack.server.url, auditor, 'GET', `/v1/archive?case=${CASE}`);
    expect(r.status, r.bytes.toString().slice(0, 300)).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/vnd.etsi.asic-e+zip');
    expect(readZip(r.bytes).filter((e) => e.name.startsWith('documents/'))).toHaveLength(4);
    expect((await callAs(stack.server.url, stamper, 'GET', `/v1/archive?stamp=${stampIds[0]}`)).status).toBe(200);
    expect((await callAs(stack.server.url, stamper, 'GET', `/v1/archive?case=${CASE}`)).status).toBe(404);
    expect((await callAs(stack.server.url, other, 'GET', `/v1/archive?stamp=${stampIds[0]}`)).status).toBe(404);
    const bad = await callAs(stack.server.url, auditor, 'GET', `/v1/archive?case=${CASE}&stamp=${stampIds[0]}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const operator = await personWithSession(stack, 'archive-operator', ['operator']);
    expect((await callAs(stack.server.url, operator, 'GET', `/v1/archive?case=${CASE}`)).status).toBe(403);
    const audit = await stack.services.store.db('audit_log').where({ action: 'archive.export' }).count({ n: '*' });
    expect(Number(audit[0]!.n)).toBeGreaterThanOrEqual(3);
  });
});
