import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import type { DigestSigner, HashAlgorithm } from '../hsm/types.js';
import { DIGEST_LENGTH } from '../hsm/signature-encoding.js';
import { certificateParts, uniqueCertificates, type CertificateParts } from '../signing/cms.js';
import { TAG, integer, octetString, oid, sequence, setOf, tlv } from '../signing/der.js';
import {
  type CertificateInput,
  assertSignerOwns,
  bytesOf,
  certificateDer,
  namedBits,
  positiveInteger,
  toCertificate,
  wholeSeconds,
} from './der.js';
import { digest, hashAlgorithmDer, hashAlgorithmFromOid, hashAlgorithmIdentifier, signerHash, signTbs, signatureAlgorithmDer } from './sign.js';

/**
 * The policy OneSeal's development TSA stamps under. OneSeal has no IANA enterprise number, and borrowing
 * someone's 1.3.6.1.4.1 arc could collide with a real policy; 2.999 is the joint ISO/ITU-T arc reserved for
 * examples (X.660), so this can never be mistaken for a registered policy. (A 2.25 UUID OID was rejected:
 * pkijs cannot decode arcs beyond 2^53.) A production TSA configures its own registered policy OID.
 */
export const ONESEAL_DEV_TSA_POLICY = '2.999.3161.1';

const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/** PKIFailureInfo bit numbers (RFC 3161 2.4.2). */
const FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export type TimeStampFailure = keyof typeof FAILURE_BITS;

export interface MessageImprint {
  hashAlgorithm: HashAlgorithm;
  hash: Uint8Array;
}

export interface TimeStampRequest {
  messageImprint: MessageImprint;
  /** INTEGER contents exactly as received, echoed back unchanged. */
  nonce?: Uint8Array;
  certReq: boolean;
  /** Named so that spreading a parsed request into CreateTimeStampOptions enforces it. */
  requestedPolicy?: string;
}

/** A client error in a time-stamp request; `extra.failInfo` is what to put in the rejection response. */
function rejected(code: string, failInfo: TimeStampFailure, message: string, cause?: unknown): OneSealError {
  return new OneSealError(code, 'bad-request', message, { extra: { failInfo }, ...(cause === undefined ? {} : { cause }) });
}

function checkImprint(imprint: MessageImprint): void {
  if (imprint.hash.length !== DIGEST_LENGTH[imprint.hashAlgorithm]) {
    throw rejected(
      'invalid-message-imprint',
      'badDataFormat',
      `A ${imprint.hashAlgorithm} message imprint is ${DIGEST_LENGTH[imprint.hashAlgorithm]} bytes, not ${imprint.hash.length}.`,
    );
  }
}

export function parseTimeStampRequest(der: Uint8Array): TimeStampRequest {
  let req: pkijs.TimeStampReq;
  try {
    req = pkijs.TimeStampReq.fromBER(der);
  } catch (cause) {
    throw rejected('malformed-timestamp-request', 'badDataFormat', 'The body is not a DER TimeStampReq (RFC 3161 2.4.1).', cause);
  }
  if (req.version !== 1) throw rejected('malformed-timestamp-request', 'badRequest', `TimeStampReq version ${req.version} is not supported (expected 1).`);
  const oid = req.messageImprint.hashAlgorithm.algorithmId;
  const hashAlgorithm = hashAlgorithmFromOid(oid);
  if (!hashAlgorithm) {
    throw rejected(
      'unsupported-hash-algorithm',
      'badAlg',
      `The time-stamp request uses hash algorithm ${oid}; OneSeal accepts SHA-256, SHA-384 and SHA-512 only (SHA-1 is too weak to time-stamp).`,
    );
  }
  if (req.extensions?.length) {
    throw rejected('unsupported-timestamp-extension', 'unacceptedExtension', 'Time-stamp request extensions are not supported; send the request without extensions.');
  }
  const request: TimeStampRequest = {
    messageImprint: { hashAlgorithm, hash: bytesOf(req.messageImprint.hashedMessage.valueBlock.valueHexView) },
    certReq: req.certReq === true,
    ...(req.nonce ? { nonce: bytesOf(req.nonce.valueBlock.valueHexView) } : {}),
    ...(req.reqPolicy ? { requestedPolicy: req.reqPolicy } : {}),
  };
  checkImprint(request.messageImprint);
  return request;
}

export interface TimestampRequestInput {
  /** The data to stamp (hashed here) … */
  data?: Uint8Array;
  /** … or its digest, computed with hashAlgorithm. */
  digest?: Uint8Array;
  hashAlgorithm?: HashAlgorithm;
  /** true (default) for a random 64-bit nonce, or the nonce's unsigned bytes. */
  nonce?: boolean | Uint8Array;
  certReq?: boolean;
  policy?: string;
}

/** A DER TimeStampReq, as a client (OneSeal itself, against an external TSA) sends it. */
export function timestampRequestFor(input: TimestampRequestInput): Uint8Array {
  const hashAlgorithm = input.hashAlgorithm ?? 'SHA-256';
  if ((input.data === undefined) === (input.digest === undefined)) {
    throw new OneSealError('invalid-timestamp-input', 'internal', 'Pass either the data or its digest to time-stamp, not both.');
  }
  const hash = input.digest ?? digest(hashAlgorithm, input.data!);
  checkImprint({ hashAlgorithm, hash });
  const nonce = input.nonce === false ? undefined : input.nonce === true || input.nonce === undefined ? randomBytes(8) : input.nonce;
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: hashAlgorithmIdentifier(hashAlgorithm),
      hashedMessage: new asn1js.OctetString({ valueHex: hash }),
    }),
    certReq: input.certReq ?? true,
    ...(nonce ? { nonce: positiveInteger(nonce) } : {}),
    ...(input.policy ? { reqPolicy: input.policy } : {}),
  });
  return new Uint8Array(req.toSchema().toBER());
}

export interface TimeStampAuthority {
  cert: CertificateInput;
  /** Issuing CA certificates, included when the client asks for certificates. */
  chain?: CertificateInput[];
  signer: DigestSigner;
}

export interface CreateTimeStampOptions {
  messageImprint: MessageImprint;
  nonce?: Uint8Array;
  certReq?: boolean;
  /** The client's requested policy; anything but `policy` is rejected. */
  requestedPolicy?: string;
  policy?: string;
  tsa: TimeStampAuthority;
  genTime: Date;
  /** Unsigned serial bytes; 16 random bytes when omitted. Must be unique per TSA. */
  serial?: Uint8Array;
  /** Accuracy of genTime in seconds (the clock's known bound), stated in the token. */
  accuracySeconds?: number;
}

function generalizedTime(date: Date): Buffer {
  return Buffer.from(new asn1js.GeneralizedTime({ valueDate: wholeSeconds(date) }).toBER());
}

function derOf(value: asn1js.AsnType | { toSchema(): asn1js.AsnType }): Buffer {
  return Buffer.from(('toSchema' in value ? value.toSchema() : value).toBER());
}

function tstInfo(o: CreateTimeStampOptions, policy: string, tsaName: Uint8Array): Buffer {
  return sequence(
    integer(1),
    // asn1js rather than signing/der oid(): the configured policy may have arcs beyond 2^53.
    derOf(new asn1js.ObjectIdentifier({ value: policy })),
    sequence(hashAlgorithmDer(o.messageImprint.hashAlgorithm), octetString(o.messageImprint.hash)),
    derOf(positiveInteger(o.serial ?? randomBytes(16))),
    generalizedTime(o.genTime),
    ...(o.accuracySeconds ? [sequence(integer(o.accuracySeconds))] : []),
    ...(o.nonce ? [derOf(new asn1js.Integer({ valueHex: o.nonce }))] : []),
    // tsa [0] GeneralName directoryName: lets the client match the token to the TSA certificate.
    tlv(TAG.CTX0, tlv(TAG.CTX4, tsaName)),
  );
}

const attribute = (type: string, value: Uint8Array): Buffer => sequence(oid(type), setOf([value]));

interface TsaIdentity {
  certDer: Uint8Array;
  parts: CertificateParts;
  /** The certificate's subject, byte for byte (pkijs keeps a parsed Name's original encoding). */
  subject: Uint8Array;
  /** ESS certificate id (RFC 5816): the certificate's SHA-256 hash and its issuer and serial. */
  essCertIdV2: Buffer;
  /** The signer key checked against the certificate. */
  checkedSpki: Uint8Array;
}

/**
 * What every token repeats about the TSA, worked out once per certificate object (the service's
 * certificate is parsed once) and again only when the signer handed in with it changes.
 */
const identities = new WeakMap<pkijs.Certificate, TsaIdentity>();

function tsaIdentity(tsa: TimeStampAuthority): TsaIdentity {
  const cert = toCertificate(tsa.cert);
  const known = identities.get(cert);
  if (known && known.checkedSpki === tsa.signer.spki) return known;
  assertSignerOwns(tsa.signer, cert, 'TSA');
  const certDer = certificateDer(tsa.cert);
  const parts = certificateParts(certDer);
  const issuerSerial = sequence(sequence(tlv(TAG.CTX4, parts.issuer)), parts.serial);
  const identity: TsaIdentity = {
    certDer,
    parts,
    subject: new Uint8Array(cert.subject.toSchema().toBER()),
    essCertIdV2: sequence(octetString(digest('SHA-256', certDer)), issuerSerial),
    checkedSpki: tsa.signer.spki,
  };
  identities.set(cert, identity);
  return identity;
}

/**
 * An RFC 3161 TimeStampToken: CMS SignedData over a TSTInfo, signed attributes content-type,
 * message-digest and ESS signing-certificate-v2 (RFC 5816: SHA-256 hash of the TSA certificate).
 */
export async function createTimeStampToken(o: CreateTimeStampOptions): Promise<Uint8Array> {
  const policy = o.policy ?? ONESEAL_DEV_TSA_POLICY;
  if (o.requestedPolicy && o.requestedPolicy !== policy) {
    throw rejected('unaccepted-timestamp-policy', 'unacceptedPolicy', `This TSA stamps under policy ${policy} only, not ${o.requestedPolicy}.`);
  }
  checkImprint(o.messageImprint);
  const { certDer, parts, subject, essCertIdV2 } = tsaIdentity(o.tsa);
  const content = tstInfo(o, policy, subject);
  const hash = signerHash(o.tsa.signer);

  const signedAttrs = setOf([
    attribute(OID_CONTENT_TYPE, oid(OID_TST_INFO)),
    attribute(OID_MESSAGE_DIGEST, octetString(digest(hash, content))),
    attribute(OID_SIGNING_CERTIFICATE_V2, sequence(sequence(essCertIdV2))),
  ]);
  // The signature covers the attributes as a SET; they are stored under [0] IMPLICIT.
  const signature = await signTbs(o.tsa.signer, signedAttrs);
  signedAttrs[0] = TAG.CTX0;

  const digestAlgorithm = hashAlgorithmDer(hash);
  const signerInfo = sequence(
    integer(1),
    sequence(parts.issuer, parts.serial),
    digestAlgorithm,
    signedAttrs,
    signatureAlgorithmDer(o.tsa.signer),
    octetString(signature),
  );
  // RFC 3161 2.4.1: certificates only when the client asked for them.
  const certificates = o.certReq ? [setOf(uniqueCertificates(certDer, (o.tsa.chain ?? []).map(certificateDer)), TAG.CTX0)] : [];
  const signedData = sequence(
    integer(3),
    setOf([digestAlgorithm]),
    sequence(oid(OID_TST_INFO), tlv(TAG.CTX0, octetString(content))),
    ...certificates,
    setOf([signerInfo]),
  );
  return sequence(oid(OID_SIGNED_DATA), tlv(TAG.CTX0, signedData));
}

/** A granted TimeStampResp (DER) carrying a new token. */
export async function createTimeStampResponse(o: CreateTimeStampOptions): Promise<Uint8Array> {
  return sequence(sequence(integer(0)), await createTimeStampToken(o));
}

/** A rejection TimeStampResp (DER): status 2, the failure bit and a human-readable reason. */
export function timeStampRejection(failInfo: TimeStampFailure, text: string): Uint8Array {
  return sequence(sequence(integer(2), sequence(derOf(new asn1js.Utf8String({ value: text }))), derOf(namedBits([FAILURE_BITS[failInfo]]))));
}

