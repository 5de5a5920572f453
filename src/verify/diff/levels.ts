/**
 * How far a later revision departs from what a signature covered. The levels are ordered: each one
 * admits everything the levels below it admit, and a signature's permissions are a ceiling on them
 * (DocMDP P1 → lta-updates, P2 → form-filling, P3 and approval signatures → annotations).
 */
import type { Bilingual } from '../reasons.js';

export const MODIFICATION_LEVELS = [
  /** Nothing after the signature: it covers the whole document. */
  'none',
  /**
   * Long-term validation only: DSS/VRI data (certificates, CRLs, OCSP responses), invisible document
   * time-stamps, document information and XMP metadata. Nothing a reader of the page can see.
   */
  'lta-updates',
  /**
   * Form filling and signing: a field's value together with an appearance made for that field only,
   * signature fields added or signed (visible or not), the form's default resources, tags for them.
   */
  'form-filling',
  /** Annotations added (comments, stamps, links) and appearances no signature of their revision covers. */
  'annotations',
  /** Anything no rule explains: content, resources, fonts, pages, existing annotations or fields redefined. */
  'other',
] as const;

export type ModificationLevel = (typeof MODIFICATION_LEVELS)[number];

const RANK = new Map<ModificationLevel, number>(MODIFICATION_LEVELS.map((l, i) => [l, i]));

export const levelRank = (l: ModificationLevel): number => RANK.get(l)!;

export function highestLevel(levels: Iterable<ModificationLevel>): ModificationLevel {
  let best: ModificationLevel = 'none';
  for (const l of levels) if (levelRank(l) > levelRank(best)) best = l;
  return best;
}

/** What a change is, in the words reports use and the distinctions permission rules need. */
export type ChangeKind =
  | 'validation-data'
  | 'metadata'
  | 'doc-timestamp'
  | 'signature'
  | 'empty-signature-field'
  | 'form-fill'
  | 'form-resources'
  | 'structure-tree'
  | 'annotation'
  | 'unexplained';

export type Rect = [number, number, number, number];

/** Where a visible addition shows: overlap checks compare these with what the signed revision shows. */
export interface Placement {
  /** 0-based page index. */
  page: number;
  rect: Rect;
}

/** A signature added in a later revision, modelled explicitly (see rules/form.ts). */
export interface SignatureAddition {
  fieldName: string;
  /** A widget or seal slice with an area that is not hidden. */
  visible: boolean;
  /** The field did not exist in the previous revision (signing a prepared field is not creating one). */
  newField: boolean;
  /** An intact signature whose byte range ends at exactly this revision signs this field: its signer answers for it. */
  covered: boolean;
}

/** One thing a revision changed, judged by a revision rule (rules/) or left unexplained by the ledger. */
export interface Change {
  /** 0-based index of the revision that made the change. */
  revision: number;
  level: ModificationLevel;
  kind: ChangeKind;
  message: Bilingual;
  /** Fully qualified name of the form field changed, for FieldMDP locks. */
  fieldName?: string;
  /** True when a FieldMDP lock on `fieldName` does not forbid it (flags only, invisible LTV additions). */
  validWhenLocked?: boolean;
  signature?: SignatureAddition;
  /** Visible additions (annotations, signature widgets, seal slices). */
  placements?: Placement[];
  object?: number;
}
