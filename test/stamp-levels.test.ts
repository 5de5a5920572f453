/**
 * Issue 3 acceptance: PAdES levels and certification on the approval letter, full stack, judged by
 * pdfsig, qpdf (structure read back independently) and openssl (certificates, OCSP, CRLs, tokens).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OneSealError } from '../src/errors.js';
import type { DocMdpPermission } from '../src/signing/signature-dict.js';
import { qpdfObjects } from './support/pdfs.js';
import { fixture, fixturePath, openStack, type Stack } from './support/stamp-stack.js';
import { expectSigned, signaturesIn } from './support/validators.js';

let s: Stack;
let tsaCert: Uint8Array;
beforeAll(async () => {
  s = await openStack();
  tsaCert = s.services.authority.tsa.certificate;
});
afterAll(async () => {
  await s?.close();
});

const letter = () => fixture('approval-letter.pdf');
const anchor = { kind: 'anchor', text: '（盖章）' } as const;
const stampLetter = (extra: { level?: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA'; certify?: DocMdpPermission }, input: Uint8Array = letter()) =>
  s.services.stamper.stamp(input, { sealId: 'approval', placement: anchor, ...extra });

type QpdfObjects = ReturnType<typeof qpdfObjects>;
const isRef = (v: unknown): v is string => typeof v === 'string' && /^\d+ \d+ R$/.test(v);
function deref(objs: QpdfObjects, v: unknown): unknown {
  if (!isRef(v)) return v;
  const o = objs[`obj:${v}`]!;
  return o.value ?? o.stream?.dict;
}

/** The document catalog as qpdf reads it. */
function catalogOf(objs: QpdfObjects): Record<string, unknown> {
  const trailer = objs['trailer']!.value as Record<string, unknown>;
  return deref(objs, trailer['/Root']) as Record<string, unknown>;
}

let scratch = 0;
/** A stream's decoded bytes, extracted by qpdf. */
function streamData(pdf: Uint8Array, ref: string): Buffer {
  const file = path.join(s.dir, `streams-${++scratch}.pdf`);
  writeFileSync(file, pdf);
  const r = spawnSync('qpdf', [`--show-object=${ref.split(' ')[0]}`, '--filtered-stream-data', file]);
  expect(r.status).toBe(0);
  return r.stdout;
}

function openssl(args: string[], der: Uint8Array): string {
  const file = path.join(s.dir, `der-${++scratch}.der`);
  writeFileSync(file, der);
  const r = spawnSync('openssl', args.map((a) => (a === '{}' ? file : a)), { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

describe('PAdES levels', () => {
  it('B-B: one signature, no time-stamp, covering the whole document', async () => {
    const r = await stampLetter({ level: 'B-B' });
    const check = await expectSigned(s.trust, letter(), r.pdf, { added: 1, tsaCert, timestamped: false });
    expect(check.added[0]!.pdfsig).toContain('Total document signed');
    expect(r.level).toBe('B-B');
  });

  it('B-LT: a DSS with the chain, TSA certificate, OCSP responses and CRLs that openssl accepts', async () => {
    const r = await stampLetter({ level: 'B-LT' });
    await expectSigned(s.trust, letter(), r.pdf, { added: 1, tsaCert, timestamped: true });
    const objs = qpdfObjects(r.pdf);
    const dss = deref(objs, catalogOf(objs)['/DSS']) as Record<string, unknown>;
    expect(dss).toBeDefined();
    const items = (key: string) => ((deref(objs, dss[key]) as string[] | undefined) ?? []).map((ref) => streamData(r.pdf, ref));

    const subjects = items('/Certs').map((der) => openssl(['x509', '-inform', 'DER', '-in', '{}', '-noout', '-subject', '-nameopt', 'utf8'], der));
    const all = subjects.join('\n');
    expect(all).toContain(`${s.services.config.seal.orgName}${s.services.config.seal.sealName}`);
    expect(all).toContain('OneSeal Development Root CA');
    expect(subjects.length).toBeGreaterThanOrEqual(3); // seal, root, TSA

    const ocsps = items('/OCSPs');
    expect(ocsps.length).toBeGreaterThanOrEqual(1);
    for (const der of ocsps) {
      const text = openssl(['ocsp', '-respin', '{}', '-CAfile', s.trust.rootPem, '-resp_text'], der);
      expect(text).toContain('Response verify OK');
      expect(text).toContain('Cert Status: good');
    }
    const crls = items('/CRLs');
    expect(crls.length).toBeGreaterThanOrEqual(1);
    for (const der of crls) expect(openssl(['crl', '-inform', 'DER', '-in', '{}', '-CAfile', s.trust.rootPem, '-noout'], der)).toContain('verify OK');
    expect(Object.keys(deref(objs, dss['/VRI']) as Record<string, unknown>)).toHaveLength(1);
  });

  it('B-LTA: a document time-stamp over everything, DSS included, that pdfsig lists', async () => {
    const r = await stampLetter({ level: 'B-LTA' });
    const check = await expectSigned(s.trust, letter(), r.pdf, { added: 2, tsaCert, timestamped: true });
    const [signature, docTs] = check.added;
    expect(signature!.sig.docTimestamp).toBe(false);
    expect(docTs!.sig.docTimestamp).toBe(true);
    expect(docTs!.pdfsig).toContain('Signer Certificate Common Name: OneSeal Time-Stamping Authority');
    expect(docTs!.pdfsig).toContain('Total document signed');
    // the DSS (validation data for the signature) lies inside what the document time-stamp covers
    const dssAt = r.pdf.indexOf('/DSS', signature!.sig.byteRange[2]);
    expect(dssAt).toBeGreaterThan(0);
    expect(dssAt).toBeLessThan(docTs!.sig.byteRange[1]);
  });
});

describe('certification (DocMDP)', () => {
  /** The /P of the certification signature the catalog's /Perms /DocMDP names, read by qpdf. */
  function docMdpP(pdf: Uint8Array): unknown {
    const objs = qpdfObjects(pdf);
    const perms = deref(objs, catalogOf(objs)['/Perms']) as Record<string, unknown>;
    const sig = deref(objs, perms['/DocMDP']) as Record<string, unknown>;
    const [ref] = deref(objs, sig['/Reference']) as unknown[];
    const params = deref(objs, (deref(objs, ref) as Record<string, unknown>)['/TransformParams']) as Record<string, unknown>;
    expect((deref(objs, ref) as Record<string, unknown>)['/TransformMethod']).toBe('/DocMDP');
    return params['/P'];
  }

  it('P=1: certified with no changes allowed; a second stamp is refused, also by the CLI (exit 1)', async () => {
    const r = await stampLetter({ certify: 1 });
    await expectSigned(s.trust, letter(), r.pdf, { added: 1, tsaCert, timestamped: true });
    expect(docMdpP(r.pdf)).toBe(1);
    const refused = await stampLetter({}, r.pdf).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OneSealError);
    expect(refused).toMatchObject({ code: 'document-certified-no-changes', message: expect.stringContaining('no changes') });

    const certified = path.join(s.dir, 'certified-p1.pdf');
    writeFileSync(certified, r.pdf);
    const cli = await s.cli(['stamp', certified, '-o', path.join(s.dir, 'never.pdf'), '--page', '1', '--x', '40', '--y', '40']);
    expect(cli.code).toBe(1);
    expect(cli.err).toMatch(/^oneseal stamp: .*certified/);
    expect(cli.err).not.toMatch(/\n\s+at /);
  });

  it.each([2, 3] as const)('P=%i: certified, and a later approval signature still verifies', async (p) => {
    const certified = await stampLetter({ certify: p });
    expect(docMdpP(certified.pdf)).toBe(p);
    const second = await s.services.stamper.stamp(certified.pdf, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 40, y: 40 } });
    const check = await expectSigned(s.trust, letter(), second.pdf, { added: 2, tsaCert, timestamped: true });
    expect(check.added[1]!.pdfsig).toContain('Total document signed');
    expect(signaturesIn(second.pdf)).toHaveLength(2);
  });

  it('the CLI certifies with --certify', async () => {
    const out = path.join(s.dir, 'cli-certified.pdf');
    const r = await s.cli(['stamp', fixturePath('approval-letter.pdf'), '-o', out, '--anchor', '（盖章）', '--certify', '2', '--level', 'B-LTA', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ level: 'B-LTA', certify: 2 });
    const pdf = readFileSync(out);
    expect(docMdpP(pdf)).toBe(2);
    await expectSigned(s.trust, letter(), pdf, { added: 2, tsaCert, timestamped: true });
  });
});
