/**
 * OneSeal's certification authority as a running service sees it: the root, the time-stamping
 * authority, the OCSP signer, the audit head signer and the archive signer, each a key in the HSM with its certificate in the database.
 * `ensureAuthority` creates what is missing (idempotent); `loadAuthority` only reads.
 */
import type { Hsm, HsmKey } from '../hsm/hsm.js';
import type { KeyAlgorithm } from '../hsm/types.js';
import { OneSealError } from '../errors.js';
import { getPkiKey, insertIssuedCertificate, putPkiKey, type PkiRole } from '../store/pki.js';
import type { Db } from '../store/db.js';
import { issueCertificate, selfSignCertificate, type CertificateProfile, type CertificateUrls } from './certificates.js';
import { serialHex, toCertificate } from './der.js';
import { isDevRootCertificate, loadDevRoot } from './dev-root.js';
import { formatName, type NameFields } from './names.js';

export interface KeyWithCertificate {
  signer: HsmKey;
  /** DER */
  certificate: Uint8Array;
}

export interface Authority {
  root: KeyWithCertificate;
  tsa: KeyWithCertificate;
  ocsp: KeyWithCertificate;
  /** Signs the audit log's chain heads (src/audit/heads.ts). */
  audit: KeyWithCertificate;
  /** Signs archive packages' manifests (src/archive/package.ts). */
  archive: KeyWithCertificate;
  /** Where relying parties fetch the CRL, OCSP answers and the CA certificate (in every issued certificate). */
  urls: CertificateUrls;
  usingDevRoot: boolean;
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const KEY_LABELS: Record<PkiRole, string> = {
  root: 'oneseal-root-ca',
  tsa: 'oneseal-tsa',
  ocsp: 'oneseal-ocsp',
  audit: 'oneseal-audit',
  archive: 'oneseal-archive',
};
// RSA keeps the CA's own certificates readable by every validator (pdfsig/NSS, Adobe, openssl).
const SERVICE_KEY_ALGORITHM: KeyAlgorithm = 'RSA-2048';

const AUTHORITY_ROLES = ['root', 'tsa', 'ocsp', 'audit', 'archive'] as const satisfies readonly PkiRole[];

export function authorityUrls(publicUrl: string): CertificateUrls {
  const base = publicUrl.replace(/\/+$/, '');
  return { crl: `${base}/pki/crl/root.crl`, ocsp: `${base}/pki/ocsp`, caIssuers: `${base}/pki/certs/root.crt` };
}

interface Deps {
  db: Db;
  hsm: Hsm;
  publicUrl: string;
}

async function loadRole(deps: Deps, role: PkiRole): Promise<KeyWithCertificate | undefined> {
  const record = await getPkiKey(deps.db, role);
  if (!record) return undefined;
  const signer = await deps.hsm.findKey(record.keyId);
  if (!signer) {
    throw new OneSealError(
      'pki-key-missing',
      'unavailable',
      `The ${role} key ${record.keyId} recorded in the database is not on the HSM token: the token was replaced or the database belongs to another token.`,
    );
  }
  return { signer, certificate: record.certificate };
}

export async function loadAuthority(deps: Deps): Promise<Authority> {
  const [root, tsa, ocsp, audit, archive] = await Promise.all(AUTHORITY_ROLES.map((role) => loadRole(deps, role)));
  if (!root || !tsa || !ocsp || !audit || !archive) {
    // A data dir from before a role existed (the audit signer came later) is completed by running init again.
    throw new OneSealError('pki-not-initialised', 'unavailable', 'The certification authority is not set up yet, or lacks a key added by an upgrade: run `oneseal init` (npm run setup does it).');
  }
  return { root, tsa, ocsp, audit, archive, urls: authorityUrls(deps.publicUrl), usingDevRoot: isDevRootCertificate(root.certificate) };
}

/**
 * Creates the root (the committed dev root imported into the HSM when `allowDevRoot`, otherwise a
 * fresh root generated inside the HSM), then the TSA, OCSP and audit signers it certifies. Existing parts are kept.
 */
export async function ensureAuthority(deps: Deps & { allowDevRoot: boolean; now?: Date }): Promise<{ authority: Authority; created: PkiRole[] }> {
  const now = deps.now ?? new Date();
  const created: PkiRole[] = [];
  let root = await loadRole(deps, 'root');
  if (!root) {
    root = deps.allowDevRoot ? await importDevRoot(deps) : await createRoot(deps, now);
    await putPkiKey(deps.db, { role: 'root', keyId: root.signer.id, certificate: root.certificate, createdAt: now.toISOString() });
    created.push('root');
  }
  const urls = authorityUrls(deps.publicUrl);
  const services: [Exclude<PkiRole, 'root'>, CertificateProfile, string][] = [
    ['tsa', 'tsa', 'OneSeal Time-Stamping Authority'],
    ['ocsp', 'ocsp', 'OneSeal OCSP Responder'],
    ['audit', 'audit', 'OneSeal Audit Log Signer'],
    ['archive', 'archive', 'OneSeal Archive Signer'],
  ];
  for (const [role, profile, commonName] of services) {
    const existing = await getPkiKey(deps.db, role);
    if (existing && !dueForNewKey(existing.certificate, root.certificate, now)) continue;
    const signer = await deps.hsm.generateKeyPair({ label: KEY_LABELS[role], algorithm: SERVICE_KEY_ALGORITHM });
    const certificate = await issueAndRecord(deps.db, root, {
      subjectSpki: signer.spki,
      subject: { country: 'CN', organization: 'OneSeal', commonName },
      profile,
      notBefore: now,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      urls,
    });
    await putPkiKey(deps.db, { role, keyId: signer.id, certificate, createdAt: now.toISOString() });
    created.push(role);
  }
  return { authority: await loadAuthority(deps), created };
}

/** A year's notice: archive renewals need a TSA certificate that outlives the documents' current one by their horizon. */
const SERVICE_RENEW_BEFORE_MS = YEAR_MS;

/**
 * A service certificate expiring within a year is replaced by a new key and certificate (the old key
 * stays in the HSM: what it signed still verifies) — unless the root ends first, so a new one would gain nothing.
 */
function dueForNewKey(certificate: Uint8Array, rootCertificate: Uint8Array, now: Date): boolean {
  const end = toCertificate(certificate).notAfter.value.getTime();
  return end - now.getTime() < SERVICE_RENEW_BEFORE_MS && toCertificate(rootCertificate).notAfter.value.getTime() > end;
}

async function importDevRoot(deps: Deps): Promise<KeyWithCertificate> {
  const dev = loadDevRoot();
  const signer = await deps.hsm.importPrivateKey({ label: KEY_LABELS.root, pkcs8: dev.keyPkcs8 });
  return { signer, certificate: dev.certDer };
}

async function createRoot(deps: Deps, now: Date): Promise<KeyWithCertificate> {
  const signer = await deps.hsm.generateKeyPair({ label: KEY_LABELS.root, algorithm: 'RSA-3072' });
  const certificate = await selfSignCertificate({
    signer,
    subject: { country: 'CN', organization: 'OneSeal', commonName: 'OneSeal Root CA' },
    notBefore: now,
    notAfter: new Date(now.getTime() + 20 * YEAR_MS),
  });
  return { signer, certificate };
}

export interface IssueRequest {
  subjectSpki: Uint8Array;
  subject: NameFields;
  profile: CertificateProfile;
  notBefore: Date;
  notAfter: Date;
  urls?: CertificateUrls;
}

/** Issues a certificate under the root and records it, so OCSP and the CRL can answer for it. */
export async function issueAndRecord(db: Db, root: KeyWithCertificate, request: IssueRequest): Promise<Uint8Array> {
  const der = await issueUnderRoot(root, request);
  await recordIssuedCertificate(db, der);
  return der;
}

/** Issues without recording: the caller records it in the transaction that makes it count. */
export function issueUnderRoot(root: KeyWithCertificate, request: IssueRequest): Promise<Uint8Array> {
  const rootEnd = toCertificate(root.certificate).notAfter.value;
  const notAfter = request.notAfter > rootEnd ? rootEnd : request.notAfter;
  return issueCertificate({ issuer: { cert: root.certificate, signer: root.signer }, ...request, notAfter });
}

export async function recordIssuedCertificate(db: Db, der: Uint8Array): Promise<void> {
  const cert = toCertificate(der);
  await insertIssuedCertificate(db, {
    serial: serialHex(cert),
    issuerRole: 'root',
    subject: formatName(cert.subject),
    der,
    status: 'good',
    issuedAt: cert.notBefore.value.toISOString(),
    revokedAt: null,
    reason: null,
  });
}
