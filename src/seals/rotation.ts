/**
 * Key rotation: a new key and certificate become the seal's active version and the previous active
 * version retires (it still verifies, it no longer signs). Stamps already holding the old version's
 * material finish with it; the next signingMaterial() call returns the new one.
 */
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { recordIssuedCertificate } from '../pki/authority.js';
import type { Db } from '../store/db.js';
import { activeSealVersion, insertSealVersion, listSealVersions, updateSealVersion, type SealVersionRecord } from '../store/seals.js';
import { lockSeal, requireSeal, type ChangeOptions } from './lifecycle.js';
import { newVersionMaterial, type SealDeps } from './service.js';

export interface RotationResult {
  /** The version that became active. */
  version: SealVersionRecord;
  /** The version it replaced, now retired; absent when the seal had no active version (e.g. after a revocation). */
  retired?: SealVersionRecord;
}

async function nextVersionNumber(db: Db, sealId: string): Promise<number> {
  const versions = await listSealVersions(db, sealId);
  return versions.reduce((max, v) => Math.max(max, v.version), 0) + 1;
}

/** Rotation itself; who may ask for it is decided before (src/seals/changes.ts, the scheduler). */
export async function performRotation(deps: SealDeps, sealId: string, actor: string, change: ChangeOptions = {}): Promise<RotationResult> {
  const seal = await requireSeal(deps, sealId);
  const planned = await nextVersionNumber(deps.store.db, sealId);
  // Key generation and certificate signing take HSM time; they stay outside the transaction so the
  // database lock is held only for the few writes that switch versions.
  const material = await newVersionMaterial(deps, seal, planned, change.onStep);
  change.onStep?.('switch');
  try {
    return await deps.store.db.transaction(async (trx) => {
      await lockSeal(trx, sealId);
      if ((await nextVersionNumber(trx, sealId)) !== planned) {
        throw new OneSealError('rotation-conflict', 'conflict', `Seal "${sealId}" was rotated by someone else at the same time; check its versions before rotating again.`);
      }
      await change.beforeChange?.(trx);
      const now = new Date().toISOString();
      const previous = await activeSealVersion(trx, sealId);
      if (previous) await updateSealVersion(trx, previous.id, { status: 'retired', retiredAt: now });
      await recordIssuedCertificate(trx, material.certificate);
      const inserted = await insertSealVersion(trx, { sealId, version: planned, status: 'active', activatedAt: now, ...material.fields });
      await appendAudit(trx, {
        actor,
        action: 'seal.rotate',
        subject: sealId,
        details: {
          version: planned,
          retiredVersion: previous?.version ?? null,
          keyId: material.fields.keyId,
          certSerial: material.fields.certSerial,
          ...change.auditDetails,
        },
      });
      return {
        version: inserted,
        ...(previous ? { retired: { ...previous, status: 'retired' as const, retiredAt: now } } : {}),
      };
    });
  } catch (e) {
    // The new key was never recorded: remove it rather than leave an orphan on the token.
    await deps.hsm.destroyKey(material.key.id).catch(() => undefined);
    throw e;
  }
}
