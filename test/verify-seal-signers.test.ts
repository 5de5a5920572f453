/**
 * Only a seal signature can make a document valid. A document time-stamp — anyone gets one from a
 * public TSA — proves when bytes existed, never approval: a file whose only "signatures" are
 * time-stamps is NOT SEALED, however it labels them. A CMS made with a TSA's or OCSP responder's
 * key is no seal either, and no report names a TSA as a signer.
 */
import { describe, expect, it } from 'vitest';
import { PdfDict, name } from '../src/pdf/objects.js';
import { createTimeStampToken } from '../src/pki/tsa.js';
import { contentsPlaceholder, byteRangePlaceholder } from '../src/signing/placeholder.js';
import { docTimeStampDict } from '../src/signing/signature-dict.js';
import { signPdf } from '../src/signing/sign-pdf.js';
import { verifyPdf, type Report } from '../src/verify/index.js';
import { textReport } from '../src/verify/text-report.js';
import { useTestPki, type TestPki } from './signing-fixtures.js';
import { makePdf } from './support/pdfs.js';
import { cmsBy, invisibleSignatureField, signRevision, type ContentsMaker, type Seal } from './verify-shadow-attacks.js';

let pki: TestPki;
useTestPki((p) => {
  pki = p;
});

const trusted = () => ({ trustAnchors: [pki.root.cert], ownCa: { revocationLookup: () => ({ status: 'good' as const }) } });

/** A token from the test TSA over the byte range, in a dictionary of the given /Type and /SubFilter. */
function timestampAs(type: 'DocTimeStamp' | 'Sig', subFilter: string): ContentsMaker {
  const size = pki.timestamper.maxTokenSize;
  const dict =
    type === 'DocTimeStamp' && subFilter === 'ETSI.RFC3161'
      ? docTimeStampDict(size)
      : new PdfDict({ Type: name(type), Filter: name('Adobe.PPKLite'), SubFilter: name(subFilter), ByteRange: byteRangePlaceholder(), Contents: contentsPlaceholder(size) });
  return { dict, hash: 'sha256', contents: (digest) => pki.timestamper.stamp(digest) };
}

const tsaSeal = (): Seal => ({ key: pki.tsa.key, cert: pki.tsa.cert, chain: [pki.root.cert] });

function expectNoTsaSigner(r: Report): void {
  for (const s of r.signatures) expect(s.signer?.commonName ?? '').not.toContain('TSA');
  const text = textReport('doc.pdf', r);
  expect(text).not.toMatch(/signer 签章人: .*TSA/);
}

describe('time-stamps are not seals', () => {
  it.each([
    ['a document time-stamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161)', 'DocTimeStamp', 'ETSI.RFC3161'],
    ['a /Type /Sig dictionary with /SubFilter /ETSI.RFC3161', 'Sig', 'ETSI.RFC3161'],
    ['a /Type /DocTimeStamp dictionary with another /SubFilter', 'DocTimeStamp', 'adbe.pkcs7.detached'],
  ] as const)('%s alone: NOT SEALED, never valid, the TSA never a signer', async (_label, type, subFilter) => {
    const pdf = await signRevision(await makePdf(), timestampAs(type, subFilter), invisibleSignatureField('Stamp'));
    const r = await verifyPdf(pdf, trusted());
    expect(r.verdict).toBe('not-sealed');
    expect(r.seals).toBe(0);
    expect(r.findings.map((f) => f.code)).toEqual(['NO_SEAL_SIGNATURE']);
    const [stamp] = r.signatures;
    // The time-stamp itself is intact and trusted: it proves its time, nothing more.
    expect(stamp).toMatchObject({ kind: 'doc-timestamp', verdict: 'valid', signer: undefined, coversWholeDocument: true });
    expect(stamp!.timestamp?.tsa).toContain('OneSeal Test TSA');
    expectNoTsaSigner(r);
    const text = textReport('doc.pdf', r);
    expect(text).toMatch(/^doc\.pdf: 未签章 NOT SEALED \(0 seal signature\(s\) 签章, 1 document time-stamp\(s\) 文档时间戳/);
    expect(text).toContain('evidence of time only, not a seal 仅证明时间，不是签章');
  });

  it('two time-stamps are still not sealed', async () => {
    const once = await signRevision(await makePdf(), timestampAs('DocTimeStamp', 'ETSI.RFC3161'), invisibleSignatureField('Stamp1'));
    const twice = await signRevision(once, timestampAs('DocTimeStamp', 'ETSI.RFC3161'), invisibleSignatureField('Stamp2'));
    const r = await verifyPdf(twice, trusted());
    expect(r.verdict).toBe('not-sealed');
    expect(r.signatures.map((s) => [s.kind, s.verdict])).toEqual([
      ['doc-timestamp', 'valid'],
      ['doc-timestamp', 'valid'],
    ]);
  });

  it('a time-stamp token put where a CMS signature belongs (adbe.pkcs7.detached) is invalid and names no signer', async () => {
    const maker = timestampAs('Sig', 'adbe.pkcs7.detached');
    const pdf = await signRevision(await makePdf(), maker, invisibleSignatureField('Fake'));
    const r = await verifyPdf(pdf, trusted());
    expect(r.verdict).toBe('invalid');
    const codes = r.signatures[0]!.reasons.map((x) => x.code);
    expect(codes).toEqual(expect.arrayContaining(['DIGEST_MISMATCH', 'SIGNER_NOT_SEAL']));
    expect(r.signatures[0]!.signer).toBeUndefined();
    expect(r.seals).toBe(0);
    expectNoTsaSigner(r);
  });

  it('a real CMS signature over the document made with the TSA key is no seal: invalid, SIGNER_NOT_SEAL', async () => {
    const pdf = await signRevision(await makePdf(), cmsBy(tsaSeal()), invisibleSignatureField('ByTheTsa'));
    const r = await verifyPdf(pdf, trusted());
    const s = r.signatures[0]!;
    expect(s.reasons.map((x) => x.code)).toEqual(['SIGNER_NOT_SEAL']);
    expect(s.signer).toBeUndefined();
    expect(r.verdict).toBe('invalid');
    expect(r.seals).toBe(0);
    expectNoTsaSigner(r);
  });

  it('a CMS signature made with an OCSP-signing certificate is no seal either', async () => {
    const responder = await pki.issue('ocsp-as-seal', 'ocsp', { country: 'CN', organization: 'OneSeal Test', commonName: 'OneSeal Test OCSP' });
    const pdf = await signRevision(await makePdf(), cmsBy(responder), invisibleSignatureField('ByTheResponder'));
    const r = await verifyPdf(pdf, trusted());
    expect(r.signatures[0]!.reasons.map((x) => x.code)).toEqual(['SIGNER_NOT_SEAL']);
    expect(r.verdict).toBe('invalid');
  });

  it('a CA certificate signing a document cannot be confirmed as a seal: never valid (SIGNER_KEY_USAGE)', async () => {
    const pdf = await signRevision(await makePdf(), cmsBy({ key: pki.intermediate.key, cert: pki.intermediate.cert, chain: [pki.root.cert] }), invisibleSignatureField('ByTheCa'));
    const r = await verifyPdf(pdf, trusted());
    expect(r.signatures[0]!.reasons.map((x) => x.code)).toContain('SIGNER_KEY_USAGE');
    expect(r.verdict).toBe('indeterminate');
  });

  it('a seal signature with a document time-stamp after it is sealed and valid; the time-stamp proves its time', async () => {
    const seal = await pki.seal('EC-P256');
    const signed = await signPdf(await makePdf(), { signer: seal.key, certificate: seal.cert, chain: seal.chain, signingTime: new Date(), level: 'B-B' });
    const pdf = await signRevision(signed.pdf, timestampAs('DocTimeStamp', 'ETSI.RFC3161'), invisibleSignatureField('Stamp'));
    const r = await verifyPdf(pdf, trusted());
    expect(r.verdict).toBe('valid');
    expect(r.seals).toBe(1);
    const [sealed, stamp] = r.signatures;
    expect(sealed!.signer?.organisation).toBe('测试单位');
    expect(sealed!.provenTime).toBe(stamp!.timestamp!.genTime);
    expect(sealed!.coverage!.message.en).toBe('covers revision 2 of 3; revision 3 adds or changes: a document time-stamp');
  });

  it('a token signed by a seal key instead of a TSA proves no time', async () => {
    const seal = await pki.seal('EC-P256');
    const stamper: ContentsMaker = {
      ...timestampAs('DocTimeStamp', 'ETSI.RFC3161'),
      contents: (digest) =>
        createTimeStampToken({ messageImprint: { hashAlgorithm: 'SHA-256', hash: digest }, certReq: true, tsa: { cert: seal.cert, chain: seal.chain, signer: seal.key }, genTime: new Date(Date.now() - 3600_000) }),
    };
    const signed = await signPdf(await makePdf(), { signer: seal.key, certificate: seal.cert, chain: seal.chain, signingTime: new Date(), level: 'B-B' });
    const r = await verifyPdf(await signRevision(signed.pdf, stamper, invisibleSignatureField('Stamp')), trusted());
    expect(r.signatures[0]!.provenTime).toBeUndefined();
  });
});
