/**
 * Seals and versions as administrators see them (admin API responses and `oneseal seal --json`): one
 * shape for both, certificates as PEM, key material never.
 */
import { derToPem } from '../pki/der.js';
import { listSealVersions, type SealRecord, type SealVersionRecord } from '../store/seals.js';
import type { Db } from '../store/db.js';

export function versionView(v: SealVersionRecord) {
  return {
    version: v.version,
    status: v.status,
    algorithm: v.algorithm,
    keyId: v.keyId,
    keyLabel: v.keyLabel,
    certSerial: v.certSerial,
    notBefore: v.notBefore,
    notAfter: v.notAfter,
    createdAt: v.createdAt,
    activatedAt: v.activatedAt,
    retiredAt: v.retiredAt,
    revokedAt: v.revokedAt,
    revocationReason: v.revocationReason,
    destroyedAt: v.destroyedAt,
    signatureCount: v.signatureCount,
  };
}

export type VersionView = ReturnType<typeof versionView>;

/** The appearance without the image bytes (they can be large); its kind and size say enough. */
function appearanceSummary(appearance: unknown) {
  const a = (appearance ?? { kind: 'generated' }) as { kind: string; diameterMm?: number };
  return { kind: a.kind, ...(a.diameterMm !== undefined ? { diameterMm: a.diameterMm } : {}) };
}

export function sealView(seal: SealRecord, versions: SealVersionRecord[]) {
  const active = versions.find((v) => v.status === 'active');
  return {
    id: seal.id,
    organisation: seal.organisation,
    creditCode: seal.creditCode,
    name: seal.name,
    sealType: seal.sealType,
    keyAlgorithm: seal.keyAlgorithm,
    certValidityDays: seal.certValidityDays,
    twoPersonControl: seal.twoPersonControl,
    rotationPolicy: seal.rotationPolicy ?? null,
    rotationPolicyApprovedBy: seal.rotationPolicyApproval?.approvedBy ?? null,
    isTest: seal.isTest,
    appearance: appearanceSummary(seal.appearance),
    createdAt: seal.createdAt,
    updatedAt: seal.updatedAt,
    activeVersion: active?.version ?? null,
    versions: versions.map(versionView),
  };
}

/** A seal with its versions and the active version's certificate. */
export async function sealDetail(db: Db, seal: SealRecord) {
  const versions = await listSealVersions(db, seal.id);
  const active = versions.find((v) => v.status === 'active');
  return { ...sealView(seal, versions), certificate: active?.certificate ? derToPem(active.certificate, 'CERTIFICATE') : null };
}
