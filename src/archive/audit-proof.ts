/**
 * The audit trail of an archive package: the entries about its documents, every entry between the
 * first of them and a chain head the audit key in the HSM signed (so each link can be recomputed),
 * the signed head and the audit certificate. Checked offline: each entry's hash, each link, the last
 * entry against the head, the head's signature, and the audit certificate's chain to a trust anchor.
 */
import { verify, X509Certificate } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { auditEntryHash } from '../audit/chain.js';
import { auditHeadStatement, signAuditHead } from '../audit/heads.js';
import type { KeyWithCertificate } from '../pki/authority.js';
import { auditRowsAfter } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { certificateFromDer } from '../verify/certs.js';
import { buildChain } from '../verify/trust.js';

export interface AuditProof {
  head: { seq: number; hash: string; signedAt: string; signature: string };
  /** The audit certificate (DER, base64). */
  certificate: string;
  /** Every entry from the first one about the documents up to the head. */
  entries: { seq: number; at: string; actor: string; action: string; subject: string | null; details: Record<string, unknown>; prevHash: string; hash: string }[];
  /** The seqs of the entries about the documents. */
  about: number[];
}

/** Signs the head first (the entries about the documents may be newer than the last signed head). */
export async function buildAuditProof(db: Db, audit: KeyWithCertificate, subjects: readonly string[]): Promise<AuditProof | undefined> {
  const signed = await signAuditHead({ db, signer: audit.signer, certificate: audit.certificate });
  if (!signed) return undefined;
  const head = signed.head;
  const about = (await db('audit_log').whereIn('subject', [...subjects]).where('seq', '<=', head.seq).orderBy('seq').select('seq')).map((r) => Number(r.seq));
  const first = about[0] ?? head.seq;
  const rows = await auditRowsAfter(db, first - 1, head.seq - first + 1);
  return {
    head: { seq: head.seq, hash: head.hash, signedAt: head.signedAt, signature: head.signature },
    certificate: Buffer.from(audit.certificate).toString('base64'),
    entries: rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.detailsJson) as Record<string, unknown>, prevHash: r.prevHash, hash: r.hash })),
    about,
  };
}

/**
 * Undefined when the proof holds; otherwise what is wrong with it — a string when the proof itself is
 * broken, `{ untrusted }` when it holds but its certificate does not chain to the anchors given.
 */
export function auditProofProblem(proof: AuditProof, anchors: pkijs.Certificate[]): string | { untrusted: string } | undefined {
  const { head, entries } = proof;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (auditEntryHash(e) !== e.hash) return `audit entry ${e.seq} does not give its recorded hash (altered)`;
    const prev = entries[i - 1];
    if (prev && (e.seq !== prev.seq + 1 || e.prevHash !== prev.hash)) return `audit entry ${e.seq} does not link to entry ${prev.seq} (removed or inserted)`;
  }
  const last = entries.at(-1);
  if (!last || last.seq !== head.seq || last.hash !== head.hash) return 'the entries do not end at the signed chain head';
  for (const seq of proof.about) if (!entries.some((e) => e.seq === seq)) return `audit entry ${seq} about the documents is not in the proof`;
  let cert: X509Certificate;
  let parsed: pkijs.Certificate;
  try {
    const der = Buffer.from(proof.certificate, 'base64');
    cert = new X509Certificate(der);
    parsed = certificateFromDer(der);
  } catch {
    return 'the audit certificate cannot be read';
  }
  if (!verify('sha256', auditHeadStatement(head), cert.publicKey, Buffer.from(head.signature, 'base64'))) return `the signature of the chain head at entry ${head.seq} does not verify`;
  const chain = buildChain(parsed, [], anchors, new Date(head.signedAt));
  if (chain.reasons.length > 0) return { untrusted: `the audit certificate does not chain to a trusted root at ${head.signedAt}` };
  return undefined;
}
