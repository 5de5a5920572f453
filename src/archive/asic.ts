/**
 * ASiC-E with CAdES (ETSI EN 319 162-1 §4.4.3): `mimetype` first and stored, the data objects, and
 * META-INF/ASiCManifest.xml naming each of them with its SHA-256, signed by META-INF/signature.p7s,
 * a detached CAdES-B-T signature over the manifest's bytes (signing-certificate-v2 signed attribute,
 * signature time-stamp unsigned attribute).
 */
import { createHash } from 'node:crypto';
import { addSignatureTimestamp, buildSignedData, signatureValueOf } from '../signing/cms.js';
import type { Timestamper } from '../signing/sign-pdf.js';
import type { KeyWithCertificate } from '../pki/authority.js';

export const ASIC_MIMETYPE = 'application/vnd.etsi.asic-e+zip';
export const MANIFEST_NAME = 'META-INF/ASiCManifest.xml';
export const SIGNATURE_NAME = 'META-INF/signature.p7s';
/**
 * Long-term availability (EN 319 162-1, ASiCArchiveManifest): the newest archive manifest is always
 * META-INF/ASiCArchiveManifest.xml, time-stamped by META-INF/timestampNNN.tst; when a newer one is
 * added, the previous is kept as ASiCArchiveManifestNNN.xml (NNN of its time-stamp) and the new one
 * references it, its time-stamp and every other entry.
 */
export const ARCHIVE_MANIFEST_NAME = 'META-INF/ASiCArchiveManifest.xml';
export const ARCHIVE_MANIFEST_PATTERN = /^META-INF\/ASiCArchiveManifest(\d{3})?\.xml$/;
export const ARCHIVE_TIMESTAMP_PATTERN = /^META-INF\/timestamp(\d{3})\.tst$/;
export const TIMESTAMP_MIMETYPE = 'application/vnd.etsi.timestamp-token';
const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';

export interface ManifestReference {
  uri: string;
  mimeType: string;
  /** Base64 SHA-256. */
  digest: string;
}

export const sha256b64 = (data: Uint8Array): string => createHash('sha256').update(data).digest('base64');

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xmlUnescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');

const SIGNATURE_REFERENCE = { uri: SIGNATURE_NAME, mimeType: 'application/pkcs7-signature' };

/** An ASiCManifest naming `entries`; `sig` is what signs it (the CAdES signature, or an archive manifest's time-stamp). */
export function manifestXml(entries: readonly { name: string; mimeType: string; data: Uint8Array }[], sig = SIGNATURE_REFERENCE): Buffer {
  const refs = entries.map((e) => [
    `  <asic:DataObjectReference URI="${xmlEscape(encodeURI(e.name))}" MimeType="${xmlEscape(e.mimeType)}">`,
    `    <ds:DigestMethod Algorithm="${SHA256_URI}"/>`,
    `    <ds:DigestValue>${sha256b64(e.data)}</ds:DigestValue>`,
    '  </asic:DataObjectReference>',
  ].join('\n'));
  return Buffer.from([
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    '<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">',
    `  <asic:SigReference URI="${xmlEscape(sig.uri)}" MimeType="${xmlEscape(sig.mimeType)}"/>`,
    ...refs,
    '</asic:ASiCManifest>',
    '',
  ].join('\n'), 'utf8');
}

/** The references of a manifest; undefined when it is not one (or names a digest other than SHA-256). */
export function parseManifest(xml: Buffer): { sigReference?: string; references: ManifestReference[] } | undefined {
  const text = xml.toString('utf8');
  if (!/<(\w+:)?ASiCManifest[\s>]/.test(text)) return undefined;
  const sig = /<(?:\w+:)?SigReference\s[^>]*URI="([^"]*)"/.exec(text)?.[1];
  const references: ManifestReference[] = [];
  for (const m of text.matchAll(/<(?:\w+:)?DataObjectReference\s([^>]*)>([\s\S]*?)<\/(?:\w+:)?DataObjectReference>/g)) {
    const attrs = m[1]!;
    const uri = /URI="([^"]*)"/.exec(attrs)?.[1];
    const mimeType = /MimeType="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const method = /<(?:\w+:)?DigestMethod\s+Algorithm="([^"]*)"/.exec(m[2]!)?.[1];
    const digest = /<(?:\w+:)?DigestValue>\s*([A-Za-z0-9+/=]+)\s*</.exec(m[2]!)?.[1];
    if (uri === undefined || method !== SHA256_URI || !digest) return undefined;
    references.push({ uri: decodeURI(xmlUnescape(uri)), mimeType: xmlUnescape(mimeType), digest });
  }
  return { ...(sig ? { sigReference: xmlUnescape(sig) } : {}), references };
}

/** Detached CAdES-B-T over `content` with the archive key (chain: OneSeal's root). */
export async function signDetached(content: Uint8Array, key: KeyWithCertificate, chain: readonly Uint8Array[], timestamper: Timestamper): Promise<Buffer> {
  const cms = await buildSignedData({
    signer: key.signer,
    certificate: key.certificate,
    chain,
    contentDigest: createHash('sha256').update(content).digest(),
  });
  const token = await timestamper.stamp(createHash('sha256').update(signatureValueOf(cms)).digest());
  return addSignatureTimestamp(cms, token);
}

