/**
 * The verification report: one entry per signature and a document verdict that is the worst of them.
 */
import type { ChangeKind } from './diff.js';
import { FATAL, type Bilingual, type Reason, type ReasonCode } from './reasons.js';

export type Verdict = 'valid' | 'invalid' | 'indeterminate';

export interface SignerSummary {
  subject: string;
  commonName?: string;
  organisation?: string;
  /** Certificate serial number, lower-case hex without sign padding (as OneSeal's store keeps it). */
  serial: string;
  /** Unified social credit code (统一社会信用代码), when the certificate carries one. */
  creditCode?: string;
}

export interface SignatureReport {
  fieldName: string;
  kind: 'signature' | 'doc-timestamp';
  subFilter?: string;
  verdict: Verdict;
  reasons: Reason[];
  signer?: SignerSummary;
  /** The signing time the signer claims (/M or the signing-time attribute); not proof of anything. */
  signingTime?: string;
  /** The earliest time a verified time-stamp proves the signature existed. */
  provenTime?: string;
  timestamp?: { genTime: string; tsa?: string; intact: boolean };
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  /** The revision (0-based) whose end the signature covers. */
  revision?: number;
  coversWholeDocument: boolean;
  modifications: { revision: number; kind: ChangeKind; details: string }[];
  docMdp?: 1 | 2 | 3;
}

export interface Finding {
  code: ReasonCode | 'SIGNATURE_REMOVED' | 'SHARED_SIGNATURE' | 'TRAILING_DATA' | 'DAMAGED_XREF';
  message: Bilingual;
}

export interface Report {
  verdict: Verdict;
  signatures: SignatureReport[];
  findings: Finding[];
  revisions: number;
}

export function verdictOf(reasons: Reason[]): Verdict {
  if (reasons.some((r) => FATAL.has(r.code))) return 'invalid';
  return reasons.length > 0 ? 'indeterminate' : 'valid';
}

const RANK: Record<Verdict, number> = { valid: 0, indeterminate: 1, invalid: 2 };

/** Findings that make a document invalid whatever its signatures say. */
const FATAL_FINDINGS = new Set<Finding['code']>(['NOT_SIGNED', 'SIGNATURE_REMOVED', 'SHARED_SIGNATURE']);

/**
 * The worst verdict of the signatures. A document without signatures is invalid (it proves nothing),
 * as is one where a signature was removed or one signature value is shown by several fields (a
 * second field can display a signature where its signer never put it).
 */
export function documentVerdict(signatures: SignatureReport[], findings: Finding[]): Verdict {
  if (signatures.length === 0 || findings.some((f) => FATAL_FINDINGS.has(f.code))) return 'invalid';
  return signatures.map((s) => s.verdict).reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'valid');
}
