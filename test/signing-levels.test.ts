import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { signatureValueOf } from '../src/signing/cms.js';
import { signPdf, type SignPdfOptions } from '../src/signing/sign-pdf.js';
import { gapBytes, makePdf, opensslVerify, pdfsig, pdfsigBlocks, qpdfCheck, run, type TestPki, trimDer, writeTemp, useTestPki } from './signing-fixtures.js';

let pki: TestPki;

useTestPki((p) => {
  pki = p;
});

async function options(level: SignPdfOptions['level']): Promise<SignPdfOptions> {
  const seal = await pki.seal('RSA-2048');
  return {
    signer: seal.key,
    certificate: seal.cert,
    chain: seal.chain,
    signingTime: new Date(),
    level,
    timestamper: pki.timestamper,
    revocation: pki.revocation,
  };
}

/** The signature-time-stamp token inside a CMS, and the TSTInfo it carries. */
function timestampOf(cms: Uint8Array): { token: Buffer; tst: pkijs.TSTInfo } {
  const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(cms).content });
  const attr = sd.signerInfos[0]!.unsignedAttrs?.attributes.find((a) => a.type === '1.2.840.113549.1.9.16.2.14');
  if (!attr) throw new Error('no signature time-stamp');
  const token = Buffer.from(attr.values[0]!.toBER());
  return { token, tst: tstInfoOf(token) };
}

function tstInfoOf(token: Uint8Array): pkijs.TSTInfo {
  const tsd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(token).content });
  const econtent = tsd.encapContentInfo.eContent as asn1js.OctetString;
  return pkijs.TSTInfo.fromBER(econtent.getValue());
}

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');

function streamsOf(reader: PdfReader, v: PdfValue | undefined): Buffer[] {
  const arr = reader.resolve(v);
  return (Array.isArray(arr) ? arr : []).map((r) => Buffer.from(reader.decodeStream(reader.resolve(r) as PdfStream)));
}

describe('PAdES B-T', () => {
  it('adds a signature time-stamp over the SHA-256 of the signature value', async () => {
    const before = pki.timestamper.calls.length;
    const r = await signPdf(await makePdf(), await options('B-T'));
    expect(pki.timestamper.calls.length).toBe(before + 1);
    const { token: tsToken, tst } = timestampOf(r.cms);
    const expected = createHash('sha256').update(signatureValueOf(r.cms)).digest('hex');
    expect(hex(tst.messageImprint.hashedMessage.getValue())).toBe(expected);

    // openssl checks the token independently: imprint, TSA signature, TSA chain to our root.
    const tokenFile = writeTemp(pki.dir, 'bt-token.der', tsToken);
    const v = run('openssl', ['ts', '-verify', '-digest', expected, '-sha256', '-in', tokenFile, '-token_in', '-CAfile', pki.rootPem]);
    expect(v.out).toContain('Verification: OK');

    const [block] = pdfsigBlocks(pdfsig(pki, r.pdf, 'bt'));
    expect(block).toContain('Signature is Valid.');
    expect(block).toContain('Total document signed');
    expect(opensslVerify(pki, r.pdf, r.byteRange, 'bt').out).toContain('Verification successful');
    expect(Buffer.from(trimDer(gapBytes(r.pdf, r.byteRange))).equals(r.cms)).toBe(true);
  });
});

describe('PAdES B-LT', () => {
  it('appends a DSS revision with the chains, OCSP responses and CRLs, keyed by the signature', async () => {
    const input = await makePdf();
    const r = await signPdf(input, await options('B-LT'));
    const reader = PdfReader.load(r.pdf);
    expect(reader.revisions.length).toBe(3); // original, signature, DSS
    const dss = reader.resolve(reader.catalog().get('DSS')) as PdfDict;
    const certs = streamsOf(reader, dss.get('Certs')).map((c) => c.toString('hex'));
    const seal = await pki.seal('RSA-2048');
    for (const c of [seal.cert, ...seal.chain, pki.tsa.cert]) expect(certs).toContain(hex(c));
    expect(new Set(certs).size).toBe(certs.length);
    const ocsps = streamsOf(reader, dss.get('OCSPs'));
    expect(ocsps.length).toBe(3); // seal, intermediate, TSA
    for (const o of ocsps) expect(pkijs.OCSPResponse.fromBER(o).responseStatus.valueBlock.valueDec).toBe(0);
    expect(streamsOf(reader, dss.get('CRLs')).length).toBe(2);

    const vri = reader.resolve(dss.get('VRI')) as PdfDict;
    const key = createHash('sha1').update(gapBytes(r.pdf, r.byteRange)).digest('hex').toUpperCase();
    expect([...vri.keys()]).toEqual([key]);
    const entry = reader.resolve(vri.get(key)) as PdfDict;
    expect((entry.get('Cert') as PdfRef[]).length).toBe(certs.length);
    expect((entry.get('OCSP') as PdfRef[]).length).toBe(3);

    const [block] = pdfsigBlocks(pdfsig(pki, r.pdf, 'blt'));
    expect(block).toContain('Signature is Valid.');
    expect(block).toContain('Certificate is Trusted.');
    expect(qpdfCheck(pki, r.pdf, 'blt').status).toBe(0);
    expect(r.sha256Out).toBe(createHash('sha256').update(r.pdf).digest('hex'));
  });

  it('a second B-LT signature reuses the DSS entries already there', async () => {
    const first = await signPdf(await makePdf(), await options('B-LT'));
    const second = await signPdf(first.pdf, await options('B-LT'));
    const reader = PdfReader.load(second.pdf);
    const dss = reader.resolve(reader.catalog().get('DSS')) as PdfDict;
    const certs = streamsOf(reader, dss.get('Certs')).map((c) => c.toString('hex'));
    expect(new Set(certs).size).toBe(certs.length);
    expect([...(reader.resolve(dss.get('VRI')) as PdfDict).keys()]).toHaveLength(2);
    pdfsigBlocks(pdfsig(pki, second.pdf, 'blt2')).forEach((b) => expect(b).toContain('Signature is Valid.'));
  });
});

describe('PAdES B-LTA', () => {
  it('ends with a document time-stamp over the whole file that openssl verifies and pdfsig lists', async () => {
    const r = await signPdf(await makePdf(), await options('B-LTA'));
    const reader = PdfReader.load(r.pdf);
    expect(reader.revisions.length).toBe(4);
    const blocks = pdfsigBlocks(pdfsig(pki, r.pdf, 'blta'));
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('Signature is Valid.');
    // pdfsig (poppler 22.12) lists RFC 3161 document time-stamps but cannot validate them
    // ("Unable to validate this type of signature"); openssl ts checks the token below.
    expect(blocks[1]).toContain('Signer Certificate Common Name: OneSeal Test TSA');
    expect(blocks[1]).toContain('Total document signed');
    expect(blocks[0]).toContain('Not total document signed');
    expect(qpdfCheck(pki, r.pdf, 'blta').status).toBe(0);

    // The document time-stamp's imprint is the SHA-256 of its byte ranges.
    const form = reader.resolve(reader.catalog().get('AcroForm')) as PdfDict;
    const fields = (reader.resolve(form.get('Fields')) as PdfRef[]).map((f) => reader.getObject(f) as PdfDict);
    const ts = reader.resolve(fields.at(-1)!.get('V')) as PdfDict;
    expect((ts.get('Type') as PdfName).name).toBe('DocTimeStamp');
    const br = ts.get('ByteRange') as number[];
    expect(br[2]! + br[3]!).toBe(r.pdf.length);
    const signed = Buffer.concat([r.pdf.subarray(0, br[1]), r.pdf.subarray(br[2]!, br[2]! + br[3]!)]);
    const tsToken = trimDer((ts.get('Contents') as PdfString).bytes);
    const tst = tstInfoOf(tsToken);
    expect(hex(tst.messageImprint.hashedMessage.getValue())).toBe(createHash('sha256').update(signed).digest('hex'));
    const tokenFile = writeTemp(pki.dir, 'blta-token.der', tsToken);
    const dataFile = writeTemp(pki.dir, 'blta-ranges.bin', signed);
    const v = run('openssl', ['ts', '-verify', '-data', dataFile, '-in', tokenFile, '-token_in', '-CAfile', pki.rootPem]);
    expect(v.out).toContain('Verification: OK');
    expect(r.sha256Out).toBe(createHash('sha256').update(r.pdf).digest('hex'));
  });
});

describe('option checks', () => {
  it('B-T without a time-stamping service is refused before anything is signed', async () => {
    const o = await options('B-T');
    delete o.timestamper;
    await expect(signPdf(await makePdf(), o)).rejects.toMatchObject({ code: 'timestamp-unavailable' });
  });

  it('a TSA answer for other data is rejected instead of embedded', async () => {
    const o = await options('B-T');
    const tsa = pki.timestamper;
    o.timestamper = { maxTokenSize: tsa.maxTokenSize, stamp: (d) => tsa.stamp(createHash('sha256').update(d).digest()) };
    await expect(signPdf(await makePdf(), o)).rejects.toMatchObject({ code: 'timestamp-mismatch' });
  });
});
