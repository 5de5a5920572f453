/**
 * The verification report: one entry per signature or document time-stamp, and a document verdict.
 * A document is valid only when at least one seal signature validates and every entry does;
 * document time-stamps prove when bytes existed, never that anyone approved them.
 */
import type { ChangeKind, ModificationLevel } from './diff/levels.js';
import { FATAL, type Bilingual, type Reason, type ReasonCode } from './reasons.js';

/**
 * valid · invalid (broken, tampered, or changed after signing in a way not permitted) ·
 * indeterminate (intact, but trust or revocation could not be established) ·
 * not-sealed (no seal signature at all: unsigned, or document time-stamps only).
 */
export type Verdict = 'valid' | 'invalid' | 'indeterminate' | 'not-sealed';

export interface SignerSummary {
  subject: string;
  commonName?: string;
  organisation?: string;
  /** Certificate serial number, lower-case hex without sign padding (as OneSeal's store keeps it). */
  serial: string;
  /** Unified social credit code (统一社会信用代码), when the certificate carries one. */
  creditCode?: string;
}

export interface ModificationReport {
  /** 0-based index of the revision that made the change. */
  revision: number;
  level: ModificationLevel;
  kind: ChangeKind;
  /** What changed, in words ("revision 2 changed the appearance of …"). */
  message: Bilingual;
  /** Whether this signature permits it (its DocMDP level, FieldMDP locks, overlay rules). */
  permitted: boolean;
  /** Why not, when it is not permitted. */
  refusal?: Bilingual;
}

export interface Coverage {
  /** 0-based index of the revision whose end the signature covers, and how many revisions the file has. */
  revision: number;
  revisions: number;
  /** The highest level of what came after ('none' when the signature covers the whole document). */
  laterLevel: ModificationLevel;
  /** "covers revision 1 of 2; revision 2 adds validation data only". */
  message: Bilingual;
}

export interface SignatureReport {
  fieldName: string;
  /** A signature (a seal when its certificate is a signing certificate) or a document time-stamp. */
  kind: 'signature' | 'doc-timestamp';
  subFilter?: string;
  verdict: Verdict;
  reasons: Reason[];
  /** Who signed: for signatures only. A document time-stamp names its TSA under `timestamp.tsa`, never here. */
  signer?: SignerSummary;
  /**
   * The signature dictionary's /Reason and /Location (covered by the signature): OneSeal writes there
   * the item and who handled it ("受托办理：某某镇便民服务中心（食品经营许可）") and the handling body.
   */
  reason?: string;
  location?: string;
  /** The signing time the signer claims (/M or the signing-time attribute); not proof of anything. */
  signingTime?: string;
  /** The earliest time a verified time-stamp proves the signature existed. */
  provenTime?: string;
  timestamp?: { genTime: string; tsa?: string; intact: boolean };
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  /** The revision (0-based) whose end the signature covers. */
  revision?: number;
  coversWholeDocument: boolean;
  coverage?: Coverage;
  /** Everything later revisions changed, each judged for this signature. */
  modifications: ModificationReport[];
  docMdp?: 1 | 2 | 3;
}

export interface Finding {
  code: ReasonCode | 'SIGNATURE_REMOVED' | 'SHARED_SIGNATURE' | 'TRAILING_DATA' | 'DAMAGED_XREF' | 'NO_SEAL_SIGNATURE';
  message: Bilingual;
}

export interface Report {
  verdict: Verdict;
  signatures: SignatureReport[];
  findings: Finding[];
  revisions: number;
  /** Seal signatures among `signatures` (document time-stamps and TSA-made signatures are not seals). */
  seals: number;
}

export function verdictOf(reasons: Reason[]): Verdict {
  if (reasons.some((r) => FATAL.has(r.code))) return 'invalid';
  return reasons.length > 0 ? 'indeterminate' : 'valid';
}

/** A seal signature: a CMS signature whose signer is not a time-stamping or OCSP service. */
export const isSeal = (s: SignatureReport): boolean => s.kind === 'signature' && !s.reasons.some((r) => r.code === 'SIGNER_NOT_SEAL');

const RANK: Record<Verdict, number> = { valid: 0, indeterminate: 1, 'not-sealed': 2, invalid: 3 };

/** Findings that make a document invalid whatever its signatures say. */
const FATAL_FINDINGS = new Set<Finding['code']>(['SIGNATURE_REMOVED', 'SHARED_SIGNATURE']);

/**
 * Invalid when a signature was removed, one signature value is shown by several fields, or any entry
 * is invalid; not sealed when no seal signature exists; otherwise the worst entry.
 */
export function documentVerdict(signatures: SignatureReport[], findings: Finding[]): Verdict {
  if (findings.some((f) => FATAL_FINDINGS.has(f.code)) || signatures.some((s) => s.verdict === 'invalid')) return 'invalid';
  if (!signatures.some(isSeal)) return 'not-sealed';
  return signatures.map((s) => s.verdict).reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'valid');
}
