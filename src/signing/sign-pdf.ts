import { createHash, type Hash } from 'node:crypto';
import { OneSealError } from '../errors.js';
import type { DigestSigner } from '../hsm/types.js';
import { PdfDict, type PdfRef } from '../pdf/objects.js';
import { PdfReader, type PdfLimits } from '../pdf/reader.js';
import { IncrementalWriter } from '../pdf/writer.js';
import { boxesOverlap, glyphBoxes } from '../pdf/text.js';
import { nodeHash, signerHash } from '../pki/sign.js';
import { addSignatureTimestamp, buildSignedData, certificatesOf, signatureValueOf, timestampGenTime, timestampImprint } from './cms.js';
import { addDss, vriKey, type ValidationData } from './dss.js';
import { GrowingPdf } from './growing-pdf.js';
import { editCatalog } from './edit.js';
import { addSignatureField, docMdpPermission, fillSignatureField, readForm, type AppearanceSource, type VisibleAppearance } from './field.js';
import { fillContents, prepareSlot, signatureContentsSize, updateWithTail, type SignatureSlot } from './placeholder.js';
import { docTimeStampDict, signatureDict, type DocMdpPermission } from './signature-dict.js';

export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

/** An RFC 3161 time-stamping service (pki/tsa, or an external TSA behind the same shape). */
export interface Timestamper {
  /** A DER TimeStampToken whose message imprint is this SHA-256 digest. */
  stamp(sha256: Uint8Array): Promise<Uint8Array>;
  /** Upper bound of a token's size in bytes (see `timestampTokenSizeBound`), to reserve /Contents. */
  maxTokenSize: number;
  /** The TSA's certificate chain, when known ahead: long-term upkeep stores its validation data before the new time-stamp. */
  certificates?: readonly Uint8Array[];
}

export interface RevocationOptions {
  /**
   * The genTime of the time-stamp the data supports: validators (ETSI EN 319 102-1 LTV) want
   * revocation data issued at or after it, so OCSP responses produced earlier are not used.
   */
  notBefore?: Date;
}

/** Revocation data for certificates (pki: CRLs and OCSP responses, fetched or issued). */
export interface RevocationSource {
  forCerts(certs: Uint8Array[], options?: RevocationOptions): Promise<{ crls: Uint8Array[]; ocsps: Uint8Array[] }>;
}

export interface SignPdfOptions {
  signer: DigestSigner;
  /** The signer's certificate, DER. */
  certificate: Uint8Array;
  /** Issuing CA certificates up to (and optionally including) the root, DER. */
  chain: readonly Uint8Array[];
  /** Written to /M; PAdES keeps the claimed signing time out of the CMS. */
  signingTime: Date;
  /** Time zone /M is written in (480 for China Standard Time); UTC when omitted. */
  utcOffsetMinutes?: number;
  level: PadesLevel;
  /** Visible seal; the signature is invisible (on page 1) when omitted. */
  appearance?: VisibleAppearance;
  /** More appearances of this signature (骑缝章 slices), as locked annotations in its revision. */
  extraAppearances?: readonly VisibleAppearance[];
  /** Name of the new signature field ("SignatureN" when omitted). */
  fieldName?: string;
  /** Sign into this existing empty signature field instead of creating one (its rectangle and page are kept). */
  existingField?: { name: string; xobject?: AppearanceSource };
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Certification signature with this DocMDP permission (only as the document's first signature). */
  certify?: DocMdpPermission;
  /** Required from B-T up. */
  timestamper?: Timestamper;
  /** Required from B-LT up. */
  revocation?: RevocationSource;
  limits?: Partial<PdfLimits>;
}

export interface SignPdfResult {
  pdf: Buffer;
  /** SHA-256 of the input and of the output, hex. */
  sha256In: string;
  sha256Out: string;
  fieldName: string;
  /** The signature's ByteRange. */
  byteRange: [number, number, number, number];
  /** The CMS SignedData DER that went into /Contents (without padding). */
  cms: Buffer;
}

function checkOptions(o: SignPdfOptions): void {
  const needsTsa = o.level !== 'B-B';
  if (needsTsa && !o.timestamper) {
    throw new OneSealError('timestamp-unavailable', 'bad-request', `PAdES ${o.level} needs a time-stamping service; none is configured.`);
  }
  if ((o.level === 'B-LT' || o.level === 'B-LTA') && !o.revocation) {
    throw new OneSealError('revocation-unavailable', 'bad-request', `PAdES ${o.level} needs revocation data; no source is configured.`);
  }
}

/** Room for a revision's catalog, field and cross-reference section besides its payload. */
const TAIL_SLACK = 16 * 1024;

/** Builds one incremental revision around a signature-like dictionary and locates its slot. */
function buildRevision(writer: IncrementalWriter, sigRef: PdfRef, base: number): { tail: Buffer; slot: SignatureSlot } {
  const { tail, objectOffsets } = writer.build();
  return { tail, slot: prepareSlot(tail, objectOffsets.get(sigRef.num)!, base) };
}

/**
 * Signs a PDF with PAdES baseline signatures as incremental updates. `document` is the input bytes,
 * or a reader the caller already opened on them (for placement) so they are not parsed twice. The
 * input bytes are a prefix of the output; each input byte is hashed once (SHA-256 keys: the running document hash is shared by
 * the signature digest, the document time-stamp and the output checksum).
 */
export async function signPdf(document: Uint8Array | PdfReader, o: SignPdfOptions): Promise<SignPdfResult> {
  checkOptions(o);
  const reader = document instanceof PdfReader ? document : PdfReader.load(document, o.limits);
  const input = reader.bytes;
  const docHash = createHash('sha256').update(input);
  const sha256In = docHash.copy().digest('hex');
  const sig = await signatureRevision(reader, o, docHash);
  docHash.update(sig.tail);
  const result = { sha256In, fieldName: sig.fieldName, byteRange: sig.slot.byteRange, cms: sig.cms };
  if (o.level === 'B-B' || o.level === 'B-T') {
    return { ...result, pdf: Buffer.concat([input, sig.tail]), sha256Out: docHash.digest('hex') };
  }

  const certs = [o.certificate, ...o.chain, ...(sig.token ? certificatesOf(sig.token) : [])];
  const data: ValidationData = { certs, ...(await o.revocation!.forCerts(certs, { notBefore: timestampGenTime(sig.token!) })) };
  const payload = [...data.certs, ...data.crls, ...data.ocsps].reduce((n, d) => n + d.length, 0);
  const lta = o.level === 'B-LTA' ? 2 * o.timestamper!.maxTokenSize + TAIL_SLACK : 0;
  const doc = new GrowingPdf(input, sig.tail.length + payload + TAIL_SLACK + lta);
  doc.append(sig.tail);
  appendDss(doc, o.limits, vriKey(sig.cms, sig.slot.capacity), data, docHash);
  if (o.level === 'B-LTA') await appendDocTimestamp(doc, { timestamper: o.timestamper!, limits: o.limits }, docHash);
  return { ...result, pdf: doc.view(), sha256Out: docHash.digest('hex') };
}

interface SignatureRevision {
  tail: Buffer;
  slot: SignatureSlot;
  fieldName: string;
  cms: Buffer;
  /** The signature time-stamp token (B-T and up). */
  token?: Uint8Array;
}

/** Asks the TSA for a token and checks that it stamps this digest (a mixed-up or stale answer would not verify). */
async function stamp(timestamper: Timestamper, digest: Uint8Array): Promise<Uint8Array> {
  const token = await timestamper.stamp(digest);
  if (Buffer.compare(timestampImprint(token), digest) !== 0) {
    throw new OneSealError('timestamp-mismatch', 'unavailable', 'The time-stamping service returned a token for different data; try again.');
  }
  return token;
}

/**
 * On a certified document a new seal may not cover its text: that is how a "sneaky signature"
 * changes what was certified, and verifiers (OneSeal's included) reject the certification for it.
 * A field the certifier prepared keeps its place; beside the text, or invisibly, a seal is fine.
 */
function refuseSealOverCertifiedText(reader: PdfReader, appearances: (VisibleAppearance | undefined)[]): void {
  for (const a of appearances) {
    if (!a || !glyphBoxes(reader, a.page).some((box) => boxesOverlap(box, a.rect))) continue;
    throw new OneSealError(
      'certified-text-covered',
      'conflict',
      `The document is certified: a new seal on page ${a.page + 1} may not cover its text (it would break the certification). Place it beside the text, or sign invisibly.`,
    );
  }
}

/** Revision 1: field, widget and signature dictionary; then the CMS over its byte range. */
async function signatureRevision(reader: PdfReader, o: SignPdfOptions, inputHash: Hash): Promise<SignatureRevision> {
  if (docMdpPermission(reader) === 1) {
    throw new OneSealError('document-certified-no-changes', 'conflict', 'The document is certified with "no changes allowed"; it cannot be signed again.');
  }
  const form = readForm(reader);
  if (docMdpPermission(reader) !== undefined) refuseSealOverCertifiedText(reader, [...(o.existingField ? [] : [o.appearance]), ...(o.extraAppearances ?? [])]);
  if (o.certify && form.signatureFields.some((f) => f.signed)) {
    throw new OneSealError('certify-signed-document', 'conflict', 'Only the first signature of a document can certify it, and this document is already signed.');
  }
  const writer = new IncrementalWriter(reader);
  const catalog = editCatalog(reader);
  const contentsSize = signatureContentsSize({
    algorithm: o.signer.algorithm,
    certificate: o.certificate,
    chain: o.chain,
    timestampTokenSize: o.level === 'B-B' ? undefined : o.timestamper!.maxTokenSize,
  });
  const sigRef = writer.add(signatureDict({ ...o, contentsSize }));
  let fieldName: string;
  if (o.existingField) {
    fieldName = o.existingField.name;
    fillSignatureField(reader, writer, catalog, {
      name: fieldName,
      sigRef,
      xobject: o.existingField.xobject,
      extraAppearances: o.extraAppearances,
      form,
    });
  } else {
    fieldName = addSignatureField(reader, writer, catalog, {
      sigRef,
      name: o.fieldName,
      appearance: o.appearance,
      extraAppearances: o.extraAppearances,
      form,
    });
  }
  if (o.certify) {
    const perms = reader.resolve(catalog.get('Perms'));
    catalog.set('Perms', (perms instanceof PdfDict ? perms.clone() : new PdfDict()).set('DocMDP', sigRef));
  }
  catalog.commit(writer);
  const { tail, slot } = buildRevision(writer, sigRef, reader.bytes.length);

  const hash = signerHash(o.signer);
  const sigHash = hash === 'SHA-256' ? inputHash.copy() : createHash(nodeHash(hash)).update(reader.bytes);
  let cms = await buildSignedData({
    signer: o.signer,
    certificate: o.certificate,
    chain: o.chain,
    contentDigest: updateWithTail(sigHash, tail, slot).digest(),
  });
  let token: Uint8Array | undefined;
  if (o.level !== 'B-B') {
    token = await stamp(o.timestamper!, createHash('sha256').update(signatureValueOf(cms)).digest());
    cms = addSignatureTimestamp(cms, token);
  }
  fillContents(tail, slot, cms);
  return { tail, slot, fieldName, cms, token };
}

/** Revision 2 (B-LT): the DSS with everything a verifier needs later, keyed to the signature (or time-stamp) `key` names. */
export function appendDss(doc: GrowingPdf, limits: Partial<PdfLimits> | undefined, key: string, data: ValidationData, docHash: Hash): void {
  const reader = PdfReader.load(doc.view(), limits);
  const writer = new IncrementalWriter(reader);
  const catalog = editCatalog(reader);
  addDss(reader, writer, catalog, key, data);
  catalog.commit(writer);
  const { tail } = writer.build();
  docHash.update(tail);
  doc.append(tail);
}

/** Revision 3 (B-LTA): a document time-stamp over everything before it. */
export async function appendDocTimestamp(doc: GrowingPdf, o: { timestamper: Timestamper; limits?: Partial<PdfLimits> }, docHash: Hash): Promise<void> {
  const reader = PdfReader.load(doc.view(), o.limits);
  const writer = new IncrementalWriter(reader);
  const tsRef = writer.add(docTimeStampDict(o.timestamper.maxTokenSize));
  const catalog = editCatalog(reader);
  addSignatureField(reader, writer, catalog, { sigRef: tsRef, form: readForm(reader) });
  catalog.commit(writer);
  const { tail, slot } = buildRevision(writer, tsRef, doc.length);
  const token = await stamp(o.timestamper, updateWithTail(docHash.copy(), tail, slot).digest());
  fillContents(tail, slot, token);
  docHash.update(tail);
  doc.append(tail);
}
