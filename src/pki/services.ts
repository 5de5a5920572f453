/**
 * The certification authority's public services over the store: the CRL, OCSP answers and RFC 3161
 * time-stamps, signed by the CA's keys in the HSM. Also the signer's view of them: a local
 * Timestamper and a RevocationSource for B-LT/B-LTA documents sealed by OneSeal's own CA.
 */
import type { Knex } from 'knex';
import { isOneSealError } from '../errors.js';
import { timestampTokenSizeBound } from '../signing/placeholder.js';
import type { RevocationSource, Timestamper } from '../signing/sign-pdf.js';
import type { Store } from '../store/db.js';
import { countRevokedCertificates, getIssuedCertificate, listRevokedCertificates, nextCrlNumber } from '../store/pki.js';
import type { Authority } from './authority.js';
import { createCrl } from './crl.js';
import { certificateDer, sameBytes, serialHex, toCertificate } from './der.js';
import { createOcspResponse, ocspErrorResponse, ocspResponseForCertificate, parseOcspRequest, type OcspStatus, type ParsedOcspRequest } from './ocsp.js';
import type { RevocationReason } from './revocation.js';
import { createTimeStampResponse, createTimeStampToken, parseTimeStampRequest, timeStampRejection, type TimeStampFailure } from './tsa.js';

export interface PkiDeps {
  store: Store;
  authority: Authority;
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** How long a CRL is served before a fresh one is signed, when nothing was revoked meanwhile. */
const CRL_REUSE_MS = HOUR_MS;
/** CRLs and OCSP answers promise fresh information within a day (RFC 5280 nextUpdate). */
const VALIDITY_MS = DAY_MS;

export interface CrlSnapshot {
  der: Uint8Array;
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

interface CrlCacheEntry {
  crl: CrlSnapshot;
  /** Revoked certificates when it was made; a different count means a revocation happened since (on any instance). */
  revokedCount: number;
}

// Per database: tests and tools may open several stores in one process.
const crlCache = new WeakMap<Knex, CrlCacheEntry>();
const crlInFlight = new WeakMap<Knex, { crl: Promise<CrlSnapshot>; revokedCount: number }>();

/** The root's current CRL: the cached one while it is under an hour old and nothing was revoked since, else a new one. */
export async function currentCrl(deps: PkiDeps, now: Date = new Date()): Promise<CrlSnapshot> {
  const db = deps.store.db;
  const revokedCount = await countRevokedCertificates(db, 'root');
  const cached = crlCache.get(db);
  if (cached && cached.revokedCount === revokedCount && now.getTime() - cached.crl.thisUpdate.getTime() < CRL_REUSE_MS) return cached.crl;
  // Concurrent requests on a stale cache share one signing instead of each using up a CRL number.
  const inFlight = crlInFlight.get(db);
  if (inFlight && inFlight.revokedCount === revokedCount) return inFlight.crl;
  const crl = issueCrl(deps, now).finally(() => {
    if (crlInFlight.get(db)?.crl === crl) crlInFlight.delete(db);
  });
  crlInFlight.set(db, { crl, revokedCount });
  return crl;
}

async function issueCrl(deps: PkiDeps, now: Date): Promise<CrlSnapshot> {
  const root = deps.authority.root;
  // The number, the list and the signature in one transaction: a failed signing does not skip a number,
  // and the count is taken with the list it describes.
  const entry = await deps.store.db.transaction(async (trx) => {
    const crlNumber = await nextCrlNumber(trx, 'root');
    const revoked = await listRevokedCertificates(trx, 'root');
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + VALIDITY_MS);
    const der = await createCrl({
      issuer: { cert: root.certificate, signer: root.signer },
      revoked: revoked.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt!), ...(r.reason ? { reason: r.reason as RevocationReason } : {}) })),
      thisUpdate,
      nextUpdate,
      crlNumber,
    });
    return { crl: { der, crlNumber, thisUpdate, nextUpdate }, revokedCount: revoked.length };
  });
  crlCache.set(deps.store.db, entry);
  return entry.crl;
}

/** What the store knows about a serial the root issued. */
async function statusOf(deps: PkiDeps, serial: string): Promise<OcspStatus> {
  const record = await getIssuedCertificate(deps.store.db, serial);
  if (!record || record.issuerRole !== 'root') return { status: 'unknown' };
  if (record.status === 'good') return { status: 'good' };
  return { status: 'revoked', revokedAt: new Date(record.revokedAt!), ...(record.reason ? { reason: record.reason as RevocationReason } : {}) };
}

function ocspResponder(deps: PkiDeps) {
  return { cert: deps.authority.ocsp.certificate, signer: deps.authority.ocsp.signer };
}

/**
 * The DER OCSPResponse for a DER OCSPRequest (POST body or decoded GET path). A request we cannot read
 * gets an unsigned malformedRequest response, as OCSP clients expect, rather than an exception;
 * anything else (HSM or database down) throws for the HTTP layer to answer.
 */
export async function answerOcsp(deps: PkiDeps, requestDer: Uint8Array, now: Date = new Date()): Promise<Uint8Array> {
  let request: ParsedOcspRequest;
  try {
    request = parseOcspRequest(requestDer);
  } catch (e) {
    if (isOneSealError(e)) return ocspErrorResponse('malformedRequest');
    throw e;
  }
  return createOcspResponse({
    certIds: request.certIds,
    ...(request.nonce ? { nonce: request.nonce } : {}),
    issuer: deps.authority.root.certificate,
    responder: ocspResponder(deps),
    lookup: (serial) => statusOf(deps, serial),
    producedAt: now,
    nextUpdate: new Date(now.getTime() + VALIDITY_MS),
  });
}

function tsa(deps: PkiDeps) {
  return { cert: deps.authority.tsa.certificate, signer: deps.authority.tsa.signer };
}

/** OneSeal's own TSA as the signer's Timestamper; tokens carry the TSA certificate so verifiers can check them offline. */
export function localTimestamper(deps: PkiDeps): Timestamper {
  return {
    maxTokenSize: timestampTokenSizeBound([deps.authority.tsa.certificate]),
    certificates: [deps.authority.tsa.certificate],
    stamp: (sha256) =>
      createTimeStampToken({ messageImprint: { hashAlgorithm: 'SHA-256', hash: sha256 }, certReq: true, tsa: tsa(deps), genTime: new Date() }),
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
 * Revocation data for the certificates OneSeal's root issued (a seal's certificate, the TSA's): an
 * OCSP response for each, fresh from the store, and the current CRL once. Other certificates (the
 * root itself, foreign ones) get nothing: the root is the trust anchor, and foreign CAs answer for theirs.
 */
export function ownRevocationSource(deps: PkiDeps): RevocationSource {
  return {
    async forCerts(certs) {
      const root = toCertificate(deps.authority.root.certificate);
      const rootDer = certificateDer(root);
      const rootName = new Uint8Array(root.subject.toSchema().toBER());
      const ocsps: Uint8Array[] = [];
      const seen = new Set<string>();
      for (const der of certs) {
        if (sameBytes(der, rootDer)) continue;
        const cert = toCertificate(der);
        if (!sameBytes(new Uint8Array(cert.issuer.toSchema().toBER()), rootName)) continue;
        const serial = serialHex(cert);
        if (seen.has(serial)) continue;
        seen.add(serial);
        const now = new Date();
        ocsps.push(
          await ocspResponseForCertificate({
            cert: der,
            issuer: rootDer,
            status: await statusOf(deps, serial),
            responder: ocspResponder(deps),
            producedAt: now,
            nextUpdate: new Date(now.getTime() + VALIDITY_MS),
          }),
        );
      }
      return { crls: ocsps.length ? [(await currentCrl(deps)).der] : [], ocsps };
    },
  };
}
