/**
 * Signed chain heads: now and then the audit key in the HSM signs the chain's latest (seq, hash).
 * Whoever can write the database can rewrite the log and re-hash it consistently; they cannot sign,
 * so a signed head pins every entry up to its seq.
 */
import { verify, X509Certificate } from 'node:crypto';
import type { Knex } from 'knex';
import { OneSealError } from '../errors.js';
import type { DigestSigner } from '../hsm/types.js';
import { assertSignerOwns, toCertificate } from '../pki/der.js';
import { signTbs } from '../pki/sign.js';
import {
  auditRowsAfter,
  getAuditTip,
  insertAuditHead,
  latestAuditHead,
  listAuditHeads,
  type AuditHeadRecord,
} from '../store/audit.js';
import { isPostgres, type Db } from '../store/db.js';
import { canonicalJson } from './canonical-json.js';
import { verifyAuditChain, type AuditVerification } from './chain.js';

/** The pki_keys role whose key signs heads, recorded with each head. */
export const AUDIT_HEAD_KEY_ROLE = 'audit';

/**
 * The bytes a head signature covers. The statement name keeps a head signature from being read as
 * any other signed object of OneSeal's.
 */
export function auditHeadStatement(head: Pick<AuditHeadRecord, 'seq' | 'hash' | 'signedAt'>): Buffer {
  return Buffer.from(canonicalJson({ statement: 'oneseal-audit-head', seq: head.seq, hash: head.hash, signedAt: head.signedAt }), 'utf8');
}

/**
 * Runs fn on one consistent view of the database, so an append committing during a walk of the log
 * cannot look like entries missing from its end. SQLite transactions are snapshots already.
 */
function inSnapshot<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(fn, isPostgres(db) ? { isolationLevel: 'repeatable read' } : {});
}

export interface SignedHead {
  head: AuditHeadRecord;
  /** False when the tip was signed already and nothing changed. */
  created: boolean;
}

/**
 * Signs the chain tip unless it is signed already; undefined while the log is empty. Checks the entries
 * since the last signed head first: a head over a rewritten chain would vouch for the rewrite.
 */
export async function signAuditHead(
  deps: { db: Knex; signer: DigestSigner; certificate: Uint8Array },
  now: Date = new Date(),
): Promise<SignedHead | undefined> {
  assertSignerOwns(deps.signer, toCertificate(deps.certificate), AUDIT_HEAD_KEY_ROLE);
  const state = await inSnapshot(deps.db, async (trx) => {
    const latest = await latestAuditHead(trx);
    const tip = await getAuditTip(trx);
    if (latest && latest.seq === tip.seq && latest.hash === tip.hash) return { latest };
    return { latest, check: await verifyAuditChain(trx, latest ? { after: latest } : {}) };
  });
  if (!state.check) return { head: state.latest!, created: false };
  const check = state.check;
  if (!check.ok) {
    throw new OneSealError('audit-chain-broken', 'conflict',
      `Not signing the audit chain head: ${check.message}. Run \`oneseal audit verify\` and investigate before signing again.`,
      { extra: { seq: check.seq, problem: check.problem } });
  }
  if (check.lastSeq === 0) return undefined;
  const unsigned = { seq: check.lastSeq, hash: check.lastHash, signedAt: now.toISOString() };
  // SHA-256 whatever the key: that is what verifiers of heads (signatureValid below) compute
  const signature = Buffer.from(await signTbs(deps.signer, auditHeadStatement(unsigned), 'SHA-256')).toString('base64');
  const head: AuditHeadRecord = { ...unsigned, signature, keyRole: AUDIT_HEAD_KEY_ROLE };
  if (await insertAuditHead(deps.db, head)) return { head, created: true };
  // Another signer (a second instance) signed the same tip a moment earlier; its head stands.
  return { head: (await latestAuditHead(deps.db))!, created: false };
}

export type AuditHeadsVerification =
  | { ok: true; checked: number; latestSignedSeq: number | null }
  | { ok: false; seq: number; problem: 'head-signature' | 'head-hash'; message: string };

function signatureValid(head: AuditHeadRecord, certificates: readonly X509Certificate[]): boolean {
  const statement = auditHeadStatement(head);
  const signature = Buffer.from(head.signature, 'base64');
  // node's defaults are what the HSM produces: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC.
  return certificates.some((cert) => verify('sha256', statement, cert.publicKey, signature));
}

/**
 * Checks every stored head: its signature under one of `certificates` (DER; the audit certificate,
 * and earlier ones after a key change) and that its hash is the hash of the entry at its seq.
 * Names the first bad head.
 */
export async function verifyAuditHeads(db: Db, certificates: readonly Uint8Array[]): Promise<AuditHeadsVerification> {
  const certs = certificates.map((der) => new X509Certificate(der));
  const heads = await listAuditHeads(db);
  for (const head of heads) {
    if (!signatureValid(head, certs)) {
      const why = certs.length === 0 ? 'there is no audit certificate to check it with (run `oneseal init`)' : 'its signature does not verify with the audit certificate';
      return { ok: false, seq: head.seq, problem: 'head-signature', message: `the chain head at entry ${head.seq} (signed at ${head.signedAt}) is forged or damaged: ${why}` };
    }
    const [entry] = await auditRowsAfter(db, head.seq - 1, 1);
    if (entry?.seq !== head.seq || entry.hash !== head.hash) {
      return { ok: false, seq: head.seq, problem: 'head-hash', message: `audit entry ${head.seq} is missing or differs from the chain head signed at ${head.signedAt}` };
    }
  }
  return { ok: true, checked: heads.length, latestSignedSeq: heads.at(-1)?.seq ?? null };
}

export type AuditLogVerification =
  | (Extract<AuditVerification, { ok: true }> & { heads: { checked: number; latestSignedSeq: number | null } })
  | Extract<AuditVerification, { ok: false }>
  | Extract<AuditHeadsVerification, { ok: false }>;

/** The chain and its signed heads, on one snapshot: what `oneseal audit verify` reports. */
export async function verifyAuditLog(db: Knex, certificates: readonly Uint8Array[], options: { pageSize?: number } = {}): Promise<AuditLogVerification> {
  return inSnapshot(db, async (trx) => {
    const chain = await verifyAuditChain(trx, options);
    if (!chain.ok) return chain;
    const heads = await verifyAuditHeads(trx, certificates);
    if (!heads.ok) return heads;
    return { ...chain, heads: { checked: heads.checked, latestSignedSeq: heads.latestSignedSeq } };
  });
}
