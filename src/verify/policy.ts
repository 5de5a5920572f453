/**
 * Which later changes a signature permits: DocMDP P1/P2/P3 for certification signatures, FieldMDP
 * locks, and for plain approval signatures the PAdES baseline (LTV data, more signatures, form
 * filling, annotations that do not cover anything). "Allowed" additions that overlay existing
 * annotations or signature appearances are rejected (evil annotation / sneaky signature attacks).
 */
import { PdfDict, PdfName, PdfString, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import { rectsOverlap, type ChangeKind, type Modification, type Rect } from './diff.js';
import { detail, reason, type Reason } from './reasons.js';

export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
}

export interface Permissions {
  /** DocMDP level when this is a certification signature. */
  docMdp?: 1 | 2 | 3;
  locks: FieldLock[];
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

function allowedKinds(p: Permissions): Set<ChangeKind> {
  const kinds = new Set<ChangeKind>(['metadata', 'ltv']);
  if (p.docMdp === 1) return kinds;
  kinds.add('signatures');
  kinds.add('form-fill');
  if (p.docMdp === undefined || p.docMdp === 3) kinds.add('annotations');
  return kinds;
}

function isLocked(locks: FieldLock[], field: string): boolean {
  return locks.some((l) => (l.action === 'All' ? true : l.action === 'Include' ? l.fields.includes(field) : !l.fields.includes(field)));
}

/**
 * Judges the modifications made after a signature. `existingRects` are the annotations present in
 * the signed revision, per page; a new annotation or signature appearance over one of them is an
 * overlay, whatever the permissions say. `textRects(page)` gives the signed revision's text: a new
 * annotation over it hides or changes what was signed (evil annotation attack). New signature
 * appearances may sit on text — seals are stamped over the signatory's name — but not on other
 * signatures or annotations.
 */
export function judgeModifications(
  mods: Modification[],
  perms: Permissions,
  existingRects: Map<number, Rect[]>,
  textRects: (page: number) => Rect[],
): Reason[] {
  const allowed = allowedKinds(perms);
  const problems: string[] = [];
  const added: { page: number; rect: Rect }[] = [];
  for (const m of mods) {
    if (!allowed.has(m.kind)) {
      problems.push(`revision ${m.revision}: ${m.details}`);
      continue;
    }
    if (m.kind === 'form-fill' && m.fieldName !== undefined && isLocked(perms.locks, m.fieldName)) {
      problems.push(`revision ${m.revision}: locked field "${m.fieldName}" changed`);
      continue;
    }
    if ((m.kind === 'annotations' || m.kind === 'signatures') && m.rect && m.page !== undefined) {
      const over = (existingRects.get(m.page) ?? []).some((r) => rectsOverlap(r, m.rect!)) || added.some((a) => a.page === m.page && rectsOverlap(a.rect, m.rect!));
      if (over) problems.push(`revision ${m.revision}: ${m.details}, overlapping an existing annotation or signature`);
      else if (m.kind === 'annotations' && textRects(m.page).some((r) => rectsOverlap(r, m.rect!))) {
        problems.push(`revision ${m.revision}: ${m.details}, covering signed text`);
      }
      added.push({ page: m.page, rect: m.rect });
    }
  }
  if (problems.length === 0) return [];
  const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; … (${problems.length} in all)` : '');
  const level = perms.docMdp ? ` (DocMDP P${perms.docMdp})` : '';
  return [reason('MODIFIED_AFTER_SIGNING', detail(`不允许的修改${level}：${shown}`, `Not permitted${level}: ${shown}.`))];
}
