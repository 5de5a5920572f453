/**
 * The common Node way to sign a PDF, as the baseline: pdf-lib adds a placeholder and rewrites the
 * document, @signpdf signs it with a software key from a PKCS#12 file.
 */
import forge from 'node-forge';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';

/** An RSA-2048 key and self-signed certificate in a PKCS#12 (software key: the baseline has no HSM). */
export function makeP12(): Buffer {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const attrs = [{ name: 'commonName', value: 'signpdf baseline' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], '', { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

const signpdf = new SignPdf();

export async function signWithSignpdf(pdf: Uint8Array, p12: Buffer): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf);
  pdflibAddPlaceholder({ pdfDoc: doc, reason: 'approval', contactInfo: '', name: 'baseline', location: '' });
  const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
  // A P12Signer signs only once, so each signature gets its own.
  return signpdf.sign(withPlaceholder, new P12Signer(p12));
}
