/**
 * A seal version's life after it is created: active → retired (by rotation) → revoked → key destroyed.
 * Each change is one transaction that locks the seal first and records an audit entry with it.
 * Who may ask for a change, and whether a second person must approve it, is decided before these run
 * (src/seals/changes.ts through src/access/two-person.ts).
 */
import type { Knex } from 'knex';
import { sealChangedOnCommit } from './events.js';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { REVOCATION_REASONS, type RevocationReason } from '../pki/revocation.js';
import type { Db } from '../store/db.js';
import { revokeIssuedCertificate } from '../store/pki.js';
import { getSeal, getSealVersion, updateSeal, updateSealVersion, type SealRecord, type SealVersionRecord } from '../store/seals.js';
import type { SealDeps } from './service.js';

/** Runs inside the change's transaction, after the seal is locked and before anything changes (approvals mark their proposal here). */
export type BeforeChange = (trx: Knex.Transaction) => Promise<void>;

/** The stages of a rotation, in order: generating the key, issuing its certificate, switching versions. */
export type RotationStep = 'key' | 'certificate' | 'switch';

export interface ChangeOptions {
  beforeChange?: BeforeChange;
  /** Told as each stage of a rotation starts (key generation takes seconds on a real HSM; the CLI shows it). */
  onStep?: (step: RotationStep) => void;
  /** Merged into the audit entry, e.g. the proposal that authorised the change. */
  auditDetails?: Record<string, unknown>;
}

/** Reasons a seal certificate can be revoked with; certificateHold is reversible and removeFromCRL is for delta CRLs: neither fits. */
export const ACCEPTED_REASONS = Object.keys(REVOCATION_REASONS).filter((r) => r !== 'certificateHold' && r !== 'removeFromCRL') as RevocationReason[];

/** A revocation time earlier than this before now is a back-dated revocation. */
const CLOCK_TOLERANCE_MS = 5 * 60 * 1000;

export function sealNotFound(sealId: string): OneSealError {
  return new OneSealError('seal-not-found', 'not-found', `There is no seal "${sealId}". List the seals with \`oneseal seal list\` or GET /v1/seals.`);
}

/**
 * Locks the seal for the rest of the transaction by writing its row (updated_at): on PostgreSQL that
 * takes the row lock (as SELECT … FOR UPDATE would), on SQLite it takes the database write lock up
 * front, so two changes to one seal — two rotations above all — run one after the other and the
 * second sees the first's result. That is what keeps a seal at one active version at most.
 */
export async function lockSeal(trx: Knex.Transaction, sealId: string): Promise<SealRecord> {
  await updateSeal(trx, sealId, {});
  sealChangedOnCommit(trx, sealId);
  const seal = await getSeal(trx, sealId);
  if (!seal) throw sealNotFound(sealId);
  return seal;
}

export async function requireSeal(deps: Pick<SealDeps, 'store'>, sealId: string): Promise<SealRecord> {
  const seal = await getSeal(deps.store.db, sealId);
  if (!seal) throw sealNotFound(sealId);
  return seal;
}

async function requireVersion(db: Db, sealId: string, version: number): Promise<SealVersionRecord> {
  const v = await getSealVersion(db, sealId, version);
  if (!v) throw new OneSealError('seal-version-not-found', 'not-found', `Seal "${sealId}" has no version ${version}.`);
  return v;
}

export interface RevokeOptions {
  reason: RevocationReason;
  /** When the key stopped being trustworthy; now by default. Only a keyCompromise may be dated in the past. */
  revokedAt?: Date;
  actor: string;
}

/** Checks a revocation request without touching anything (also used when a revocation is proposed). */
export function checkRevocation(reason: string, revokedAt: Date | undefined, now: Date): asserts reason is RevocationReason {
  if (!(ACCEPTED_REASONS as string[]).includes(reason)) {
    throw new OneSealError('invalid-revocation-reason', 'unprocessable', `"${reason}" is not a revocation reason OneSeal accepts; use one of: ${ACCEPTED_REASONS.join(', ')}.`, {
      fields: [{ field: 'reason', message: `one of ${ACCEPTED_REASONS.join(', ')}` }],
    });
  }
  if (!revokedAt) return;
  if (Number.isNaN(revokedAt.getTime())) {
    throw new OneSealError('invalid-revocation-time', 'unprocessable', 'The revocation time is not a valid date.', { fields: [{ field: 'revokedAt', message: 'an ISO-8601 date-time' }] });
  }
  if (revokedAt.getTime() > now.getTime() + CLOCK_TOLERANCE_MS) {
    throw new OneSealError('invalid-revocation-time', 'unprocessable', 'A revocation cannot be dated in the future; leave the time out to revoke now.', {
      fields: [{ field: 'revokedAt', message: 'not in the future' }],
    });
  }
  if (revokedAt.getTime() < now.getTime() - CLOCK_TOLERANCE_MS && reason !== 'keyCompromise') {
    throw new OneSealError(
      'invalid-revocation-time',
      'unprocessable',
      'Only a keyCompromise revocation may be dated in the past (to when the key was compromised); leave the time out for other reasons.',
      { fields: [{ field: 'revokedAt', message: 'only back-dated for keyCompromise' }] },
    );
  }
}

/**
 * Revokes a version's certificate: OCSP and the CRL report it from then on. A revoked active version
 * leaves the seal without an active version, so stamping stops until someone rotates.
 */
export async function performRevocation(
  deps: SealDeps,
  sealId: string,
  version: number,
  options: RevokeOptions,
  change: ChangeOptions = {},
): Promise<SealVersionRecord> {
  const now = new Date();
  checkRevocation(options.reason, options.revokedAt, now);
  const revokedAt = (options.revokedAt ?? now).toISOString();
  return deps.store.db.transaction(async (trx) => {
    await lockSeal(trx, sealId);
    const v = await requireVersion(trx, sealId, version);
    if (v.revokedAt || v.status === 'revoked') {
      throw new OneSealError('seal-version-revoked', 'conflict', `Seal "${sealId}" version ${version} is already revoked (${v.revocationReason} at ${v.revokedAt}).`);
    }
    if (!v.certSerial || !v.certificate) {
      throw new OneSealError('seal-version-no-certificate', 'conflict', `Seal "${sealId}" version ${version} has no certificate to revoke.`);
    }
    if (v.notBefore && revokedAt < v.notBefore) {
      throw new OneSealError('invalid-revocation-time', 'unprocessable', `Version ${version}'s certificate is valid only from ${v.notBefore}; it cannot be revoked before then.`, {
        fields: [{ field: 'revokedAt', message: `not before ${v.notBefore}` }],
      });
    }
    await change.beforeChange?.(trx);
    // A destroyed version keeps that status: the key is gone either way; the revocation fields say the rest.
    const status = v.status === 'destroyed' ? 'destroyed' : 'revoked';
    await updateSealVersion(trx, v.id, { status, revokedAt, revocationReason: options.reason });
    await revokeIssuedCertificate(trx, v.certSerial, revokedAt, options.reason);
    await appendAudit(trx, {
      actor: options.actor,
      action: 'seal.revoke',
      subject: sealId,
      details: { version, reason: options.reason, revokedAt, certSerial: v.certSerial, wasActive: v.status === 'active', ...change.auditDetails },
    });
    return { ...v, status, revokedAt, revocationReason: options.reason };
  });
}

/** Checks that a version's key may be destroyed (also used when the destruction is proposed). */
export function checkDestroyable(v: SealVersionRecord): void {
  if (v.status === 'destroyed') {
    throw new OneSealError('seal-key-destroyed', 'conflict', `The key of seal "${v.sealId}" version ${v.version} was already destroyed at ${v.destroyedAt}.`);
  }
  if (v.status !== 'retired' && v.status !== 'revoked') {
    throw new OneSealError(
      'seal-version-in-use',
      'conflict',
      `Seal "${v.sealId}" version ${v.version} is ${v.status}; rotate or revoke it before destroying its key.`,
    );
  }
}

/**
 * Deletes a version's private key from the HSM. The certificate and any revocation stay, so documents
 * sealed with it keep verifying. Only a version that no longer signs (retired or revoked) can lose its key.
 */
export async function performKeyDestruction(
  deps: SealDeps,
  sealId: string,
  version: number,
  actor: string,
  change: ChangeOptions = {},
): Promise<SealVersionRecord> {
  const before = await requireVersion(deps.store.db, sealId, version);
  checkDestroyable(before);
  // The HSM is not part of the transaction. Destroying first means a failure afterwards leaves a
  // version marked retired/revoked whose key is already gone: repeating the call finishes it
  // (destroyKey is idempotent), and no failure can leave a key behind that the database calls destroyed.
  await deps.hsm.destroyKey(before.keyId);
  return deps.store.db.transaction(async (trx) => {
    await lockSeal(trx, sealId);
    const v = await requireVersion(trx, sealId, version);
    checkDestroyable(v);
    await change.beforeChange?.(trx);
    const destroyedAt = new Date().toISOString();
    await updateSealVersion(trx, v.id, { status: 'destroyed', destroyedAt });
    await appendAudit(trx, {
      actor,
      action: 'seal.destroy-key',
      subject: sealId,
      details: { version, keyId: v.keyId, certSerial: v.certSerial, previousStatus: v.status, ...change.auditDetails },
    });
    return { ...v, status: 'destroyed' as const, destroyedAt };
  });
}
