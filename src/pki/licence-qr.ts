/**
 * The licence-QR signer: a P-256 key in the HSM with its own certificate from the root, which signs
 * the COSE_Sign1 payload in each licence's QR code. It rotates like a seal key (the previous one
 * retires and stays in the trust list, so payloads it signed still verify) and its certificate can be
 * revoked like any other the root issued (payloads claiming a later issue time then fail).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import type { Hsm, HsmKey } from '../hsm/hsm.js';
import { ecdsaDerToRaw } from '../hsm/signature-encoding.js';
import type { Db } from '../store/db.js';
import { activeLicenceQrKey, insertLicenceQrKey, listLicenceQrKeys, retireActiveLicenceQrKey, type LicenceQrKeyRecord } from '../store/licence-qr-keys.js';
import { getIssuedCertificate, revokeIssuedCertificate } from '../store/pki.js';
import { issueUnderRoot, recordIssuedCertificate, type Authority } from './authority.js';
import { serialHex, toCertificate } from './der.js';
import type { RevocationReason } from './revocation.js';

const KEY_LABEL = 'oneseal-licence-qr';
/** Short-lived compared with the CA's services: rotation is the normal way a QR key ends. */
const CERT_LIFETIME_MS = 5 * 365.25 * 24 * 3600 * 1000;

/** kid = the first 8 bytes of SHA-256 over the certificate's DER. */
export function kidOf(certificate: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(certificate).digest().subarray(0, 8));
}

export interface LicenceQrSigner {
  kid: Uint8Array;
  certificate: Uint8Array;
  /** Raw r‖s ES256 over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

interface Deps {
  db: Db;
  hsm: Hsm;
}

function signerFor(key: HsmKey, certificate: Uint8Array): LicenceQrSigner {
  return {
    kid: kidOf(certificate),
    certificate,
    sign: async (data) => ecdsaDerToRaw(await key.signDigest('SHA-256', createHash('sha256').update(data).digest()), 32),
  };
}

/** The active signer; throws when `oneseal init` has not created one yet. */
export async function activeLicenceQrSigner(deps: Deps): Promise<LicenceQrSigner> {
  const record = await activeLicenceQrKey(deps.db);
  const key = record && (await deps.hsm.findKey(record.keyId));
  if (!record || !key) {
    throw new OneSealError('licence-qr-key-missing', 'unavailable', 'There is no licence-QR signing key: run `oneseal init` (npm run setup does it).');
  }
  return signerFor(key, record.certificate);
}

type RotateDeps = Deps & { authority: Pick<Authority, 'root' | 'urls'> };

async function newKey(deps: RotateDeps, now: Date) {
  const key = await deps.hsm.generateKeyPair({ label: KEY_LABEL, algorithm: 'EC-P256' });
  const certificate = await issueUnderRoot(deps.authority.root, {
    subjectSpki: key.spki,
    subject: { country: 'CN', organization: 'OneSeal', commonName: 'OneSeal Licence QR Signer' },
    profile: 'licence-qr',
    notBefore: now,
    notAfter: new Date(now.getTime() + CERT_LIFETIME_MS),
    urls: deps.authority.urls,
  });
  return { key, certificate };
}

/** How a governed change (src/pki/licence-qr-changes.ts) runs inside the change's transaction. */
export interface QrKeyChangeOptions {
  /** Called first in the transaction (marks a two-person proposal executed). */
  beforeChange?: (trx: Knex.Transaction) => Promise<void>;
  /** Merged into the audit entry (who proposed and approved). */
  auditDetails?: Record<string, unknown>;
}

/**
 * A new key becomes the active one and the previous one (if any) retires. With `onlyIfMissing` (init)
 * nothing happens when a key is active. Returns the new kid, or undefined when nothing was done.
 */
export async function rotateLicenceQrKey(deps: RotateDeps, actor: string, options: { onlyIfMissing?: boolean } & QrKeyChangeOptions = {}): Promise<string | undefined> {
  if (options.onlyIfMissing && (await activeLicenceQrKey(deps.db))) return undefined;
  const now = new Date();
  const { key, certificate } = await newKey(deps, now);
  const kid = Buffer.from(kidOf(certificate)).toString('hex');
  try {
    await deps.db.transaction(async (trx) => {
      await options.beforeChange?.(trx);
      const retired = await retireActiveLicenceQrKey(trx, now.toISOString());
      if (options.onlyIfMissing && retired) throw new OneSealError('rotation-conflict', 'conflict', 'Another process created the licence-QR key meanwhile.');
      await recordIssuedCertificate(trx, certificate);
      await insertLicenceQrKey(trx, {
        kid, keyId: key.id, certificate, certSerial: serialHex(toCertificate(certificate)), status: 'active', createdAt: now.toISOString(), retiredAt: null,
      });
      await appendAudit(trx, { actor, action: 'licence-qr.rotate', subject: kid, details: { keyId: key.id, retired, ...options.auditDetails } });
    });
  } catch (e) {
    await deps.hsm.destroyKey(key.id).catch(() => undefined);
    throw e;
  }
  return kid;
}

/** The licence-QR key with this kid (any status); 404 when there is none. */
export async function requireLicenceQrKey(db: Db, kid: string): Promise<LicenceQrKeyRecord> {
  const key = (await listLicenceQrKeys(db)).find((k) => k.kid === kid.toLowerCase());
  if (!key) throw new OneSealError('licence-qr-key-not-found', 'not-found', `There is no licence-QR key with kid ${kid}.`);
  return key;
}

/**
 * Revokes a licence-QR certificate (by kid), now or, for a key compromise, from an earlier `revokedAt`
 * (payloads claiming a later issue time fail); an active key retires with it, so the next issue needs a rotation.
 */
export async function revokeLicenceQrCertificate(db: Db, kid: string, reason: RevocationReason, actor: string,
  options: { revokedAt?: Date } & QrKeyChangeOptions = {}): Promise<void> {
  const key = await requireLicenceQrKey(db, kid);
  const at = (options.revokedAt ?? new Date()).toISOString();
  const notBefore = toCertificate(key.certificate).notBefore.value.toISOString();
  if (at < notBefore) {
    throw new OneSealError('invalid-revocation-time', 'unprocessable', `The licence-QR certificate ${key.kid} is valid only from ${notBefore}; it cannot be revoked before then.`, {
      fields: [{ field: 'revokedAt', message: `not before ${notBefore}` }],
    });
  }
  await db.transaction(async (trx) => {
    await options.beforeChange?.(trx);
    if (!(await revokeIssuedCertificate(trx, key.certSerial, at, reason))) {
      const cert = await getIssuedCertificate(trx, key.certSerial);
      throw new OneSealError('certificate-already-revoked', 'conflict', `The licence-QR certificate ${key.kid} was already revoked at ${cert?.revokedAt}.`);
    }
    if (key.status === 'active') await retireActiveLicenceQrKey(trx, at);
    await appendAudit(trx, { actor, action: 'licence-qr.revoke', subject: key.kid, details: { serial: key.certSerial, reason, revokedAt: at, ...options.auditDetails } });
  });
}
