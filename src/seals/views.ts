/**
 * Seals, versions and proposals as administrators see them (admin API responses and `oneseal seal
 * --json`): one shape for both, certificates as PEM, key material never.
 */
import { derToPem } from '../pki/der.js';
import type { ProposalRecord } from '../store/approvals.js';
import { listSealVersions, type SealRecord, type SealVersionRecord } from '../store/seals.js';
import type { Db } from '../store/db.js';
import type { ActionResult, ProposalOutcome } from './approvals.js';

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

export function proposalView(p: ProposalRecord) {
  return {
    id: p.id,
    sealId: p.sealId,
    action: p.action,
    params: p.params,
    status: p.status,
    proposedBy: p.proposedBy,
    proposedAt: p.proposedAt,
    approvedBy: p.approvedBy,
    approvedAt: p.approvedAt,
    rejectedBy: p.rejectedBy,
    rejectedAt: p.rejectedAt,
    executedAt: p.executedAt,
  };
}

export function actionResultView(result: ActionResult) {
  if (result.action === 'rotate') {
    return {
      action: result.action,
      version: versionView(result.rotation.version),
      retired: result.rotation.retired ? versionView(result.rotation.retired) : null,
    };
  }
  return { action: result.action, version: versionView(result.version) };
}

/** What a lifecycle request did: carried out at once, or waiting for a second administrator. */
export function outcomeView(outcome: ProposalOutcome) {
  return outcome.executed
    ? { executed: true as const, ...(outcome.proposal ? { proposal: proposalView(outcome.proposal) } : {}), result: actionResultView(outcome.result) }
    : { executed: false as const, proposal: proposalView(outcome.proposal) };
}
