/**
 * Which later changes a signature permits. A policy composes small rules: revision rules explain
 * what each incremental update changed (src/verify/diff/rules), permission rules decide, for one
 * signature, whether each of those changes is one it allows — DocMDP P1/P2/P3 for certification
 * signatures, FieldMDP locks, and for approval signatures the PAdES baseline (LTV data, signatures,
 * form filling, annotations that cover nothing). Overlays are refused whatever the level allows
 * (evil annotation and sneaky signature attacks).
 *
 * A policy is plain code: a caller (a worker thread included) passes STANDARD_POLICY, STRICT_POLICY
 * or its own composition to verifyPdf.
 */
import { PdfDict, PdfName, PdfString, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import type { RevisionRule } from './diff/context.js';
import { levelRank, type Change, type ModificationLevel, type Placement, type Rect } from './diff/levels.js';
import { boxesOverlap } from '../pdf/text.js';
import { catalogRule } from './diff/rules/catalog.js';
import { dssRule } from './diff/rules/dss.js';
import { formRule } from './diff/rules/form.js';
import { documentInfoRule, xmpRule } from './diff/rules/metadata.js';
import { pagesRule } from './diff/rules/pages.js';
import { structureTreeRule } from './diff/rules/structure-tree.js';
import type { Bilingual } from './reasons.js';

export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
}

export interface Permissions {
  /** DocMDP level when this is a certification signature. */
  docMdp?: 1 | 2 | 3;
  locks: FieldLock[];
}

/** What the signed revision shows, for overlap checks. */
export interface SignedView {
  /** Visible annotations and widgets per page. */
  annotations(page: number): Rect[];
  /** Boxes of the visible text per page. */
  text(page: number): Rect[];
}

/** Visible additions already judged for this signature, so later ones cannot stack on them. */
export interface JudgeState {
  added: Placement[];
}

/** Why a change is not permitted for this signature, or undefined when this rule has no objection. */
export type PermissionRule = (change: Change, perms: Permissions, view: SignedView, state: JudgeState) => Bilingual | undefined;

export interface DiffPolicy {
  /** Explain each revision; order matters (the form rule tells the page rule about new widgets). */
  revisionRules: readonly RevisionRule[];
  permissionRules: readonly PermissionRule[];
}

function names(reader: PdfReader, v: PdfValue | undefined): string[] {
  const a = reader.resolve(v);
  if (!Array.isArray(a)) return [];
  return a.map((x) => reader.resolve(x)).filter((x): x is PdfString => x instanceof PdfString).map((s) => s.decodeText());
}

function lockOf(reader: PdfReader, params: PdfValue | undefined): FieldLock | undefined {
  const p = reader.resolve(params);
  if (!(p instanceof PdfDict)) return undefined;
  const action = reader.resolve(p.get('Action'));
  if (!(action instanceof PdfName) || !['All', 'Include', 'Exclude'].includes(action.name)) return undefined;
  return { action: action.name as FieldLock['action'], fields: names(reader, p.get('Fields')) };
}

/** Reads DocMDP and FieldMDP from the signature dictionary's /Reference and the field's /Lock. */
export function readPermissions(reader: PdfReader, sigDict: PdfDict, field?: PdfDict): Permissions {
  const out: Permissions = { locks: [] };
  const refs = reader.resolve(sigDict.get('Reference'));
  if (Array.isArray(refs)) {
    for (const r of refs.slice(0, 32)) {
      const d = reader.resolve(r);
      if (!(d instanceof PdfDict)) continue;
      const method = reader.resolve(d.get('TransformMethod'));
      if (!(method instanceof PdfName)) continue;
      if (method.name === 'DocMDP') {
        const params = reader.resolve(d.get('TransformParams'));
        const p = params instanceof PdfDict ? reader.resolve(params.get('P')) : undefined;
        out.docMdp = p === 1 || p === 3 ? p : 2; // absent or out-of-range P means 2 (ISO 32000 12.8.2.2)
      } else if (method.name === 'FieldMDP') {
        const lock = lockOf(reader, d.get('TransformParams'));
        if (lock) out.locks.push(lock);
      }
    }
  }
  const fieldLock = field ? lockOf(reader, field.get('Lock')) : undefined;
  if (fieldLock) out.locks.push(fieldLock);
  return out;
}

/** The highest level a signature permits. */
export function ceiling(p: Permissions): ModificationLevel {
  if (p.docMdp === 1) return 'lta-updates';
  if (p.docMdp === 2) return 'form-filling';
  return 'annotations';
}

const CEILING_WORDS: Record<ModificationLevel, Bilingual> = {
  none: { zh: '', en: '' },
  'lta-updates': { zh: '认证签名（DocMDP P1）不允许任何修改', en: 'the certification signature (DocMDP P1) allows no changes' },
  'form-filling': { zh: '认证签名（DocMDP P2）只允许填写表单和签名', en: 'the certification signature (DocMDP P2) allows form filling and signing only' },
  annotations: { zh: '签名不允许这种修改', en: 'no signature allows this change' },
  other: { zh: '', en: '' },
};

export const withinLevel: PermissionRule = (change, perms) => {
  const max = ceiling(perms);
  if (levelRank(change.level) <= levelRank(max)) return undefined;
  return change.level === 'other' ? CEILING_WORDS.annotations : CEILING_WORDS[max];
};

function isLocked(locks: FieldLock[], field: string): boolean {
  return locks.some((l) => (l.action === 'All' ? true : l.action === 'Include' ? l.fields.includes(field) : !l.fields.includes(field)));
}

export const fieldLocks: PermissionRule = (change, perms) => {
  if (change.fieldName === undefined || change.validWhenLocked || !isLocked(perms.locks, change.fieldName)) return undefined;
  return { zh: `字段“${change.fieldName}”已被签名锁定（FieldMDP）`, en: `the field "${change.fieldName}" is locked by the signature (FieldMDP)` };
};

/**
 * Visible additions may not cover what the signed revision shows as annotations or widgets, nor
 * each other; annotations (and appearances no signature of their revision vouches for) may not
 * cover signed text either. A seal signed in its own revision may sit on text — seals are stamped
 * over the signatory's name — except on a certified document, where that is the sneaky signature
 * attack.
 */
export const noOverlays: PermissionRule = (change, perms, view, state) => {
  let problem: Bilingual | undefined;
  const seal = change.kind === 'signature' && change.signature?.covered === true && perms.docMdp === undefined;
  for (const p of change.placements ?? []) {
    const coversAnnotation = view.annotations(p.page).some((r) => boxesOverlap(r, p.rect)) || state.added.some((a) => a.page === p.page && boxesOverlap(a.rect, p.rect));
    if (coversAnnotation) problem ??= { zh: '它盖住了已签的注释、表单域或签名', en: 'it covers a signed annotation, form field or signature' };
    else if (!seal && view.text(p.page).some((r) => boxesOverlap(r, p.rect))) problem ??= { zh: '它盖住了已签的文字', en: 'it covers signed text' };
    state.added.push(p);
  }
  return problem;
};

/** pyHanko's rule: a certified document may gain invisible signatures, or signatures in fields the certifier prepared, only. */
export const noNewVisibleSignatureAfterCertification: PermissionRule = (change, perms) => {
  if (perms.docMdp === undefined || change.kind !== 'signature' || !change.signature?.newField || !change.signature.visible) return undefined;
  return { zh: '认证文档之后只允许不可见的签名或签入预置的签名域', en: 'after a certification signature only invisible signatures or signatures in prepared fields are allowed' };
};

export const REVISION_RULES: readonly RevisionRule[] = [catalogRule, documentInfoRule, xmpRule, dssRule, formRule, pagesRule, structureTreeRule];

/**
 * The default. After a certification signature a new visible seal is accepted when the signature
 * of its own revision signs it and it covers neither signed text nor annotations.
 */
export const STANDARD_POLICY: DiffPolicy = {
  revisionRules: REVISION_RULES,
  permissionRules: [withinLevel, fieldLocks, noOverlays],
};

/** pyHanko's stricter reading: no new visible signature field at all after a certification signature. */
export const STRICT_POLICY: DiffPolicy = {
  revisionRules: REVISION_RULES,
  permissionRules: [withinLevel, fieldLocks, noNewVisibleSignatureAfterCertification, noOverlays],
};

export interface JudgedChange {
  change: Change;
  /** Why it is not permitted; undefined when it is. */
  refusal?: Bilingual;
}

/** Judges every later change for one signature, in revision order. */
export function judgeChanges(changes: readonly Change[], perms: Permissions, view: SignedView, policy: DiffPolicy): JudgedChange[] {
  const state: JudgeState = { added: [] };
  return changes.map((change) => {
    let refusal: Bilingual | undefined;
    for (const rule of policy.permissionRules) {
      const r = rule(change, perms, view, state);
      refusal ??= r;
    }
    return { change, refusal };
  });
}
