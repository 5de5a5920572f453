/**
 * CMS integrity checks on a real CAdES signature (EU DSS pdf-signed-original.pdf), manipulated the
 * ways the attack literature does: content, signature value, certificate set, signer infos.
 */
import { readFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { PdfReader } from '../src/pdf/reader.js';
import { parseCms } from '../src/verify/cms.js';
import { verifyCmsIntegrity } from '../src/verify/integrity.js';
import { findSignatures } from '../src/verify/signatures.js';
import { checkStructure } from '../src/verify/structure.js';
import { checkTimestampToken } from '../src/verify/timestamp.js';
import { corpusFile } from './support/pdfs.js';

function signatureOf(file: string, kind: 'signature' | 'doc-timestamp' = 'signature'): { der: Uint8Array; content: Uint8Array[] } {
  const reader = PdfReader.load(readFileSync(corpusFile(`eu-dss-pades/validation/${file}`)));
  const sig = findSignatures(reader).signatures.find((s) => s.kind === kind)!;
  const st = checkStructure(reader, sig.dict);
  return { der: st.contents!, content: st.layout!.ranges.map(([a, b]) => reader.bytes.subarray(a, b)) };
}

/** Re-encodes the CMS after `edit` changes its SignedData. */
function edited(der: Uint8Array, edit: (sd: pkijs.SignedData) => void): Uint8Array {
  const cms = parseCms(der);
  edit(cms.signedData);
  const ci = new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: cms.signedData.toSchema(true) });
  return new Uint8Array(ci.toSchema().toBER(false));
}

const codes = (der: Uint8Array, content: Uint8Array[]): string[] => verifyCmsIntegrity(parseCms(der), content).reasons.map((r) => r.code);

describe('CMS integrity', () => {
  const { der, content } = signatureOf('pdf-signed-original.pdf');

  it('holds for the untouched signature', () => {
    expect(codes(der, content)).toEqual([]);
  });

  it('detects changed content (DIGEST_MISMATCH)', () => {
    const changed = content.map((c) => Buffer.from(c));
    changed[0]![100] ^= 1;
    expect(codes(der, changed)).toEqual(['DIGEST_MISMATCH']);
  });

  it('detects a changed signature value (SIGNATURE_INVALID)', () => {
    const bad = edited(der, (sd) => {
      const v = new Uint8Array(sd.signerInfos[0]!.signature.valueBlock.valueHexView);
      v[10] ^= 0xff;
      sd.signerInfos[0]!.signature = new asn1js.OctetString({ valueHex: v });
    });
    expect(codes(bad, content)).toEqual(['SIGNATURE_INVALID']);
  });

  it('rejects a second SignerInfo (CMS_MALFORMED)', () => {
    const two = edited(der, (sd) => sd.signerInfos.push(sd.signerInfos[0]!));
    expect(codes(two, content)).toContain('CMS_MALFORMED');
  });

  it('needs the signer certificate (SIGNER_CERT_MISMATCH when absent)', () => {
    const bare = edited(der, (sd) => {
      sd.certificates = [];
    });
    expect(codes(bare, content)).toEqual(['SIGNER_CERT_MISMATCH']);
  });

  it('binds the certificate through ESS signing-certificate-v2 (same key and serial, other bytes)', () => {
    const swapped = edited(der, (sd) => {
      const cms = parseCms(der);
      const signer = cms.signerCert!;
      const v = new Uint8Array(signer.signatureValue.valueBlock.valueHexView);
      v[v.length - 1] ^= 1;
      const forged = pkijs.Certificate.fromBER(signer.toSchema().toBER(false));
      forged.signatureValue = new asn1js.BitString({ valueHex: v });
      sd.certificates = [pkijs.Certificate.fromBER(forged.toSchema().toBER(false))];
    });
    expect(codes(swapped, content)).toEqual(['SIGNER_CERT_MISMATCH']);
  });
});

describe('document time-stamps', () => {
  it('holds for its byte range and fails for any other data', () => {
    const ts = signatureOf('pades-t-level-extended.pdf', 'doc-timestamp');
    const ok = checkTimestampToken(ts.der, ts.content);
    expect(ok.reasons).toEqual([]);
    expect(ok.genTime).toBeInstanceOf(Date);
    const moved = checkTimestampToken(ts.der, [ts.content[0]!.subarray(1), ts.content[1]!]);
    expect(moved.reasons.map((r) => r.code)).toEqual(['TIMESTAMP_MISMATCH']);
  });
});

describe('byte-level and pkijs readings', () => {
  /** The same CMS with its outer SEQUENCE in BER indefinite-length form, which only the pkijs reading accepts. */
  function asBer(der: Uint8Array): Uint8Array {
    const lenBytes = der[1]! & 0x80 ? 1 + (der[1]! & 0x7f) : 1;
    return Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(1 + lenBytes), Buffer.from([0, 0])]);
  }
  const summary = (cms: ReturnType<typeof parseCms>) => ({
    count: cms.signerInfoCount,
    sid: Buffer.from(cms.sid).toString('hex'),
    digest: cms.digestAlgorithmOid,
    sigAlg: cms.signatureAlgorithm.algorithmId,
    signed: cms.signedAttrs?.map((a) => [a.type, a.values.map((v) => Buffer.from(v).toString('hex'))]),
    unsigned: cms.unsignedAttrs.map((a) => [a.type, a.values.map((v) => Buffer.from(v).toString('hex'))]),
    eContentType: cms.eContentType,
    eContent: cms.eContent && Buffer.from(cms.eContent).toString('hex'),
    signedAttrsDer: cms.signedAttrsDer && Buffer.from(cms.signedAttrsDer).toString('hex'),
    signature: Buffer.from(cms.signatureValue).toString('hex'),
    certs: cms.certificates.map((c) => Buffer.from(c.toSchema(true).toBER(false)).toString('hex')),
    signer: cms.signerCert && Buffer.from(cms.signerCert.toSchema(true).toBER(false)).toString('hex'),
  });

  it('read a signature and its time-stamp token identically', () => {
    for (const [file, kind] of [['pdf-signed-original.pdf', 'signature'], ['pades-t-level-extended.pdf', 'doc-timestamp']] as const) {
      const { der, content } = signatureOf(file, kind);
      const fast = parseCms(der);
      const slow = parseCms(asBer(der));
      expect(summary(fast)).toEqual(summary(slow));
      expect(fast.signerCert).toBeDefined();
      if (kind === 'signature') expect(codes(asBer(der), content)).toEqual([]);
      // Certificates are parsed once per encoding and shared; the pkijs reading parses its own.
      expect(parseCms(der).signerCert).toBe(fast.signerCert);
      expect(slow.signerCert).not.toBe(fast.signerCert);
    }
  });

  it('leave the bytes they read alone, also when given a Buffer (whose slice() is a view)', () => {
    const { der } = signatureOf('pdf-signed-original.pdf');
    const given = Buffer.from(der);
    parseCms(given);
    expect(given.equals(der)).toBe(true);
  });
});
