import { createHash } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';
import { OneSealError } from '../errors.js';
import type { DigestSigner, HashAlgorithm } from '../hsm/types.js';
import { DIGEST_LENGTH } from '../hsm/signature-encoding.js';
import { HASH_OIDS, signatureAlgorithmDer, signerHash, signTbs } from '../pki/sign.js';
import {
  TAG,
  children,
  contentOf,
  generalizedTime,
  integer,
  octetString,
  oid,
  readTlv,
  sequence,
  setOf,
  tlv,
  tlvBytes,
  type Tlv,
} from './der.js';

/**
 * Detached CMS SignedData for PAdES (ETSI EN 319 142-1, CAdES baseline as PAdES profiles it):
 * signed attributes are content-type, message-digest and ESS signing-certificate-v2 only — the
 * signing time lives in the signature dictionary's /M, and a signing-time attribute is not allowed.
 */

const OID = {
  data: oid('1.2.840.113549.1.7.1'),
  signedData: oid('1.2.840.113549.1.7.2'),
  contentType: oid('1.2.840.113549.1.9.3'),
  messageDigest: oid('1.2.840.113549.1.9.4'),
  signingCertificateV2: oid('1.2.840.113549.1.9.16.2.47'),
  signatureTimeStampToken: oid('1.2.840.113549.1.9.16.2.14'),
};

/** Digest AlgorithmIdentifier without parameters (RFC 5754 §2: absent is the preferred form); encoded once per algorithm. */
const DIGEST_ALGORITHM_IDS = Object.fromEntries(
  Object.entries(HASH_OIDS).map(([hash, dotted]) => [hash, sequence(oid(dotted))]),
) as Record<HashAlgorithm, Buffer>;
const digestAlgorithmId = (hash: HashAlgorithm): Buffer => DIGEST_ALGORITHM_IDS[hash];

/** CMSVersion 1 (SignedData and SignerInfo with an issuerAndSerialNumber), and the EncapsulatedContentInfo of detached data. */
const VERSION_1 = integer(1);
const DETACHED_DATA = sequence(OID.data);

/** The raw DER pieces of a certificate that CMS refers to, copied byte for byte. */
export interface CertificateParts {
  issuer: Uint8Array;
  serial: Uint8Array;
  spki: Uint8Array;
}

export function certificateParts(cert: Uint8Array): CertificateParts {
  try {
    const outer = readTlv(cert, 0);
    const tbs = children(cert, outer)[0];
    if (outer.tag !== TAG.SEQUENCE || outer.end !== cert.length || !tbs || tbs.tag !== TAG.SEQUENCE) {
      throw new RangeError('not a certificate');
    }
    const fields = children(cert, tbs);
    // tbsCertificate: [0] version (absent for v1), serial, signature, issuer, validity, subject, spki …
    const i = fields[0]?.tag === TAG.CTX0 ? 1 : 0;
    const [serial, , issuer, , , spki] = fields.slice(i);
    if (serial?.tag !== TAG.INTEGER || issuer?.tag !== TAG.SEQUENCE || spki?.tag !== TAG.SEQUENCE) {
      throw new RangeError('unexpected tbsCertificate layout');
    }
    return { issuer: tlvBytes(cert, issuer), serial: tlvBytes(cert, serial), spki: tlvBytes(cert, spki) };
  } catch (e) {
    throw new OneSealError('invalid-certificate', 'unprocessable', 'A certificate is not valid DER X.509.', {
      cause: e,
    });
  }
}

const issuerAndSerialNumber = (p: CertificateParts): Buffer => sequence(p.issuer, p.serial);

const attribute = (type: Buffer, value: Uint8Array): Buffer => sequence(type, setOf([value]));

/** ESS signing-certificate-v2 (RFC 5035) with the SHA-256 certificate hash (the DEFAULT, so omitted in DER). */
function signingCertificateV2(cert: Uint8Array, parts: CertificateParts): Buffer {
  const certHash = createHash('sha256').update(cert).digest();
  const issuerSerial = sequence(sequence(tlv(TAG.CTX4, parts.issuer)), parts.serial);
  return sequence(sequence(sequence(octetString(certHash), issuerSerial)));
}

/** Signer and chain certificates without duplicates (a chain often repeats the signer or the root). */
export function uniqueCertificates(certificate: Uint8Array, chain: readonly Uint8Array[]): Uint8Array[] {
  const unique: Uint8Array[] = [];
  for (const c of [certificate, ...chain]) {
    if (!unique.some((u) => Buffer.compare(u, c) === 0)) unique.push(c);
  }
  return unique;
}

export interface SignedDataInput {
  signer: DigestSigner;
  /** The signer's certificate (DER); its public key must be the signer's. */
  certificate: Uint8Array;
  /** Intermediate (and optionally root) certificates, DER. */
  chain: readonly Uint8Array[];
  /** Digest of the signed content (for PAdES: of the byte ranges) with `signerHash(signer)`. */
  contentDigest: Uint8Array;
}

/** The pieces of a SignedData that depend only on the signer's certificate and chain. */
interface SignerPieces {
  parts: CertificateParts;
  signingCertificate: Buffer;
  signerId: Buffer;
  certificates: Buffer;
}

/**
 * Kept per certificate object (and chain array) on the main thread, whose signing material is cached
 * (seals/service.ts), so its stamps share one; weakly held, so a rotated-out certificate takes its
 * pieces with it. A worker receives copies with every task: there they are built each time and not
 * kept, since a WeakMap filling with keys never looked up again cost the worker more than the pieces.
 */
const piecesOf = isMainThread ? new WeakMap<Uint8Array, { chain: readonly Uint8Array[]; pieces: SignerPieces }>() : undefined;

function signerPieces(certificate: Uint8Array, chain: readonly Uint8Array[]): SignerPieces {
  const kept = piecesOf?.get(certificate);
  if (kept?.chain === chain) return kept.pieces;
  const parts = certificateParts(certificate);
  const pieces = {
    parts,
    signingCertificate: attribute(OID.signingCertificateV2, signingCertificateV2(certificate, parts)),
    signerId: issuerAndSerialNumber(parts),
    certificates: setOf(uniqueCertificates(certificate, chain), TAG.CTX0),
  };
  piecesOf?.set(certificate, { chain, pieces });
  return pieces;
}

/**
 * Builds a detached CMS ContentInfo(SignedData) with one SignerInfo; returns its DER.
 * The digest algorithm follows the key (pki/sign.ts: P-384 pairs with SHA-384, the rest with SHA-256).
 */
export async function buildSignedData(input: SignedDataInput): Promise<Buffer> {
  const hash = signerHash(input.signer);
  if (input.contentDigest.length !== DIGEST_LENGTH[hash]) {
    throw new OneSealError('internal-error', 'internal', `A ${hash} content digest must be ${DIGEST_LENGTH[hash]} bytes.`);
  }
  const pieces = signerPieces(input.certificate, input.chain);
  if (Buffer.compare(pieces.parts.spki, input.signer.spki) !== 0) {
    throw new OneSealError(
      'certificate-key-mismatch',
      'conflict',
      "The signing certificate does not belong to the signing key: re-issue the seal version's certificate.",
    );
  }
  const attrs = [
    attribute(OID.contentType, OID.data),
    attribute(OID.messageDigest, octetString(input.contentDigest)),
    pieces.signingCertificate,
  ];
  // The signature covers the attributes encoded as a SET (tag 0x31), not as the [0] they are stored under.
  const signedAttrs = setOf(attrs);
  const signature = await signTbs(input.signer, signedAttrs);
  signedAttrs[0] = TAG.CTX0;

  const signerInfo = sequence(
    VERSION_1,
    pieces.signerId,
    digestAlgorithmId(hash),
    signedAttrs,
    signatureAlgorithmDer(input.signer),
    octetString(signature),
  );
  const signedData = sequence(
    VERSION_1,
    setOf([digestAlgorithmId(hash)]),
    DETACHED_DATA,
    pieces.certificates,
    setOf([signerInfo]),
  );
  return sequence(OID.signedData, tlv(TAG.CTX0, signedData));
}

/** The path from a ContentInfo to its only SignerInfo, so pieces can be read or one replaced. */
interface CmsLayout {
  contentType: Tlv;
  signedDataFields: Tlv[];
  signerInfoFields: Tlv[];
}

function layout(cms: Uint8Array): CmsLayout {
  try {
    const contentInfo = readTlv(cms, 0);
    const [contentType, explicit] = children(cms, contentInfo);
    if (contentInfo.tag !== TAG.SEQUENCE || !contentType || !explicit || explicit.tag !== TAG.CTX0) {
      throw new RangeError('not a ContentInfo');
    }
    if (Buffer.compare(tlvBytes(cms, contentType), OID.signedData) !== 0) throw new RangeError('not SignedData');
    const signedData = readTlv(cms, explicit.contentStart, explicit.end);
    const signedDataFields = children(cms, signedData);
    const signerInfos = signedDataFields[signedDataFields.length - 1];
    if (!signerInfos || signerInfos.tag !== TAG.SET) throw new RangeError('no signerInfos');
    const infos = children(cms, signerInfos);
    if (infos.length !== 1) throw new RangeError(`expected one SignerInfo, found ${infos.length}`);
    return { contentType, signedDataFields, signerInfoFields: children(cms, infos[0]!) };
  } catch (e) {
    throw new OneSealError('invalid-cms', 'unprocessable', 'The CMS signature is not a SignedData with one signer.', {
      cause: e,
    });
  }
}

/** The SignerInfo's signature value: what an RFC 3161 signature time-stamp is computed over. */
export function signatureValueOf(cms: Uint8Array): Uint8Array {
  const sig = layout(cms).signerInfoFields.find((f) => f.tag === TAG.OCTET_STRING);
  if (!sig) throw new OneSealError('invalid-cms', 'unprocessable', 'The CMS SignerInfo has no signature value.');
  return contentOf(cms, sig);
}

/** The certificates a SignedData carries (DER each), e.g. a time-stamp token's TSA chain. */
export function certificatesOf(cms: Uint8Array): Uint8Array[] {
  const certs = layout(cms).signedDataFields.find((f) => f.tag === TAG.CTX0);
  return certs ? children(cms, certs).map((c) => tlvBytes(cms, c)) : [];
}

/**
 * Adds an RFC 3161 TimeStampToken as the signature-time-stamp unsigned attribute (RFC 3161
 * appendix A) and returns the new ContentInfo DER; the signed part is copied unchanged.
 */
export function addSignatureTimestamp(cms: Uint8Array, token: Uint8Array): Buffer {
  const l = layout(cms);
  const fields = l.signerInfoFields;
  const unsigned = fields[fields.length - 1]?.tag === TAG.CTX1 ? fields[fields.length - 1]! : undefined;
  const kept = unsigned ? fields.slice(0, -1) : fields;
  const existing = unsigned ? children(cms, unsigned).map((a) => tlvBytes(cms, a)) : [];
  const signerInfo = sequence(
    ...kept.map((f) => tlvBytes(cms, f)),
    setOf([...existing, attribute(OID.signatureTimeStampToken, token)], TAG.CTX1),
  );
  const signedData = sequence(...l.signedDataFields.slice(0, -1).map((f) => tlvBytes(cms, f)), setOf([signerInfo]));
  return sequence(tlvBytes(cms, l.contentType), tlv(TAG.CTX0, signedData));
}

/** The TSTInfo fields of an RFC 3161 TimeStampToken (version, policy, messageImprint, serialNumber, genTime, …). */
function tstInfoFields(token: Uint8Array): Tlv[] {
  try {
    const encap = layout(token).signedDataFields[2];
    if (!encap || encap.tag !== TAG.SEQUENCE) throw new RangeError('no encapsulated content');
    const explicit = children(token, encap)[1];
    if (!explicit || explicit.tag !== TAG.CTX0) throw new RangeError('no TSTInfo');
    const octets = readTlv(token, explicit.contentStart, explicit.end);
    if (octets.tag !== TAG.OCTET_STRING) throw new RangeError('bad TSTInfo');
    return children(token, readTlv(token, octets.contentStart, octets.end));
  } catch (e) {
    throw invalidTimestamp(e);
  }
}

function invalidTimestamp(cause: unknown): OneSealError {
  return new OneSealError('invalid-timestamp', 'unavailable', 'The time-stamping service returned something that is not a time-stamp token.', { cause });
}

/**
 * The message imprint (hashed message) of an RFC 3161 TimeStampToken, read from its TSTInfo; lets
 * the caller check that a TSA stamped what it was asked to.
 */
export function timestampImprint(token: Uint8Array): Uint8Array {
  const imprint = tstInfoFields(token)[2];
  const hashed = imprint && children(token, imprint)[1];
  if (!hashed || hashed.tag !== TAG.OCTET_STRING) throw invalidTimestamp(new RangeError('bad messageImprint'));
  return contentOf(token, hashed);
}

/** A time-stamp token's genTime (RFC 3161 §2.4.2: GeneralizedTime "YYYYMMDDhhmmss[.s…]Z"). */
export function timestampGenTime(token: Uint8Array): Date {
  const genTime = generalizedTime(token, tstInfoFields(token)[4]);
  if (!genTime) throw invalidTimestamp(new RangeError('bad genTime'));
  return genTime;
}

/** The signature-time-stamp tokens among a SignerInfo's unsigned attributes (DER each), in their order. */
export function signatureTimestampsOf(cms: Uint8Array): Uint8Array[] {
  const fields = layout(cms).signerInfoFields;
  const unsigned = fields[fields.length - 1];
  if (unsigned?.tag !== TAG.CTX1) return [];
  const tokens: Uint8Array[] = [];
  for (const attr of children(cms, unsigned)) {
    const [type, values] = children(cms, attr);
    if (!type || !values || Buffer.compare(tlvBytes(cms, type), OID.signatureTimeStampToken) !== 0) continue;
    tokens.push(...children(cms, values).map((v) => tlvBytes(cms, v)));
  }
  return tokens;
}
