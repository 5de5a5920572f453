/**
 * Revocation status of one certificate from the evidence a signed PDF carries (DSS /CRLs and /OCSPs,
 * the adbe revocationInfoArchival signed attribute) and from the caller (OneSeal's own CA records).
 * Evidence only counts when it is signed by the certificate's issuer (or an OCSP responder it
 * delegated to), so planted CRLs/OCSP responses prove nothing.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { certificateDer, serialHex } from '../pki/der.js';
import { OID, attributeValues, type ParsedCms } from './cms.js';
import { digest, hashForOid, publicKeyOf, verifySignature, verifyCertSignature } from './crypto.js';
import { bytesOf, sameBytes } from '../pki/der.js';

export type RevocationStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date } | { status: 'unknown' };

/** Answers from the caller's own records (e.g. the OneSeal CA database); undefined when it does not know the certificate. */
export type RevocationLookup = (cert: { serialHex: string; der: Uint8Array; issuerDer?: Uint8Array }) =>
  | Promise<RevocationStatus | undefined>
  | RevocationStatus
  | undefined;

export interface RevocationEvidence {
  crls: pkijs.CertificateRevocationList[];
  ocsps: pkijs.BasicOCSPResponse[];
}

const LIMITS = { maxNodes: 2_000_000, maxContentLength: 64 * 1024 * 1024 };
const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

function parse(der: Uint8Array): asn1js.AsnType | undefined {
  const r = asn1js.fromBER(der, LIMITS);
  return r.offset === -1 ? undefined : r.result;
}

export function parseCrl(der: Uint8Array): pkijs.CertificateRevocationList | undefined {
  const schema = parse(der);
  try {
    return schema ? new pkijs.CertificateRevocationList({ schema }) : undefined;
  } catch {
    return undefined;
  }
}

/** Accepts a full OCSPResponse or a bare BasicOCSPResponse (both occur in DSS dictionaries). */
export function parseOcsp(der: Uint8Array): pkijs.BasicOCSPResponse | undefined {
  const schema = parse(der);
  if (!schema) return undefined;
  try {
    const resp = new pkijs.OCSPResponse({ schema });
    const rb = resp.responseBytes;
    if (!rb || rb.responseType !== OCSP_BASIC) return undefined;
    const inner = parse(bytesOf(rb.response.valueBlock.valueHexView));
    return inner ? new pkijs.BasicOCSPResponse({ schema: inner }) : undefined;
  } catch {
    try {
      return new pkijs.BasicOCSPResponse({ schema });
    } catch {
      return undefined;
    }
  }
}

/** The adbe-revocationInfoArchival attribute: SEQUENCE { crl [0] SEQUENCE OF CRL, ocsp [1] SEQUENCE OF OCSPResponse, … }. */
export function evidenceFromCms(cms: ParsedCms): RevocationEvidence {
  const out: RevocationEvidence = { crls: [], ocsps: [] };
  for (const der of attributeValues(cms.signedAttrs, OID.adbeRevocationInfoArchival)) {
    const v = parse(der);
    if (!(v instanceof asn1js.Sequence)) continue;
    for (const tagged of v.valueBlock.value) {
      const tag = tagged.idBlock.tagNumber;
      const inner = (tagged as asn1js.Constructed).valueBlock.value?.[0];
      if (!(inner instanceof asn1js.Sequence)) continue;
      for (const item of inner.valueBlock.value) {
        const der = bytesOf(item.toBER(false));
        if (tag === 0) {
          const crl = parseCrl(der);
          if (crl) out.crls.push(crl);
        } else if (tag === 1) {
          const ocsp = parseOcsp(der);
          if (ocsp) out.ocsps.push(ocsp);
        }
      }
    }
  }
  out.crls.push(...cms.crls);
  return out;
}

function crlStatus(cert: pkijs.Certificate, issuer: pkijs.Certificate, crl: pkijs.CertificateRevocationList): RevocationStatus | undefined {
  if (!crl.issuer.isEqual(issuer.subject)) return undefined;
  try {
    if (!verifyCertSignature(crl, publicKeyOf(issuer))) return undefined;
  } catch {
    return undefined;
  }
  const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(cert.serialNumber));
  return entry ? { status: 'revoked', revokedAt: entry.revocationDate.value } : { status: 'good' };
}

function ocspSignerOk(resp: pkijs.BasicOCSPResponse, issuer: pkijs.Certificate): boolean {
  const tbs = bytesOf(resp.tbsResponseData.tbsView);
  const sig = bytesOf(resp.signature.valueBlock.valueHexView);
  const candidates = [issuer];
  for (const c of resp.certs ?? []) {
    const eku = c.extensions?.find((e) => e.extnID === '2.5.29.37')?.parsedValue;
    const delegated = eku instanceof pkijs.ExtKeyUsage && eku.keyPurposes.includes(KP_OCSP_SIGNING);
    try {
      if (delegated && c.issuer.isEqual(issuer.subject) && verifyCertSignature(c, publicKeyOf(issuer))) candidates.push(c);
    } catch {
      /* an unreadable responder certificate simply is not a candidate */
    }
  }
  return candidates.some((c) => {
    try {
      return verifySignature(publicKeyOf(c), resp.signatureAlgorithm, tbs, sig);
    } catch {
      return false;
    }
  });
}

function ocspStatus(cert: pkijs.Certificate, issuer: pkijs.Certificate, resp: pkijs.BasicOCSPResponse): RevocationStatus | undefined {
  const single = resp.tbsResponseData.responses.find((r) => {
    const hash = hashForOid(r.certID.hashAlgorithm.algorithmId);
    if (!hash || !r.certID.serialNumber.isEqual(cert.serialNumber)) return false;
    const nameHash = digest(hash, bytesOf(issuer.subject.toSchema().toBER(false)));
    const keyHash = digest(hash, bytesOf(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView));
    return (
      sameBytes(bytesOf(r.certID.issuerNameHash.valueBlock.valueHexView), nameHash) &&
      sameBytes(bytesOf(r.certID.issuerKeyHash.valueBlock.valueHexView), keyHash)
    );
  });
  if (!single || !ocspSignerOk(resp, issuer)) return undefined;
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  if (tag === 0) return { status: 'good' };
  if (tag === 1) {
    const time = (single.certStatus as asn1js.Constructed).valueBlock.value[0];
    const revokedAt = time instanceof asn1js.GeneralizedTime ? time.toDate() : single.thisUpdate;
    return { status: 'revoked', revokedAt };
  }
  return { status: 'unknown' };
}

/**
 * The status of `cert` (issued by `issuer`): a revocation anywhere wins over "good" elsewhere, since
 * a later CRL or OCSP response may know what an earlier one did not.
 */
export async function revocationStatus(
  cert: pkijs.Certificate,
  issuer: pkijs.Certificate,
  evidence: RevocationEvidence,
  lookup?: RevocationLookup,
): Promise<RevocationStatus> {
  const found: RevocationStatus[] = [];
  for (const crl of evidence.crls) {
    const s = crlStatus(cert, issuer, crl);
    if (s) found.push(s);
  }
  for (const resp of evidence.ocsps) {
    const s = ocspStatus(cert, issuer, resp);
    if (s) found.push(s);
  }
  if (lookup) {
    const s = await lookup({
      serialHex: serialHex(cert),
      der: certificateDer(cert),
      issuerDer: certificateDer(issuer),
    });
    if (s) found.push(s);
  }
  const revoked = found.filter((s): s is { status: 'revoked'; revokedAt: Date } => s.status === 'revoked');
  if (revoked.length > 0) {
    return revoked.reduce((a, b) => (a.revokedAt.getTime() <= b.revokedAt.getTime() ? a : b));
  }
  return found.some((s) => s.status === 'good') ? { status: 'good' } : { status: 'unknown' };
}
