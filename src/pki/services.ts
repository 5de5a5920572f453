/**
 * The certification authority's public services over the store: the CRL, OCSP answers and RFC 3161
 * time-stamps, signed by the CA's keys in the HSM. Also the signer's view of them: a local
 * Timestamper and a RevocationSource for B-LT/B-LTA documents sealed by OneSeal's own CA.
 */
import { isOneSealError } from '../errors.js';
import type { Counter } from '../observability/metrics.js';
import { timestampTokenSizeBound } from '../signing/placeholder.js';
import type { RevocationSource, Timestamper } from '../signing/sign-pdf.js';
import type { Store } from '../store/db.js';
import type { Authority } from './authority.js';
import { certificateNames, parsedOnce, sameBytes } from './der.js';
import { createOcspResponse, ocspErrorResponse, parseOcspRequest, type ParsedOcspRequest } from './ocsp.js';
import { currentCrl, ocspResponder, ocspResponses, REVOCATION_VALIDITY_MS, rootCertId, statusOf } from './revocation-data.js';
import { createTimeStampResponse, createTimeStampToken, parseTimeStampRequest, timeStampRejection, type TimeStampFailure } from './tsa.js';

export interface PkiDeps {
  store: Store;
  authority: Authority;
  /** Counts the OCSP responses and CRLs signed (the rest are served from the shared cache). */
  metrics?: { revocationSigned: Counter };
  /** The time the TSA stamps and revocation data is produced at; the system clock unless a test fixes it. */
  clock?: () => Date;
}

export { currentCrl, type CrlSnapshot } from './revocation-data.js';

/**
 * The DER OCSPResponse for a DER OCSPRequest (POST body or decoded GET path). A request we cannot read
 * gets an unsigned malformedRequest response, as OCSP clients expect, rather than an exception;
 * anything else (HSM or database down) throws for the HTTP layer to answer.
 */
export async function answerOcsp(deps: PkiDeps, requestDer: Uint8Array): Promise<Uint8Array> {
  let request: ParsedOcspRequest;
  try {
    request = parseOcspRequest(requestDer);
  } catch (e) {
    if (isOneSealError(e)) return ocspErrorResponse('malformedRequest');
    throw e;
  }
  const cached = await cachedAnswer(deps, request);
  if (cached) return cached;
  const now = deps.clock?.() ?? new Date();
  const response = await createOcspResponse({
    certIds: request.certIds,
    ...(request.nonce ? { nonce: request.nonce } : {}),
    issuer: parsedOnce(deps.authority.root.certificate),
    responder: ocspResponder(deps),
    lookup: (serial) => statusOf(deps, serial),
    producedAt: now,
    nextUpdate: new Date(now.getTime() + REVOCATION_VALIDITY_MS),
  });
  deps.metrics?.revocationSigned.inc({ kind: 'ocsp' });
  return response;
}

/**
 * An RFC 5019 request (one certificate of the root's, SHA-1 CertID, no nonce) gets the pre-produced
 * response, the same bytes B-LT documents embed. A nonce asks for a response signed for this request,
 * and other requests do not match a stored response, so those are signed as before.
 */
async function cachedAnswer(deps: PkiDeps, request: ParsedOcspRequest): Promise<Uint8Array | undefined> {
  const [id, ...more] = request.certIds;
  if (!id || more.length > 0 || request.nonce || id.hash !== 'SHA-1') return undefined;
  const ours = rootCertId(deps, id.serial);
  if (!sameBytes(ours.issuerNameHash, id.issuerNameHash) || !sameBytes(ours.issuerKeyHash, id.issuerKeyHash)) return undefined;
  return (await ocspResponses(deps, [id.serial])).get(id.serial);
}

function tsa(deps: PkiDeps) {
  return { cert: parsedOnce(deps.authority.tsa.certificate), signer: deps.authority.tsa.signer };
}

/** OneSeal's own TSA as the signer's Timestamper; tokens carry the TSA certificate so verifiers can check them offline. */
export function localTimestamper(deps: PkiDeps): Timestamper {
  return {
    maxTokenSize: timestampTokenSizeBound([deps.authority.tsa.certificate]),
    certificates: [deps.authority.tsa.certificate],
    stamp: (sha256) =>
      createTimeStampToken({ messageImprint: { hashAlgorithm: 'SHA-256', hash: sha256 }, certReq: true, tsa: tsa(deps), genTime: deps.clock?.() ?? new Date() }),
  };
}

/** The DER TimeStampResp for a DER TimeStampReq (POST /pki/tsa); a request we refuse gets a rejection response naming why. */
export async function answerTsa(deps: PkiDeps, requestDer: Uint8Array, now: Date = new Date()): Promise<Uint8Array> {
  try {
    const request = parseTimeStampRequest(requestDer);
    return await createTimeStampResponse({ ...request, tsa: tsa(deps), genTime: now });
  } catch (e) {
    const failInfo = isOneSealError(e) ? (e.extra?.failInfo as TimeStampFailure | undefined) : undefined;
    if (failInfo && isOneSealError(e)) return timeStampRejection(failInfo, e.message);
    throw e;
  }
}

/**
 * Revocation data for the certificates OneSeal's root issued (a seal's certificate, the TSA's): the
 * stored OCSP response of each, produced no earlier than `notBefore` (the signature's time-stamp),
 * and the current CRL once. Other certificates (the root itself, foreign ones) get nothing: the root
 * is the trust anchor, and foreign CAs answer for theirs.
 */
export function ownRevocationSource(deps: PkiDeps): RevocationSource {
  return {
    async forCerts(certs, options = {}) {
      const root = certificateNames(deps.authority.root.certificate);
      const serials = new Set<string>();
      for (const der of certs) {
        const names = certificateNames(der);
        if (sameBytes(names.issuer, root.subject) && !(names.serial === root.serial && sameBytes(names.subject, root.subject))) serials.add(names.serial);
      }
      if (serials.size === 0) return { crls: [], ocsps: [] };
      const [responses, crl] = await Promise.all([ocspResponses(deps, [...serials], options.notBefore, { recent: true }), currentCrl(deps, { recent: true })]);
      return { crls: [crl.der], ocsps: [...serials].flatMap((serial) => responses.get(serial) ?? []) };
    },
  };
}
