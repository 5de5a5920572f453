/** Seals and their key versions: storage only; rotation and revocation rules live in src/seals. */
import type { KeyAlgorithm } from '../hsm/types.js';
import { bool, bytes, int, json, mapper, nowIso, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';

export interface SealRecord {
  id: string;
  organisation: string;
  creditCode: string;
  name: string;
  sealType: string;
  appearance: unknown;
  keyAlgorithm: KeyAlgorithm;
  certValidityDays: number;
  rotationPolicy: unknown;
  /** Who approved the rotation policy, sealed under the server secret; the scheduler runs only approved policies. */
  rotationPolicyApproval: RotationPolicyApproval | null;
  twoPersonControl: boolean;
  isTest: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RotationPolicyApproval {
  /** two-person: proposed and approved by two people; one-person: set where two-person control was off; break-glass: by the PIN holder. */
  kind: 'two-person' | 'one-person' | 'break-glass';
  /** Who set it (audit names): the proposer and the approver, or the one actor. */
  approvedBy: string[];
  proposalId: string | null;
  approvedAt: string;
  /** MAC over the seal id, the policy and the approvers (src/seals/scheduler.ts). */
  mac: string;
}

export type SealVersionStatus = 'pending' | 'active' | 'retired' | 'revoked' | 'destroyed';

export interface SealVersionRecord {
  id: number;
  sealId: string;
  version: number;
  /** CKA_ID of the key in the HSM, hex. */
  keyId: string;
  keyLabel: string;
  algorithm: KeyAlgorithm;
  /** DER; null until the certificate is issued. */
  certificate: Uint8Array | null;
  certSerial: string | null;
  status: SealVersionStatus;
  notBefore: string | null;
  notAfter: string | null;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
  destroyedAt: string | null;
  signatureCount: number;
}

const seals = mapper<SealRecord>({
  id: ['id', text],
  organisation: ['organisation', text],
  creditCode: ['credit_code', text],
  name: ['name', text],
  sealType: ['seal_type', text],
  appearance: ['appearance', json()],
  keyAlgorithm: ['key_algorithm', text as Codec<KeyAlgorithm>],
  certValidityDays: ['cert_validity_days', int],
  rotationPolicy: ['rotation_policy', json()],
  rotationPolicyApproval: ['rotation_policy_approval', nullable(json<RotationPolicyApproval>())],
  twoPersonControl: ['two_person_control', bool],
  isTest: ['is_test', bool],
  createdAt: ['created_at', text],
  updatedAt: ['updated_at', text],
});

const nullableText = nullable(text);
const versions = mapper<SealVersionRecord>({
  id: ['id', int],
  sealId: ['seal_id', text],
  version: ['version', int],
  keyId: ['key_id', text],
  keyLabel: ['key_label', text],
  algorithm: ['algorithm', text as Codec<KeyAlgorithm>],
  certificate: ['certificate', nullable(bytes)],
  certSerial: ['cert_serial', nullableText],
  status: ['status', text as Codec<SealVersionStatus>],
  notBefore: ['not_before', nullableText],
  notAfter: ['not_after', nullableText],
  createdAt: ['created_at', text],
  activatedAt: ['activated_at', nullableText],
  retiredAt: ['retired_at', nullableText],
  revokedAt: ['revoked_at', nullableText],
  revocationReason: ['revocation_reason', nullableText],
  destroyedAt: ['destroyed_at', nullableText],
  signatureCount: ['signature_count', int],
});

export type NewSeal = Omit<SealRecord, 'createdAt' | 'updatedAt' | 'rotationPolicyApproval'> & Partial<Pick<SealRecord, 'rotationPolicyApproval'>>;

export async function insertSeal(db: Db, seal: NewSeal): Promise<SealRecord> {
  const now = nowIso();
  const record: SealRecord = { rotationPolicyApproval: null, ...seal, createdAt: now, updatedAt: now };
  await db('seals').insert(seals.toRow(record));
  return record;
}

export async function getSeal(db: Db, id: string): Promise<SealRecord | undefined> {
  const row = await db('seals').where({ id }).first();
  return row ? seals.fromRow(row) : undefined;
}

export async function listSeals(db: Db): Promise<SealRecord[]> {
  return (await db('seals').orderBy('id')).map(seals.fromRow);
}

/** Whether any seal (or any of `ids`) is under two-person control. */
export async function anySealUnderTwoPersonControl(db: Db, ids?: readonly string[]): Promise<boolean> {
  const q = db('seals').where({ two_person_control: true });
  if (ids) q.whereIn('id', [...ids]);
  return (await q.first('id')) !== undefined;
}

export async function updateSeal(db: Db, id: string, patch: Partial<Omit<SealRecord, 'id' | 'createdAt'>>): Promise<void> {
  await db('seals').where({ id }).update(seals.toRow({ ...patch, updatedAt: nowIso() }));
}

export type NewSealVersion = Pick<SealVersionRecord, 'sealId' | 'version' | 'keyId' | 'keyLabel' | 'algorithm'>
  & Partial<Pick<SealVersionRecord, 'status' | 'certificate' | 'certSerial' | 'notBefore' | 'notAfter' | 'activatedAt'>>;

/** A version inserted already active was activated when it was created (a seal's first version). */
export async function insertSealVersion(db: Db, v: NewSealVersion): Promise<SealVersionRecord> {
  const createdAt = nowIso();
  const row = versions.toRow({ status: 'pending', signatureCount: 0, createdAt, ...(v.status === 'active' ? { activatedAt: createdAt } : {}), ...v });
  const [inserted] = await db('seal_versions').insert(row).returning('id');
  const id = typeof inserted === 'object' ? (inserted as { id: number }).id : inserted;
  return (await getSealVersionById(db, Number(id)))!;
}

export async function getSealVersionById(db: Db, id: number): Promise<SealVersionRecord | undefined> {
  const row = await db('seal_versions').where({ id }).first();
  return row ? versions.fromRow(row) : undefined;
}

export async function getSealVersion(db: Db, sealId: string, version: number): Promise<SealVersionRecord | undefined> {
  const row = await db('seal_versions').where({ seal_id: sealId, version }).first();
  return row ? versions.fromRow(row) : undefined;
}

export async function listSealVersions(db: Db, sealId: string): Promise<SealVersionRecord[]> {
  return (await db('seal_versions').where({ seal_id: sealId }).orderBy('version')).map(versions.fromRow);
}

export async function activeSealVersion(db: Db, sealId: string): Promise<SealVersionRecord | undefined> {
  const row = await db('seal_versions').where({ seal_id: sealId, status: 'active' }).orderBy('version', 'desc').first();
  return row ? versions.fromRow(row) : undefined;
}

export async function updateSealVersion(
  db: Db,
  id: number,
  patch: Partial<Omit<SealVersionRecord, 'id' | 'sealId' | 'version' | 'createdAt'>>,
): Promise<void> {
  await db('seal_versions').where({ id }).update(versions.toRow(patch));
}

export async function incrementSignatureCount(db: Db, id: number, by = 1): Promise<void> {
  await db('seal_versions').where({ id }).increment('signature_count', by);
}
