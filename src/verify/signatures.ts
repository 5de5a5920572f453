/**
 * Finds the signatures of a document: every /FT /Sig field with a value in the latest revision's
 * AcroForm (signatures and document time-stamps), and signatures that earlier revisions had but the
 * latest one no longer reaches (a removed signature is itself a modification).
 */
import { PdfDict, PdfName, PdfRef, PdfString, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';

/** Field trees deeper or larger than this are hostile; real forms stay far below. */
const MAX_FIELD_DEPTH = 32;
const MAX_FIELDS = 20_000;

export interface FoundSignature {
  /** Fully qualified field name (partial names joined with "."). */
  fieldName: string;
  fieldRef?: PdfRef;
  /** The signature dictionary as the latest revision has it. */
  dict: PdfDict;
  /** Object number of the signature dictionary, when it is an indirect object. */
  dictRef?: PdfRef;
  kind: 'signature' | 'doc-timestamp';
  subFilter?: string;
}

export interface SignatureField {
  fieldName: string;
  ref?: PdfRef;
  dict: PdfDict;
  /** The field's value (signature dictionary), resolved; undefined for an empty signature field. */
  value?: PdfDict;
  valueRef?: PdfRef;
}

function text(v: PdfValue | undefined): string | undefined {
  return v instanceof PdfString ? v.decodeText() : undefined;
}

/** Walks the AcroForm field tree (following /Kids, inheriting /FT) and yields every signature field. */
export function signatureFields(reader: PdfReader): SignatureField[] {
  const out: SignatureField[] = [];
  const acro = reader.resolve(reader.catalog().get('AcroForm'));
  if (!(acro instanceof PdfDict)) return out;
  const fields = reader.resolve(acro.get('Fields'));
  if (!Array.isArray(fields)) return out;
  const seen = new Set<number>();
  let count = 0;
  const visit = (v: PdfValue, parentName: string, inheritedFt: string | undefined, depth: number): void => {
    if (depth > MAX_FIELD_DEPTH || ++count > MAX_FIELDS) return;
    if (v instanceof PdfRef) {
      if (seen.has(v.num)) return;
      seen.add(v.num);
    }
    const d = reader.resolve(v);
    if (!(d instanceof PdfDict)) return;
    const partial = text(reader.resolve(d.get('T')));
    const fieldName = partial === undefined ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const ftv = reader.resolve(d.get('FT'));
    const ft = ftv instanceof PdfName ? ftv.name : inheritedFt;
    const kids = reader.resolve(d.get('Kids'));
    if (Array.isArray(kids)) {
      for (const k of kids) visit(k, fieldName, ft, depth + 1);
    }
    // A kid without /T is a widget of its parent field, not a field of its own.
    if (ft !== 'Sig' || (partial === undefined && depth > 0)) return;
    const rawV = d.get('V');
    const value = reader.resolve(rawV);
    out.push({
      fieldName,
      ref: v instanceof PdfRef ? v : undefined,
      dict: d,
      value: value instanceof PdfDict ? value : undefined,
      valueRef: rawV instanceof PdfRef ? rawV : undefined,
    });
  };
  for (const f of fields) visit(f, '', undefined, 0);
  return out;
}

function toFound(f: SignatureField): FoundSignature | undefined {
  if (!f.value) return undefined;
  const sf = f.value.get('SubFilter');
  const subFilter = sf instanceof PdfName ? sf.name : undefined;
  const isDocTs = f.value.type === 'DocTimeStamp' || subFilter === 'ETSI.RFC3161';
  return {
    fieldName: f.fieldName || '(unnamed)',
    fieldRef: f.ref,
    dict: f.value,
    dictRef: f.valueRef,
    kind: isDocTs ? 'doc-timestamp' : 'signature',
    subFilter,
  };
}

/** Identity of a signature across revisions: where its /Contents token sits in the file. */
export function contentsKey(dict: PdfDict): string | undefined {
  const c = dict.get('Contents');
  return c instanceof PdfString && c.start >= 0 ? `${c.start}:${c.end}` : undefined;
}

export interface SignatureInventory {
  signatures: FoundSignature[];
  /** Signatures an earlier revision had that the latest revision does not reach. */
  removed: { fieldName: string; revision: number }[];
  /** Field names that share one signature value with another field. */
  shared: string[];
}

export function findSignatures(reader: PdfReader): SignatureInventory {
  const signatures: FoundSignature[] = [];
  const shared: string[] = [];
  const keys = new Set<string>();
  for (const f of signatureFields(reader)) {
    const s = toFound(f);
    if (!s) continue;
    const key = contentsKey(s.dict) ?? (s.dictRef ? `ref:${s.dictRef.num}` : undefined);
    if (key && keys.has(key)) {
      shared.push(s.fieldName);
      continue;
    }
    if (key) keys.add(key);
    signatures.push(s);
  }
  const removed: SignatureInventory['removed'] = [];
  const last = reader.revisions.length - 1;
  const reported = new Set<string>();
  for (let i = 0; i < last; i++) {
    let earlier: SignatureField[];
    try {
      earlier = signatureFields(reader.atRevision(i));
    } catch {
      continue; // an unreadable old revision is judged by the diff, not here
    }
    for (const f of earlier) {
      if (!f.value) continue;
      const key = contentsKey(f.value);
      if (!key || keys.has(key) || reported.has(key)) continue;
      reported.add(key);
      removed.push({ fieldName: f.fieldName, revision: i });
    }
  }
  return { signatures, removed, shared };
}
