import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import type { DigestSigner, HashAlgorithm } from '../hsm/types.js';
import {
  type CertificateInput,
  assertSignerOwns,
  bytesOf,
  certificateDer,
  integerHex,
  positiveInteger,
  sameBytes,
  toArrayBuffer,
  toCertificate,
  wholeSeconds,
} from './der.js';
import { REVOCATION_REASONS, type RevocationReason } from './revocation.js';
import { HASH_OIDS, digest, hashAlgorithmFromOid, signTbs, signatureAlgorithmIdentifier } from './sign.js';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_BASIC_RESPONSE = '1.3.6.1.5.5.7.48.1.1';

/** More would let one request make the responder do unbounded work. */
export const MAX_OCSP_REQUESTS = 16;

export type CertIdHash = 'SHA-1' | HashAlgorithm;

/** One certificate a client asks about (RFC 6960 CertID), kept in its original encoding for echoing. */
export interface OcspCertId {
  /** Undefined when the client used a hash we do not compute; such entries are answered "unknown". */
  hash: CertIdHash | undefined;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** Lowercase hex, no leading zeros (as integerHex/serialHex produce). */
  serial: string;
  der: Uint8Array;
}

export interface ParsedOcspRequest {
  certIds: OcspCertId[];
  /** The nonce extension's extnValue as received, echoed back unchanged (RFC 8954). */
  nonce?: Uint8Array;
}

export type OcspStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: RevocationReason }
  | { status: 'unknown' };

function certIdHash(oid: string): CertIdHash | undefined {
  return oid === OID_SHA1 ? 'SHA-1' : hashAlgorithmFromOid(oid);
}

function malformed(message: string, cause?: unknown): OneSealError {
  return new OneSealError('malformed-ocsp-request', 'bad-request', message, cause === undefined ? {} : { cause });
}

function readCertId(certId: pkijs.CertID): OcspCertId {
  return {
    hash: certIdHash(certId.hashAlgorithm.algorithmId),
    issuerNameHash: bytesOf(certId.issuerNameHash.valueBlock.valueHexView),
    issuerKeyHash: bytesOf(certId.issuerKeyHash.valueBlock.valueHexView),
    serial: integerHex(certId.serialNumber),
    der: new Uint8Array(certId.toSchema().toBER()),
  };
}

export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  let request: pkijs.OCSPRequest;
  try {
    request = pkijs.OCSPRequest.fromBER(der);
  } catch (cause) {
    throw malformed('The body is not a DER OCSPRequest (RFC 6960 4.1).', cause);
  }
  const list = request.tbsRequest.requestList;
  if (list.length === 0) throw malformed('The OCSP request asks about no certificate.');
  if (list.length > MAX_OCSP_REQUESTS) {
    throw new OneSealError('ocsp-request-too-large', 'too-large', `An OCSP request may ask about at most ${MAX_OCSP_REQUESTS} certificates (got ${list.length}).`);
  }
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === OID_NONCE);
  return {
    certIds: list.map((r) => readCertId(r.reqCert)),
    ...(nonce ? { nonce: bytesOf(nonce.extnValue.valueBlock.valueHexView) } : {}),
  };
}

/**
 * The DER request from a GET URL's last path segment (RFC 6960 appendix A.1: URL-encoded base64).
 * Clients differ — some leave '/' and '+' unescaped, some use base64url — so all of those are accepted.
 */
export function ocspRequestFromGetPath(segment: string): Uint8Array {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch (cause) {
    throw malformed('The OCSP GET path is not valid percent-encoding.', cause);
  }
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) throw malformed('The OCSP GET path is not base64.');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** The hashes of the issuer's name and key that identify it inside a CertID. */
function issuerHashes(ca: pkijs.Certificate, hash: CertIdHash): { name: Uint8Array; key: Uint8Array } {
  return {
    name: digest(hash, new Uint8Array(ca.subject.toSchema().toBER())),
    key: digest(hash, bytesOf(ca.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)),
  };
}

/** The CertID of `serial` under `issuer`; SHA-1 by default because RFC 5019 clients and OpenSSL use it. */
export function certIdFor(issuer: CertificateInput, serial: string | Uint8Array, hash: CertIdHash = 'SHA-1'): OcspCertId {
  const hashes = issuerHashes(toCertificate(issuer), hash);
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: hash === 'SHA-1' ? OID_SHA1 : HASH_OIDS[hash], algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: hashes.name }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: hashes.key }),
    serialNumber: positiveInteger(serial),
  });
  return readCertId(certId);
}

/** True when the CertID names a certificate issued by `issuer` (same hashes of its name and key). */
function issuedBy(id: OcspCertId, issuer: pkijs.Certificate): boolean {
  if (!id.hash) return false;
  const hashes = issuerHashes(issuer, id.hash);
  return sameBytes(hashes.name, id.issuerNameHash) && sameBytes(hashes.key, id.issuerKeyHash);
}

function contextTag(tagNumber: number, value?: asn1js.AsnType): asn1js.AsnType {
  return value
    ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value: [value] })
    : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber } });
}

function certStatus(status: OcspStatus): asn1js.AsnType {
  switch (status.status) {
    case 'good':
      return contextTag(0);
    case 'unknown':
      return contextTag(2);
    case 'revoked': {
      const value: asn1js.AsnType[] = [new asn1js.GeneralizedTime({ valueDate: wholeSeconds(status.revokedAt) })];
      if (status.reason && status.reason !== 'unspecified') {
        value.push(contextTag(0, new asn1js.Enumerated({ value: REVOCATION_REASONS[status.reason] })));
      }
      return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
    }
  }
}

export interface OcspResponder {
  cert: CertificateInput;
  signer: DigestSigner;
}

export interface CreateOcspResponseOptions {
  certIds: OcspCertId[];
  nonce?: Uint8Array;
  /** The CA whose certificates this responder answers for; other issuers' CertIDs are answered "unknown". */
  issuer: CertificateInput;
  /** The CA itself or a delegated responder certificate (profile 'ocsp') issued by it. */
  responder: OcspResponder;
  /** Status of a serial issued by `issuer`; a serial the CA never issued must be answered 'unknown'. */
  lookup(serialHex: string): OcspStatus | Promise<OcspStatus>;
  producedAt: Date;
  /** Defaults to producedAt. */
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** ResponderID form; byKey is smaller and what RFC 5019 recommends. */
  responderId?: 'key' | 'name';
}

/** A successful OCSPResponse (DER) carrying a BasicOCSPResponse signed by the responder, with its certificate. */
export async function createOcspResponse(options: CreateOcspResponseOptions): Promise<Uint8Array> {
  const issuer = toCertificate(options.issuer);
  const responderCert = toCertificate(options.responder.cert);
  assertSignerOwns(options.responder.signer, responderCert, 'OCSP responder');
  const isCa = sameBytes(certificateDer(responderCert), certificateDer(issuer));
  const issuedByCa = sameBytes(new Uint8Array(responderCert.issuer.toSchema().toBER()), new Uint8Array(issuer.subject.toSchema().toBER()));
  if (!isCa && !issuedByCa) {
    // RFC 6960 4.2.2.2: clients only accept the CA itself or a responder certificate that CA issued.
    throw new OneSealError('ocsp-responder-not-authorised', 'internal', 'The OCSP responder certificate was not issued by the CA it answers for.');
  }
  const thisUpdate = wholeSeconds(options.thisUpdate ?? options.producedAt);
  const nextUpdate = options.nextUpdate && wholeSeconds(options.nextUpdate);
  const responses: pkijs.SingleResponse[] = [];
  for (const id of options.certIds) {
    const status: OcspStatus = issuedBy(id, issuer) ? await options.lookup(id.serial) : { status: 'unknown' };
    responses.push(
      new pkijs.SingleResponse({
        certID: pkijs.CertID.fromBER(id.der),
        certStatus: certStatus(status),
        thisUpdate,
        ...(nextUpdate ? { nextUpdate } : {}),
      }),
    );
  }
  const responderID =
    options.responderId === 'name'
      ? responderCert.subject
      : new asn1js.OctetString({ valueHex: digest('SHA-1', bytesOf(responderCert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)) });
  const tbsResponseData = new pkijs.ResponseData({
    responderID,
    producedAt: wholeSeconds(options.producedAt),
    responses,
    ...(options.nonce ? { responseExtensions: [new pkijs.Extension({ extnID: OID_NONCE, extnValue: toArrayBuffer(options.nonce) })] } : {}),
  });
  tbsResponseData.tbsView = new Uint8Array(tbsResponseData.toSchema(true).toBER());
  const basic = new pkijs.BasicOCSPResponse({
    tbsResponseData,
    signatureAlgorithm: signatureAlgorithmIdentifier(options.responder.signer),
    signature: new asn1js.BitString({ valueHex: await signTbs(options.responder.signer, tbsResponseData.tbsView) }),
    certs: [pkijs.Certificate.fromBER(certificateDer(responderCert))],
  });
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: OID_BASIC_RESPONSE,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER());
}

const ERROR_STATUS = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

/** An unsigned OCSPResponse with an error status and no responseBytes (RFC 6960 4.2.1). */
export function ocspErrorResponse(status: keyof typeof ERROR_STATUS): Uint8Array {
  const response = new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: ERROR_STATUS[status] }) });
  return new Uint8Array(response.toSchema().toBER());
}

export interface OcspResponseForCertificateOptions {
  /** The certificate the response is about. */
  cert: CertificateInput;
  issuer: CertificateInput;
  status: OcspStatus;
  responder: OcspResponder;
  producedAt: Date;
  nextUpdate?: Date;
}

/** A response about one certificate without a client request, e.g. to embed in a PDF's DSS for LTV. */
export function ocspResponseForCertificate(options: OcspResponseForCertificateOptions): Promise<Uint8Array> {
  const cert = toCertificate(options.cert);
  return createOcspResponse({
    certIds: [certIdFor(options.issuer, integerHex(cert.serialNumber))],
    issuer: options.issuer,
    responder: options.responder,
    lookup: () => options.status,
    producedAt: options.producedAt,
    ...(options.nextUpdate ? { nextUpdate: options.nextUpdate } : {}),
  });
}
