/**
 * The verification engine on PDFs OneSeal signs itself (real SoftHSM keys, the test PKI with TSA,
 * OCSP and CRLs): trusted signatures become valid, each trust/time/revocation gap gives its reason,
 * DocMDP levels are enforced, and the generated attacks make OneSeal's own signatures invalid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfStream, name } from '../src/pdf/objects.js';
import type { AppearanceSource } from '../src/signing/field.js';
import { signPdf, type SignPdfOptions } from '../src/signing/sign-pdf.js';
import { verifyPdf, type Report, type RevocationStatus } from '../src/verify/index.js';
import { makePdf, makeTestPki, type TestPki } from './signing-fixtures.js';
import { openTestHsm, type TestToken } from './support/token.js';
import { ATTACKS, PERMITTED } from './verify-attacks.js';

let token: TestToken;
let pki: TestPki;

beforeAll(async () => {
  token = await openTestHsm();
  pki = await makeTestPki(token.hsm);
});
afterAll(async () => {
  await token?.close();
});

async function options(level: SignPdfOptions['level'], extra: Partial<SignPdfOptions> = {}): Promise<SignPdfOptions> {
  const seal = await pki.seal('EC-P256');
  return {
    signer: seal.key,
    certificate: seal.cert,
    chain: seal.chain,
    signingTime: new Date(),
    level,
    timestamper: pki.timestamper,
    revocation: pki.revocation,
    appearance: { page: 0, rect: [100, 100, 220, 220], xobject: redSquare },
    ...extra,
  };
}

/** A visible seal stand-in: a red square Form XObject. */
const redSquare: AppearanceSource = {
  emit: (alloc) =>
    alloc.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 120, 120] }), Buffer.from('1 0 0 rg 0 0 120 120 re f'))),
};

const codes = (r: Report): string[] => r.signatures.flatMap((s) => s.reasons.map((x) => x.code));
const trusted = (): { trustAnchors: Uint8Array[] } => ({ trustAnchors: [pki.root.cert] });

describe('OneSeal-signed PDFs', () => {
  it('B-LT with the OneSeal root trusted is valid, with signer, level and proven time', async () => {
    const signed = await signPdf(await makePdf(), await options('B-LT'));
    const r = await verifyPdf(signed.pdf, trusted());
    expect(codes(r)).toEqual([]);
    expect(r.verdict).toBe('valid');
    const s = r.signatures[0]!;
    expect(s.level).toBe('B-LT');
    expect(s.signer?.organisation).toBe('测试单位');
    expect(s.provenTime).toBeDefined();
    expect(s.timestamp?.intact).toBe(true);
    expect(Math.abs(Date.parse(s.provenTime!) - Date.parse(s.signingTime!))).toBeLessThan(120_000);
  });

  it('B-LTA: the signature and its document time-stamp are both valid', async () => {
    const signed = await signPdf(await makePdf(), await options('B-LTA'));
    const r = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: () => ({ status: 'good' }) } });
    expect(r.signatures.map((s) => [s.kind, s.verdict, s.reasons.map((x) => x.code)])).toEqual([
      ['signature', 'valid', []],
      ['doc-timestamp', 'valid', []],
    ]);
    expect(r.signatures[0]!.level).toBe('B-LTA');
    expect(r.signatures[1]!.coversWholeDocument).toBe(true);
  });

  it("reports the seal holder's unified social credit code from organizationIdentifier", async () => {
    const { key, cert } = await pki.issue('verify-uscc', 'seal', { country: 'CN', organization: '测试单位', commonName: '合同专用章', organizationIdentifier: 'NTRCN-91110000802100433B' });
    const signed = await signPdf(await makePdf(), { ...(await options('B-T')), signer: key, certificate: cert });
    const r = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: () => ({ status: 'good' }) } });
    expect(r.verdict).toBe('valid');
    expect(r.signatures[0]!.signer).toMatchObject({ commonName: '合同专用章', organisation: '测试单位', creditCode: '91110000802100433B' });
    expect(r.signatures[0]!.signer!.subject).toContain('CN=合同专用章');
  });

  it('validity periods are checked at the proven time, else at "now"; a time-stamp proves nothing once its TSA certificate expired unprotected (test/archive-lta covers the protected case)', async () => {
    const lookup = { revocationLookup: (): RevocationStatus => ({ status: 'good' }) };
    const bt = (await signPdf(await makePdf(), await options('B-T'))).pdf;
    const later = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
    const opts = { ...trusted(), ownCa: lookup, now: later };
    const bb = await verifyPdf((await signPdf(await makePdf(), await options('B-B'))).pdf, opts);
    expect(bb.verdict).toBe('indeterminate');
    expect(codes(bb)).toEqual(['CERT_EXPIRED']);
    // Ten years on the TSA's certificate has expired too, and no archive time-stamp protected it.
    const expired = await verifyPdf(bt, opts);
    expect(expired.verdict).toBe('indeterminate');
    expect(codes(expired)).toContain('TIMESTAMP_EXPIRED');
    expect(expired.signatures[0]!.provenTime).toBeUndefined();
  });

  it('without the root it is indeterminate (NO_TRUST_ANCHOR), not invalid', async () => {
    const signed = await signPdf(await makePdf(), await options('B-T'));
    const r = await verifyPdf(signed.pdf);
    expect(r.verdict).toBe('indeterminate');
    expect(codes(r)).toEqual(['NO_TRUST_ANCHOR']);
  });

  it('B-B without revocation data is indeterminate until OneSeal CA records answer', async () => {
    const signed = await signPdf(await makePdf(), await options('B-B'));
    const unknown = await verifyPdf(signed.pdf, trusted());
    expect(unknown.verdict).toBe('indeterminate');
    expect(codes(unknown)).toContain('REVOCATION_UNKNOWN');
    const good = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: () => ({ status: 'good' }) } });
    expect(good.verdict).toBe('valid');
  });

  it('a revocation before the proven signing time is invalid, one after it is not', async () => {
    const signed = await signPdf(await makePdf(), await options('B-T'));
    const at = (ms: number) => (): RevocationStatus => ({ status: 'revoked', revokedAt: new Date(Date.now() + ms) });
    const before = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: at(-3600_000) } });
    expect(before.verdict).toBe('invalid');
    expect(codes(before)).toContain('CERT_REVOKED');
    const after = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: at(3600_000) } });
    expect(after.verdict).toBe('valid');
  });

  it('a TSA-less revocation cannot be placed in time: indeterminate', async () => {
    const signed = await signPdf(await makePdf(), await options('B-B'));
    const r = await verifyPdf(signed.pdf, { ...trusted(), ownCa: { revocationLookup: () => ({ status: 'revoked', revokedAt: new Date(Date.now() + 3600_000) }) } });
    expect(r.verdict).toBe('indeterminate');
    expect(new Set(codes(r))).toEqual(new Set(['REVOCATION_UNKNOWN']));
  });

  it('a second seal keeps both signatures valid; the first covers an earlier revision', async () => {
    const first = await signPdf(await makePdf(), await options('B-LT'));
    const second = await signPdf(first.pdf, await options('B-T', { appearance: undefined }));
    const r = await verifyPdf(second.pdf, trusted());
    expect(r.verdict).toBe('valid');
    expect(r.signatures).toHaveLength(2);
    const [a, b] = r.signatures;
    expect(a!.coversWholeDocument).toBe(false);
    expect(b!.coversWholeDocument).toBe(true);
    expect(a!.modifications.length).toBeGreaterThan(0);
    expect(a!.modifications.every((m) => m.permitted && ['signature', 'validation-data', 'metadata', 'form-resources'].includes(m.kind))).toBe(true);
    expect(a!.coverage!.message.en).toBe('covers revision 2 of 4; revision 3 adds validation data only; revision 4 adds or changes: a signature');
  });

  it('DocMDP: P1 allows only LTV data, P2 adds signatures, P3 adds annotations', async () => {
    const lookup = { ...trusted(), ownCa: { revocationLookup: (): RevocationStatus => ({ status: 'good' }) } };
    const comment = PERMITTED.find((p) => p.name.startsWith('a comment annotation'))!;
    const ltv = PERMITTED.find((p) => p.name.startsWith('LTV data'))!;
    const certified = async (p: 1 | 2 | 3): Promise<Buffer> => (await signPdf(await makePdf(), await options('B-T', { certify: p }))).pdf;

    const p1 = await certified(1);
    expect((await verifyPdf(ltv.make(p1), lookup)).verdict).toBe('valid');
    const p1Annotated = await verifyPdf(comment.make(p1), lookup);
    expect(p1Annotated.verdict).toBe('invalid');
    expect(p1Annotated.signatures[0]!.docMdp).toBe(1);

    const p2 = await certified(2);
    const p2Signed = await verifyPdf((await signPdf(p2, await options('B-T', { appearance: undefined }))).pdf, lookup);
    expect(p2Signed.signatures[0]!.docMdp).toBe(2);
    expect(p2Signed.verdict).toBe('valid');
    const p2Annotated = await verifyPdf(comment.make(p2), lookup);
    expect(p2Annotated.verdict).toBe('invalid');
    expect(p2Annotated.signatures[0]!.reasons.map((x) => x.code)).toEqual(['MODIFIED_AFTER_SIGNING']);

    // A later 骑缝章 (seal slices across the page edges) is part of that signature, allowed at P2.
    const straddle = await signPdf(p2, {
      ...(await options('B-T')),
      appearance: { page: 0, rect: [535, 400, 595, 520], xobject: redSquare },
      extraAppearances: [{ page: 1, rect: [535, 400, 595, 520], xobject: redSquare }],
    });
    const p2Straddled = await verifyPdf(straddle.pdf, lookup);
    expect(p2Straddled.signatures[0]!.modifications.map((m) => m.message.en)).toContain('revision 3 added a straddle-seal slice of the signature "Signature2" on page 2');
    expect(p2Straddled.verdict).toBe('valid');

    const p3 = await certified(3);
    expect((await verifyPdf(comment.make(p3), lookup)).verdict).toBe('valid');
  });

  it("OneSeal's outputs at every level, alone, stacked three deep and on a certified document, stay valid", async () => {
    const lookup = { ...trusted(), ownCa: { revocationLookup: (): RevocationStatus => ({ status: 'good' }) } };
    for (const level of ['B-B', 'B-T', 'B-LT', 'B-LTA'] as const) {
      const r = await verifyPdf((await signPdf(await makePdf(), await options(level))).pdf, lookup);
      expect(r.verdict, level).toBe('valid');
      expect(r.signatures[0]!.level).toBe(level);
    }
    // Three seals, each visible in its own spot, the last at B-LTA: every one valid, each earlier one covering an earlier revision.
    const one = await signPdf(await makePdf(), await options('B-LT'));
    const two = await signPdf(one.pdf, await options('B-T', { appearance: { page: 0, rect: [250, 100, 370, 220], xobject: redSquare } }));
    const three = await signPdf(two.pdf, await options('B-LTA', { appearance: { page: 1, rect: [100, 100, 220, 220], xobject: redSquare } }));
    const stacked = await verifyPdf(three.pdf, lookup);
    expect(stacked.signatures.map((s) => [s.kind, s.verdict])).toEqual([
      ['signature', 'valid'],
      ['signature', 'valid'],
      ['signature', 'valid'],
      ['doc-timestamp', 'valid'],
    ]);
    expect(stacked.verdict).toBe('valid');
    expect(stacked.seals).toBe(3);
    expect(stacked.signatures[0]!.modifications.every((m) => m.permitted)).toBe(true);
    // Certified "no changes" (P1) at B-LTA: its own validation data and document time-stamp are permitted.
    const locked = await verifyPdf((await signPdf(await makePdf(), await options('B-LTA', { certify: 1 }))).pdf, lookup);
    expect(locked.verdict, JSON.stringify(locked.signatures.map((s) => s.modifications))).toBe('valid');
    expect(locked.signatures[0]!.modifications.map((m) => m.level)).toEqual(['lta-updates', 'lta-updates']);
    // OneSeal does not make what its verifier refuses: no new seal over a certified document's text.
    const p2 = await signPdf(await makePdf(), await options('B-T', { certify: 2 }));
    await expect(signPdf(p2.pdf, await options('B-T', { appearance: { page: 0, rect: [40, 770, 160, 830], xobject: redSquare } }))).rejects.toMatchObject({ code: 'certified-text-covered', kind: 'conflict' });
    // Certified P2, then a visible approval seal beside the text and long-term data: still valid.
    const certified = await signPdf(await makePdf(), await options('B-LT', { certify: 2 }));
    const approved = await signPdf(certified.pdf, await options('B-LTA', { appearance: { page: 0, rect: [300, 300, 420, 420], xobject: redSquare } }));
    const r = await verifyPdf(approved.pdf, lookup);
    expect(r.verdict, JSON.stringify(r.signatures.map((s) => s.reasons))).toBe('valid');
    expect(r.signatures[0]!.docMdp).toBe(2);
  });

  it('every generated attack makes a OneSeal signature invalid', async () => {
    const signed = await signPdf(await makePdf(), await options('B-T'));
    const lookup = { ownCa: { revocationLookup: (): RevocationStatus => ({ status: 'good' }) } };
    expect((await verifyPdf(signed.pdf, { ...trusted(), ...lookup })).verdict).toBe('valid');
    for (const attack of ATTACKS) {
      const r = await verifyPdf(attack.make(signed.pdf), { ...trusted(), ...lookup });
      expect.soft(r.verdict, attack.name).toBe('invalid');
      expect.soft([...codes(r), ...r.findings.map((f) => f.code)], attack.name).toContain(attack.expect);
    }
  });
});
