/**
 * Long-term validity upkeep (PAdES B-LTA, as pyHanko's `ltaupdate`): before the certificate of a
 * document's newest time-stamp expires, add the validation data for that time-stamp (and for the
 * signatures under it) in a DSS revision, then a new document time-stamp over everything. Both are
 * incremental updates: every earlier byte stays, so every earlier signature still covers what it did.
 */
import { createHash } from 'node:crypto';
import { OneSealError } from '../errors.js';
import { PdfDict, PdfName, PdfString } from '../pdf/objects.js';
import { PdfReader, type PdfLimits } from '../pdf/reader.js';
import { certificatesOf, signatureTimestampsOf, timestampGenTime, uniqueCertificates } from './cms.js';
import { readTlv } from './der.js';
import { vriKey } from './dss.js';
import { readForm } from './field.js';
import { GrowingPdf } from './growing-pdf.js';
import { appendDocTimestamp, appendDss, type RevocationSource, type Timestamper } from './sign-pdf.js';

/** One signature-like value of the document: a CMS signature or a document time-stamp. */
export interface SignedValue {
  kind: 'signature' | 'doc-timestamp';
  /** The /Contents string as stored, padding included (what the /VRI key hashes). */
  contents: Uint8Array;
  /** The DER without padding: a CMS SignedData or, for a document time-stamp, the token. */
  der: Uint8Array;
  /** Where /Contents sits in the file: later values sit later. */
  offset: number;
}

/** The signatures and document time-stamps of a document, in file order (the newest last). */
export function signedValues(reader: PdfReader): SignedValue[] {
  const out: SignedValue[] = [];
  for (const field of readForm(reader).signatureFields) {
    const v = reader.resolve(field.dict.get('V'));
    if (!(v instanceof PdfDict)) continue;
    const contents = v.get('Contents');
    if (!(contents instanceof PdfString) || contents.bytes.length < 2) continue;
    let der: Uint8Array;
    try {
      der = contents.bytes.subarray(0, readTlv(contents.bytes, 0).end);
    } catch {
      continue; // an unreadable value cannot be extended; the verifier reports it
    }
    const sf = reader.resolve(v.get('SubFilter'));
    const docTs = v.type === 'DocTimeStamp' || (sf instanceof PdfName && sf.name === 'ETSI.RFC3161');
    out.push({ kind: docTs ? 'doc-timestamp' : 'signature', contents: contents.bytes, der, offset: contents.start });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** The newest time-stamp token: the last document time-stamp, else the last signature's signature time-stamp. */
export function newestTimestamp(values: readonly SignedValue[]): { token: Uint8Array; holder: SignedValue } | undefined {
  for (const v of [...values].reverse()) {
    if (v.kind === 'doc-timestamp') return { token: v.der, holder: v };
    const tokens = signatureTimestampsOf(v.der);
    if (tokens.length > 0) return { token: tokens[tokens.length - 1]!, holder: v };
  }
  return undefined;
}

export interface ExtendOptions {
  timestamper: Timestamper;
  revocation: RevocationSource;
  limits?: Partial<PdfLimits>;
}

export interface ExtendResult {
  pdf: Buffer;
  sha256In: string;
  sha256Out: string;
}

/**
 * Adds a DSS revision with the certificates and fresh revocation data for the newest time-stamp,
 * every signature's chain and the TSA about to stamp, then a document time-stamp. Refuses a document without any
 * time-stamp: there is no proven time to carry forward, and a time-stamp alone approves nothing.
 */
export async function extendLta(pdf: Uint8Array, o: ExtendOptions): Promise<ExtendResult> {
  const reader = PdfReader.load(pdf, o.limits);
  const values = signedValues(reader);
  const newest = newestTimestamp(values);
  if (!newest) {
    throw new OneSealError('no-timestamp', 'unprocessable', 'The document carries no time-stamp to carry forward (a B-B signature); it cannot be extended to B-LTA.');
  }
  const [first, ...rest] = [
    ...certificatesOf(newest.token),
    ...(o.timestamper.certificates ?? []),
    ...values.filter((v) => v.kind === 'signature').flatMap((v) => [...certificatesOf(v.der), ...signatureTimestampsOf(v.der).flatMap(certificatesOf)]),
  ];
  const certs = first ? uniqueCertificates(first, rest) : [];
  const revocation = await o.revocation.forCerts(certs, { notBefore: timestampGenTime(newest.token) });
  const docHash = createHash('sha256').update(reader.bytes);
  const sha256In = docHash.copy().digest('hex');
  const payload = [...certs, ...revocation.crls, ...revocation.ocsps].reduce((n, d) => n + d.length, 0);
  const doc = new GrowingPdf(reader.bytes, payload + 2 * o.timestamper.maxTokenSize + 32 * 1024);
  const key = vriKey(newest.holder.contents, newest.holder.contents.length);
  appendDss(doc, o.limits, key, { certs, ...revocation }, docHash);
  await appendDocTimestamp(doc, o, docHash);
  return { pdf: Buffer.from(doc.view()), sha256In, sha256Out: docHash.digest('hex') };
}
