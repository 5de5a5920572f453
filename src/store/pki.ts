/** The CA's own keys, the certificates it issued (for OCSP and CRLs) and CRL numbering. */
import type { Knex } from 'knex';
import { afterCommit } from './after-commit.js';
import { bytes, mapper, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';
import { dropRevocationData } from './revocation-cache.js';

export type PkiRole = 'root' | 'tsa' | 'ocsp' | 'audit' | 'archive';

export interface PkiKeyRecord {
  role: PkiRole;
  /** CKA_ID in the HSM, hex. */
  keyId: string;
  /** DER. */
  certificate: Uint8Array;
  createdAt: string;
}

export interface IssuedCertificateRecord {
  /** Hex, lower case. */
  serial: string;
  issuerRole: PkiRole;
  subject: string;
  der: Uint8Array;
  status: 'good' | 'revoked';
  issuedAt: string;
  revokedAt: string | null;
  /** RFC 5280 CRLReason name, e.g. 'keyCompromise'. */
  reason: string | null;
}

const pkiKeys = mapper<PkiKeyRecord>({
  role: ['role', text as Codec<PkiRole>],
  keyId: ['key_id', text],
  certificate: ['certificate', bytes],
  createdAt: ['created_at', text],
});

const issued = mapper<IssuedCertificateRecord>({
  serial: ['serial', text],
  issuerRole: ['issuer_role', text as Codec<PkiRole>],
  subject: ['subject', text],
  der: ['der', bytes],
  status: ['status', text as Codec<'good' | 'revoked'>],
  issuedAt: ['issued_at', text],
  revokedAt: ['revoked_at', nullable(text)],
  reason: ['reason', nullable(text)],
});

export async function getPkiKey(db: Db, role: PkiRole): Promise<PkiKeyRecord | undefined> {
  const row = await db('pki_keys').where({ role }).first();
  return row ? pkiKeys.fromRow(row) : undefined;
}

/** Inserts or replaces the key for a role. */
export async function putPkiKey(db: Db, key: PkiKeyRecord): Promise<void> {
  await db('pki_keys').insert(pkiKeys.toRow(key)).onConflict('role').merge();
}

export async function insertIssuedCertificate(db: Db, cert: IssuedCertificateRecord): Promise<void> {
  await db('issued_certificates').insert(issued.toRow(cert));
}

export async function getIssuedCertificate(db: Db, serial: string): Promise<IssuedCertificateRecord | undefined> {
  const row = await db('issued_certificates').where({ serial }).first();
  return row ? issued.fromRow(row) : undefined;
}

/**
 * Marks the certificate revoked and, in the same transaction (pass the caller's), drops the OCSP
 * response and CRL that still call it good, so no instance serves them once this commits.
 */
export async function revokeIssuedCertificate(db: Db, serial: string, revokedAt: string, reason: string): Promise<boolean> {
  const n = await db('issued_certificates')
    .where({ serial, status: 'good' })
    .update({ status: 'revoked', revoked_at: revokedAt, reason });
  if (n === 0) return false;
  const { issuer_role: issuerRole } = await db('issued_certificates').where({ serial }).first('issuer_role');
  await dropRevocationData(db, serial, issuerRole as PkiRole);
  if (db.isTransaction) afterCommit(db as Knex.Transaction, () => revocationsCommitted++);
  else revocationsCommitted++;
  return true;
}

let revocationsCommitted = 0;

/** How many certificate revocations this process has committed: what it keeps of the revocation data is stale once this moves. */
export const revocationsCommittedHere = (): number => revocationsCommitted;

export async function listRevokedCertificates(db: Db, issuerRole: PkiRole): Promise<IssuedCertificateRecord[]> {
  return (await db('issued_certificates').where({ issuer_role: issuerRole, status: 'revoked' }).orderBy('revoked_at'))
    .map(issued.fromRow);
}

/** The next CRL number for a CA (1 for the first CRL), in one atomic upsert; call it in the CRL's transaction. */
export async function nextCrlNumber(db: Db, ca: PkiRole): Promise<number> {
  const [row] = await db('crl_state')
    .insert({ ca, crl_number: 1 })
    .onConflict('ca')
    .merge({ crl_number: db.raw('?? + 1', ['crl_state.crl_number']) })
    .returning('crl_number');
  return Number((row as { crl_number: number | string }).crl_number);
}
