/**
 * What each incremental update changed, object by object, and what kind of change it is. Every object
 * a revision's cross-reference section lists is compared (parsed) with the previous revision's; a
 * changed object is judged by the roles it plays in either revision (page content, an annotation, a
 * form field, a signature dictionary, LTV data…). Re-saved identical objects are not changes, and
 * objects nothing reaches are harmless; everything else unrecognised counts as "other".
 */
import { PdfError } from '../errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';

export type ChangeKind = 'ltv' | 'metadata' | 'signatures' | 'form-fill' | 'annotations' | 'other';

export type Rect = [number, number, number, number];

export interface Modification {
  revision: number;
  kind: ChangeKind;
  details: string;
  object?: number;
  fieldName?: string;
  /** For added annotations: where they sit, to check for overlap. */
  page?: number;
  rect?: Rect;
  /** A change of the form's default resources: part of whatever else the revision does to the form. */
  formResources?: boolean;
}

type Owner = 'annotation' | 'form' | 'signature' | 'signed-signature';
interface Role {
  tag:
    | 'catalog'
    | 'pagetree'
    | 'page'
    | 'annots'
    | 'annot'
    | 'appearance'
    | 'acroform'
    | 'fields'
    | 'field'
    | 'field-value'
    | 'sigdict'
    | 'ltv'
    | 'metadata'
    | 'form-resources'
    | 'page-content'
    | 'other';
  page?: number;
  field?: string;
  sigField?: boolean;
  owner?: Owner;
  via?: string;
}

/** Keys that point back up or sideways (to pages, parents, structure); subtree walks do not follow them. */
const BACK_KEYS = new Set(['Parent', 'P', 'Pg', 'Obj', 'Dest', 'D', 'Data', 'First', 'Last', 'Next', 'Prev', 'Popup', 'IRT']);
/** Catalog entries that only describe the document (version, XMP, tagging), not what it shows. */
const METADATA_KEYS = new Set(['Version', 'Metadata', 'MarkInfo', 'StructTreeRoot', 'Lang']);
/** Objects visited while assigning roles in one revision; beyond this the map is incomplete. */
const MAX_VISITS = 500_000;
/** Across all revisions of one document: many revisions of a large document would take minutes. */
const MAX_TOTAL_VISITS = 5_000_000;

class RoleMap {
  readonly roles = new Map<number, Role[]>();
  private readonly visited = new Set<string>();
  visits = 0;
  truncated = false;

  constructor(readonly reader: PdfReader) {}

  add(num: number, role: Role): boolean {
    const key = `${num}|${role.tag}|${role.owner ?? ''}`;
    if (this.visited.has(key)) return false;
    if (++this.visits > MAX_VISITS) {
      this.truncated = true;
      return false;
    }
    this.visited.add(key);
    let list = this.roles.get(num);
    if (!list) this.roles.set(num, (list = []));
    if (list.length < 16) list.push(role);
    return true;
  }

  /** Marks `v` and everything it references (not following back links, not entering pages) with `role`. */
  mark(v: PdfValue | undefined, role: Role): void {
    const stack: (PdfValue | undefined)[] = [v];
    while (stack.length > 0) {
      let x = stack.pop();
      if (x instanceof PdfRef) {
        const target = this.safeGet(x);
        if (target instanceof PdfDict && (target.type === 'Page' || target.type === 'Pages')) continue;
        if (!this.add(x.num, role)) continue;
        x = target;
      }
      if (Array.isArray(x)) stack.push(...x);
      else if (x instanceof PdfDict || x instanceof PdfStream) {
        const d = x instanceof PdfStream ? x.dict : x;
        for (const [k, val] of d.entries()) if (!BACK_KEYS.has(k)) stack.push(val);
      }
    }
  }

  /** Names of the signature fields in this revision. */
  sigFieldNames(): Set<string> {
    if (!this.sigFields) {
      this.sigFields = new Set();
      for (const roles of this.roles.values()) for (const r of roles) if (r.tag === 'field' && r.sigField && r.field !== undefined) this.sigFields.add(r.field);
    }
    return this.sigFields;
  }
  private sigFields?: Set<string>;

  safeGet(r: PdfRef): PdfValue {
    try {
      return this.reader.getObject(r);
    } catch {
      return null;
    }
  }

  resolve(v: PdfValue | undefined): PdfValue | undefined {
    try {
      return this.reader.resolve(v);
    } catch {
      return undefined;
    }
  }
}

function nameOf(v: PdfValue | undefined): string | undefined {
  return v instanceof PdfName ? v.name : undefined;
}

/** Assigns roles to the objects of one revision. `signedFields` are signature fields already signed before the update. */
function buildRoles(reader: PdfReader, signedFields: Set<string> | undefined): RoleMap {
  const m = new RoleMap(reader);
  const trailer = reader.trailer;
  m.mark(trailer.get('Info'), { tag: 'metadata' });
  const rootRef = trailer.get('Root');
  if (rootRef instanceof PdfRef) m.add(rootRef.num, { tag: 'catalog' });
  let catalog: PdfDict;
  try {
    catalog = reader.catalog();
  } catch {
    return m;
  }
  // Form fields first, so widget annotations found on pages know their field.
  const widgetField = new Map<number, { name: string; sig: boolean; owner: Owner }>();
  const acroRef = catalog.get('AcroForm');
  if (acroRef instanceof PdfRef) m.add(acroRef.num, { tag: 'acroform' });
  const acro = m.resolve(acroRef);
  if (acro instanceof PdfDict) {
    for (const [k, v] of acro.entries()) {
      if (k === 'Fields') continue;
      m.mark(v, k === 'DR' || k === 'DA' ? { tag: 'form-resources' } : { tag: 'other', via: `AcroForm/${k}` });
    }
    const fields = acro.get('Fields');
    if (fields instanceof PdfRef) m.add(fields.num, { tag: 'fields' });
    const list = m.resolve(fields);
    if (Array.isArray(list)) walkFields(m, list, '', undefined, 0, widgetField, signedFields);
  }
  for (const [k, v] of catalog.entries()) {
    if (k === 'AcroForm' || k === 'Pages') continue;
    if (k === 'DSS' || k === 'Extensions') m.mark(v, { tag: 'ltv' });
    else if (METADATA_KEYS.has(k)) m.mark(v, { tag: 'metadata' });
    else m.mark(v, { tag: 'other', via: `catalog /${k}` });
  }
  walkPages(m, catalog.get('Pages'), widgetField);
  return m;
}

function walkFields(
  m: RoleMap,
  list: PdfValue[],
  parentName: string,
  inheritedFt: string | undefined,
  depth: number,
  widgetField: Map<number, { name: string; sig: boolean; owner: Owner }>,
  signedFields: Set<string> | undefined,
): void {
  if (depth > 32) return;
  for (const item of list) {
    const d = m.resolve(item);
    if (!(d instanceof PdfDict)) continue;
    const t = m.resolve(d.get('T'));
    const name = t instanceof PdfString ? (parentName ? `${parentName}.${t.decodeText()}` : t.decodeText()) : parentName;
    const ft = nameOf(m.resolve(d.get('FT'))) ?? inheritedFt;
    const sig = ft === 'Sig';
    const hasValue = m.resolve(d.get('V')) instanceof PdfDict;
    const signed = sig && (signedFields ? signedFields.has(name) : hasValue);
    const owner: Owner = sig ? (signed ? 'signed-signature' : 'signature') : 'form';
    if (item instanceof PdfRef) {
      if (!m.add(item.num, { tag: 'field', field: name, sigField: sig, owner })) continue;
      widgetField.set(item.num, { name, sig, owner });
    }
    const v = d.get('V');
    if (sig) m.mark(v, { tag: 'sigdict', field: name });
    else m.mark(v, { tag: 'field-value', field: name });
    m.mark(d.get('AP'), { tag: 'appearance', owner, field: name });
    m.mark(d.get('MK'), { tag: 'appearance', owner, field: name });
    m.mark(d.get('Lock'), { tag: 'sigdict', field: name });
    m.mark(d.get('SV'), { tag: 'sigdict', field: name });
    const kids = m.resolve(d.get('Kids'));
    if (Array.isArray(kids)) walkFields(m, kids, name, ft, depth + 1, widgetField, signedFields);
  }
}

function walkPages(m: RoleMap, root: PdfValue | undefined, widgetField: Map<number, { name: string; sig: boolean; owner: Owner }>): void {
  const stack: PdfValue[] = root === undefined ? [] : [root];
  let pageIndex = 0;
  const seen = new Set<number>();
  while (stack.length > 0) {
    const ref = stack.pop()!;
    if (ref instanceof PdfRef) {
      if (seen.has(ref.num)) continue;
      seen.add(ref.num);
    }
    const node = m.resolve(ref);
    if (!(node instanceof PdfDict)) continue;
    const kids = m.resolve(node.get('Kids'));
    if (node.type === 'Pages' || (node.type !== 'Page' && Array.isArray(kids))) {
      if (ref instanceof PdfRef) m.add(ref.num, { tag: 'pagetree' });
      for (const [k, v] of node.entries()) if (k !== 'Kids' && k !== 'Parent') m.mark(v, { tag: 'page-content', via: `page tree /${k}` });
      if (Array.isArray(kids)) for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
      continue;
    }
    const page = pageIndex++;
    if (ref instanceof PdfRef) m.add(ref.num, { tag: 'page', page });
    for (const [k, v] of node.entries()) {
      if (k === 'Parent' || k === 'Annots') continue;
      m.mark(v, { tag: 'page-content', page, via: `page /${k}` });
    }
    const annotsRaw = node.get('Annots');
    if (annotsRaw instanceof PdfRef) m.add(annotsRaw.num, { tag: 'annots', page });
    const annots = m.resolve(annotsRaw);
    if (!Array.isArray(annots)) continue;
    for (const a of annots) {
      const field = a instanceof PdfRef ? widgetField.get(a.num) : undefined;
      const owner: Owner = field?.owner ?? 'annotation';
      if (a instanceof PdfRef) m.add(a.num, { tag: 'annot', page, owner, field: field?.name, sigField: field?.sig });
      const d = m.resolve(a);
      if (!(d instanceof PdfDict)) continue;
      m.mark(d.get('AP'), { tag: 'appearance', owner, field: field?.name });
      m.mark(d.get('MK'), { tag: 'appearance', owner, field: field?.name });
      const popup = d.get('Popup');
      if (popup instanceof PdfRef) m.add(popup.num, { tag: 'annot', page, owner: 'annotation' });
    }
  }
}

/** Structural equality of parsed values (streams by dictionary and data). */
export function valuesEqual(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 64) return false;
  if (a instanceof PdfString && b instanceof PdfString) return Buffer.from(a.bytes).equals(b.bytes);
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i], depth + 1));
  if (a instanceof PdfStream && b instanceof PdfStream) {
    return dictsEqual(a.dict, b.dict, depth, ['Length']) && Buffer.from(a.data).equals(b.data);
  }
  if (a instanceof PdfDict && b instanceof PdfDict) return dictsEqual(a, b, depth, []);
  return false;
}

function dictsEqual(a: PdfDict, b: PdfDict, depth: number, ignore: string[]): boolean {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    if (ignore.includes(k)) continue;
    if (!valuesEqual(a.get(k), b.get(k), depth + 1)) return false;
  }
  return true;
}

/** Keys of two dictionaries whose values differ. */
function changedKeys(a: PdfDict, b: PdfDict): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) if (!valuesEqual(a.get(k), b.get(k))) out.push(k);
  return out;
}

function dictOf(v: PdfValue | undefined): PdfDict | undefined {
  if (v instanceof PdfDict) return v;
  if (v instanceof PdfStream) return v.dict;
  return undefined;
}

function rectOf(m: RoleMap, d: PdfDict): Rect | undefined {
  const a = m.resolve(d.get('Rect'));
  if (!Array.isArray(a) || a.length !== 4) return undefined;
  const n = a.map((x) => m.resolve(x));
  if (!n.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return [Math.min(n[0]!, n[2]!), Math.min(n[1]!, n[3]!), Math.max(n[0]!, n[2]!), Math.max(n[1]!, n[3]!)];
}

/** Hidden (F bit 2) or zero-area annotations cannot cover anything. */
function isVisible(m: RoleMap, d: PdfDict, rect: Rect | undefined): boolean {
  const f = m.resolve(d.get('F'));
  if (typeof f === 'number' && (f & 2) !== 0) return false;
  return rect !== undefined && rect[2] - rect[0] > 0 && rect[3] - rect[1] > 0;
}

interface Ctx {
  revision: number;
  old: RoleMap;
  cur: RoleMap;
  out: Modification[];
  /** Fields whose value changed in this revision: only their appearances may change (shadow "replace" changes an appearance alone). */
  filled: Set<string>;
}

function push(ctx: Ctx, kind: ChangeKind, details: string, extra: Partial<Modification> = {}): void {
  ctx.out.push({ revision: ctx.revision, kind, details, ...extra });
}

/** A page's (or indirect) /Annots array changed: judge each added or removed annotation. */
function compareAnnots(ctx: Ctx, page: number | undefined, oldList: PdfValue | undefined, newList: PdfValue | undefined, object: number): void {
  const before = Array.isArray(oldList) ? oldList : [];
  const after = Array.isArray(newList) ? newList : [];
  const key = (v: PdfValue): string => (v instanceof PdfRef ? `r${v.num}` : `i${JSON.stringify(String(v))}`);
  const oldKeys = new Set(before.map(key));
  const newKeys = new Set(after.map(key));
  for (const a of after) {
    if (oldKeys.has(key(a))) continue;
    const d = ctx.cur.resolve(a);
    if (!(d instanceof PdfDict)) continue;
    const subtype = nameOf(d.get('Subtype')) ?? '?';
    const role = a instanceof PdfRef ? ctx.cur.roles.get(a.num)?.find((r) => r.tag === 'field') : undefined;
    const rect = rectOf(ctx.cur, d);
    const visible = isVisible(ctx.cur, d, rect);
    // OneSeal writes the extra pieces of a seal (骑缝章 slices) as /Stamp annotations named "<field> slice N" in the signature's revision.
    const nm = d.get('NM');
    const sliceOf = subtype === 'Stamp' && nm instanceof PdfString ? /^(.+) slice \d+$/.exec(nm.decodeText())?.[1] : undefined;
    if (sliceOf !== undefined && ctx.cur.sigFieldNames().has(sliceOf) && !ctx.old.sigFieldNames().has(sliceOf)) {
      push(ctx, 'signatures', `seal slice of signature "${sliceOf}" added on page ${(page ?? 0) + 1}`, { object, fieldName: sliceOf, page, rect: visible ? rect : undefined });
    } else if (subtype === 'Widget' && role?.sigField) {
      push(ctx, 'signatures', `signature field "${role.field}" added on page ${(page ?? 0) + 1}`, {
        object,
        fieldName: role.field,
        page,
        rect: visible ? rect : undefined,
      });
    } else {
      const what = subtype === 'Widget' ? `form field widget${role ? ` "${role.field}"` : ''}` : `${subtype} annotation`;
      push(ctx, 'annotations', `${what} added on page ${(page ?? 0) + 1}`, { object, page, rect: visible ? rect : undefined });
    }
  }
  for (const a of before) {
    if (newKeys.has(key(a))) continue;
    const roles = a instanceof PdfRef ? (ctx.old.roles.get(a.num) ?? []) : [];
    const signed = roles.some((r) => r.owner === 'signed-signature');
    push(ctx, signed ? 'other' : 'annotations', `${signed ? 'signature widget' : 'annotation'} removed from page ${(page ?? 0) + 1}`, { object });
  }
}

function compareFields(ctx: Ctx, oldList: PdfValue | undefined, newList: PdfValue | undefined, object: number): void {
  const before = Array.isArray(oldList) ? oldList : [];
  const after = Array.isArray(newList) ? newList : [];
  const key = (v: PdfValue): string => (v instanceof PdfRef ? `r${v.num}` : `i${String(v)}`);
  const oldKeys = new Set(before.map(key));
  const newKeys = new Set(after.map(key));
  for (const f of after) {
    if (oldKeys.has(key(f))) continue;
    const role = f instanceof PdfRef ? ctx.cur.roles.get(f.num)?.find((r) => r.tag === 'field') : undefined;
    if (role?.sigField) push(ctx, 'signatures', `signature field "${role.field}" added`, { object, fieldName: role.field });
    else push(ctx, 'annotations', `form field${role ? ` "${role.field}"` : ''} added`, { object, fieldName: role?.field });
  }
  for (const f of before) {
    if (newKeys.has(key(f))) continue;
    const role = f instanceof PdfRef ? ctx.old.roles.get(f.num)?.find((r) => r.tag === 'field') : undefined;
    push(ctx, 'other', `form field${role ? ` "${role.field}"` : ''} removed`, { object, fieldName: role?.field });
  }
}

const FIELD_FILL_KEYS = new Set(['V', 'AP', 'AS', 'MK', 'DA', 'DV', 'RV', 'I']);
const APPEARANCE_KEYS = new Set(['AP', 'AS', 'MK']);

/** Judges one changed object for one of its roles. */
function judge(ctx: Ctx, num: number, role: Role, fromOld: boolean, oldV: PdfValue, newV: PdfValue): void {
  const od = dictOf(oldV);
  const nd = dictOf(newV);
  const isNew = oldV === null;
  switch (role.tag) {
    case 'catalog':
      return; // compared as a whole in RevisionDiff.changes: the catalog may move to a new object
    case 'pagetree':
      return push(ctx, 'other', isNew ? 'page tree node added' : 'page tree changed (pages added, removed or reordered)', { object: num });
    case 'page': {
      if (!od || !nd) return push(ctx, 'other', `page ${(role.page ?? 0) + 1} ${nd ? 'added' : 'removed'}`, { object: num });
      for (const k of changedKeys(od, nd)) {
        if (k === 'Annots') compareAnnots(ctx, role.page, ctx.old.resolve(od.get('Annots')), ctx.cur.resolve(nd.get('Annots')), num);
        else push(ctx, 'other', `page ${(role.page ?? 0) + 1}: /${k} changed`, { object: num });
      }
      return;
    }
    // A new indirect array is judged where the page or form starts to point at it.
    case 'annots':
      if (isNew) return;
      return compareAnnots(ctx, role.page, ctx.old.resolve(oldV), ctx.cur.resolve(newV), num);
    case 'fields':
      if (isNew) return;
      return compareFields(ctx, ctx.old.resolve(oldV), ctx.cur.resolve(newV), num);
    case 'acroform':
      if (!nd) return push(ctx, 'other', 'AcroForm removed', { object: num });
      return judgeAcroForm(ctx, num, od ?? new PdfDict(), nd);
    case 'annot':
    case 'field': {
      if (isNew) return; // additions are judged where they are linked in (/Annots, /Fields, /Kids)
      if (!nd || !od) return push(ctx, 'other', `${role.tag === 'field' ? 'form field' : 'annotation'} deleted`, { object: num });
      for (const k of changedKeys(od, nd)) judgeFieldKey(ctx, num, role, k, od, nd);
      return;
    }
    case 'appearance': {
      if (isNew && !fromOld) return; // new appearance objects belong to the addition that links them
      const unfilled = role.owner === 'form' && !(role.field !== undefined && ctx.filled.has(role.field));
      const kind: ChangeKind = unfilled ? 'other' : ownerKind(role.owner, fromOld);
      return push(ctx, kind, `appearance of ${describeOwner(role)} changed`, { object: num, fieldName: role.field });
    }
    case 'sigdict':
      if (isNew) return;
      return push(ctx, 'other', `signature dictionary of "${role.field}" changed after signing`, { object: num, fieldName: role.field });
    case 'field-value':
      return push(ctx, 'form-fill', `value of field "${role.field}" changed`, { object: num, fieldName: role.field });
    case 'form-resources':
      return push(ctx, 'form-fill', 'form default resources changed', { object: num, formResources: true });
    case 'ltv':
      return push(ctx, 'ltv', isNew ? 'validation data added' : 'validation data updated', { object: num });
    case 'metadata':
      return push(ctx, 'metadata', 'document metadata changed', { object: num });
    case 'page-content':
      if (isNew) return;
      return push(ctx, 'other', `${role.via ?? 'page content'}${role.page !== undefined ? ` (page ${role.page + 1})` : ''}: object ${num} changed`, { object: num });
    case 'other':
      if (isNew) return;
      return push(ctx, 'other', `${role.via ?? 'document'}: object ${num} changed`, { object: num });
  }
}

function ownerKind(owner: Owner | undefined, fromOld: boolean): ChangeKind {
  switch (owner) {
    case 'form':
      return 'form-fill';
    case 'signature':
      return 'signatures';
    case 'signed-signature':
      return fromOld ? 'other' : 'signatures';
    default:
      return 'annotations';
  }
}

function describeOwner(role: Role): string {
  if (role.owner === 'annotation' || !role.field) return 'an annotation';
  return `${role.owner === 'form' ? 'form field' : 'signature field'} "${role.field}"`;
}

function judgeFieldKey(ctx: Ctx, num: number, role: Role, k: string, od: PdfDict, nd: PdfDict): void {
  const name = role.field;
  const page = role.page;
  if (role.owner === 'annotation') {
    return push(ctx, 'annotations', `annotation on page ${(page ?? 0) + 1}: /${k} changed`, { object: num });
  }
  if (k === 'Kids') {
    return compareFields(ctx, ctx.old.resolve(od.get('Kids')), ctx.cur.resolve(nd.get('Kids')), num);
  }
  if (role.sigField) {
    if (k === 'V' && od.get('V') === undefined) return push(ctx, 'signatures', `signature field "${name}" signed`, { object: num, fieldName: name });
    if (k === 'V') return push(ctx, 'other', `signature value of "${name}" replaced or removed`, { object: num, fieldName: name });
    if (FIELD_FILL_KEYS.has(k) || k === 'Lock' || k === 'SV' || k === 'F') {
      const signedBefore = od.get('V') !== undefined;
      return push(ctx, signedBefore ? 'other' : 'signatures', `signature field "${name}": /${k} changed`, { object: num, fieldName: name });
    }
    if (k === 'Ff') return push(ctx, 'signatures', `signature field "${name}": flags changed`, { object: num, fieldName: name });
    return push(ctx, 'other', `signature field "${name}": /${k} changed`, { object: num, fieldName: name });
  }
  if (APPEARANCE_KEYS.has(k) && !(name !== undefined && ctx.filled.has(name))) {
    return push(ctx, 'other', `field "${name}": /${k} changed although its value did not`, { object: num, fieldName: name });
  }
  if (FIELD_FILL_KEYS.has(k)) return push(ctx, 'form-fill', `field "${name}": /${k} filled in`, { object: num, fieldName: name });
  // Locking a field read-only after signing (FieldMDP) is part of filling.
  if (k === 'Ff') return push(ctx, 'form-fill', `field "${name}": flags changed`, { object: num, fieldName: name });
  if (k === 'F' || k === 'Rect') return push(ctx, 'annotations', `field "${name}": widget /${k} changed`, { object: num, fieldName: name });
  return push(ctx, 'other', `field "${name}": /${k} changed`, { object: num, fieldName: name });
}

/** The catalogs of two revisions, key by key (whatever objects hold them). */
function judgeCatalog(ctx: Ctx, od: PdfDict, nd: PdfDict, num: number | undefined): void {
  for (const k of changedKeys(od, nd)) {
    if (k === 'DSS' || k === 'Extensions') push(ctx, 'ltv', `catalog /${k} updated`, { object: num });
    else if (METADATA_KEYS.has(k)) push(ctx, 'metadata', `catalog /${k} updated`, { object: num });
    else if (k === 'AcroForm') {
      const oa = ctx.old.resolve(od.get('AcroForm'));
      const na = ctx.cur.resolve(nd.get('AcroForm'));
      const sameObject = od.get('AcroForm') instanceof PdfRef && nd.get('AcroForm') instanceof PdfRef;
      // Same indirect object: its own change (if any) is judged through its role.
      if (sameObject && oa instanceof PdfDict && na instanceof PdfDict && (od.get('AcroForm') as PdfRef).num === (nd.get('AcroForm') as PdfRef).num) continue;
      if (na instanceof PdfDict) judgeAcroForm(ctx, num ?? -1, oa instanceof PdfDict ? oa : new PdfDict(), na);
      else push(ctx, 'other', 'catalog /AcroForm removed', { object: num });
    } else push(ctx, 'other', `catalog /${k} changed`, { object: num });
  }
}

function judgeAcroForm(ctx: Ctx, num: number, od: PdfDict, nd: PdfDict): void {
  for (const k of changedKeys(od, nd)) {
    if (k === 'Fields') compareFields(ctx, ctx.old.resolve(od.get('Fields')), ctx.cur.resolve(nd.get('Fields')), num);
    else if (k === 'SigFlags') push(ctx, 'signatures', 'AcroForm /SigFlags set', { object: num });
    else if (k === 'NeedAppearances') push(ctx, 'form-fill', `AcroForm /${k} changed`, { object: num });
    else if (k === 'DR' || k === 'DA') push(ctx, 'form-fill', `AcroForm /${k} changed`, { object: num, formResources: true });
    else push(ctx, 'other', `AcroForm /${k} changed`, { object: num });
  }
}

/** Names of the signature fields that hold a value in a revision. */
function signedFieldNames(m: RoleMap): Set<string> {
  const out = new Set<string>();
  for (const roles of m.roles.values()) {
    for (const r of roles) if (r.tag === 'field' && r.owner === 'signed-signature' && r.field !== undefined) out.add(r.field);
  }
  return out;
}

/**
 * Changes between consecutive revisions, computed once per document and shared by all signatures.
 */
export class RevisionDiff {
  private readonly roleCache = new Map<string, RoleMap>();
  private readonly changeCache = new Map<number, Modification[]>();

  constructor(private readonly reader: PdfReader) {}

  private visits = 0;

  private roles(i: number, signedFields?: Set<string>): RoleMap {
    const key = `${i}|${signedFields ? 'n' : 'o'}`;
    let m = this.roleCache.get(key);
    if (!m) {
      m = buildRoles(this.reader.atRevision(i), signedFields);
      this.roleCache.set(key, m);
      this.visits += m.visits;
      if (this.visits > MAX_TOTAL_VISITS) {
        throw new PdfError('pdf-limit', `The PDF has too many revisions of too many objects to compare (over ${MAX_TOTAL_VISITS} object visits); it cannot be verified.`);
      }
    }
    return m;
  }

  /** What revision `r` (≥ 1) changed relative to revision r − 1. */
  changes(r: number): Modification[] {
    const cached = this.changeCache.get(r);
    if (cached) return cached;
    const oldReader = this.reader.atRevision(r - 1);
    const curReader = this.reader.atRevision(r);
    const old = this.roles(r - 1);
    // In the new revision a signature field counts as signed only if it already was: a newly signed field's appearance is a new signature.
    const cur = this.roles(r, signedFieldNames(old));
    const ctx: Ctx = { revision: r, old, cur, out: [], filled: new Set() };
    const get = (rd: PdfReader, n: number): PdfValue => {
      try {
        return rd.getObject(n);
      } catch {
        return null;
      }
    };
    const changed: { num: number; oldV: PdfValue; newV: PdfValue }[] = [];
    for (const [num, entry] of this.reader.revisions[r]!.entries) {
      const oldV = get(oldReader, num);
      const newV = entry.type === 'free' ? null : get(curReader, num);
      if (!valuesEqual(oldV, newV)) changed.push({ num, oldV, newV });
    }
    for (const { num, oldV, newV } of changed) {
      for (const role of [...(old.roles.get(num) ?? []), ...(cur.roles.get(num) ?? [])]) {
        if (role.field === undefined) continue;
        if (role.tag === 'field-value' || (role.tag === 'field' && !valuesEqual(dictOf(oldV)?.get('V'), dictOf(newV)?.get('V')))) ctx.filled.add(role.field);
      }
    }
    for (const { num, oldV, newV } of changed) {
      const oldRoles = old.roles.get(num) ?? [];
      const newRoles = cur.roles.get(num) ?? [];
      if (oldRoles.length === 0 && newRoles.length === 0) {
        if (oldV !== null && (old.truncated || cur.truncated)) push(ctx, 'other', `object ${num} changed`, { object: num });
        continue;
      }
      // The same role seen in both revisions is judged once.
      const seen = new Set<string>();
      for (const [role, fromOld] of [...oldRoles.map((x) => [x, true] as const), ...newRoles.map((x) => [x, false] as const)]) {
        const key = `${role.tag}|${role.owner ?? ''}|${role.field ?? ''}|${role.page ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        judge(ctx, num, role, fromOld, oldV, newV);
      }
    }
    this.compareCatalogs(oldReader, curReader, ctx);
    this.pageCount(r, oldReader, curReader, ctx);
    // Fonts a signer adds to /DR for its new field's appearance belong to the signature, not to form filling.
    const signs = ctx.out.some((m) => m.kind === 'signatures');
    const filling = ctx.out.some((m) => m.kind === 'form-fill' && !m.formResources);
    if (signs && !filling) for (const m of ctx.out) if (m.formResources) m.kind = 'signatures';
    const out = dedupe(ctx.out);
    this.changeCache.set(r, out);
    return out;
  }

  private compareCatalogs(oldReader: PdfReader, curReader: PdfReader, ctx: Ctx): void {
    let od: PdfDict;
    let nd: PdfDict;
    try {
      od = oldReader.catalog();
      nd = curReader.catalog();
    } catch {
      return push(ctx, 'other', 'the document catalog cannot be read');
    }
    const root = curReader.trailer.get('Root');
    if (!valuesEqual(od, nd)) judgeCatalog(ctx, od, nd, root instanceof PdfRef ? root.num : undefined);
  }

  private pageCount(r: number, oldReader: PdfReader, curReader: PdfReader, ctx: Ctx): void {
    try {
      const before = oldReader.pages().length;
      const after = curReader.pages().length;
      if (before !== after) push(ctx, 'other', `page count changed from ${before} to ${after}`);
    } catch {
      push(ctx, 'other', `the page tree of revision ${r} cannot be read`);
    }
  }

  /** Rectangles of every visible annotation on each page of revision i (for overlap checks). */
  annotationRects(i: number): Map<number, Rect[]> {
    const out = new Map<number, Rect[]>();
    const rd = this.reader.atRevision(i);
    const m = this.roles(i);
    let pages;
    try {
      pages = rd.pages();
    } catch {
      return out;
    }
    for (const p of pages) {
      const annots = m.resolve(p.dict.get('Annots'));
      if (!Array.isArray(annots)) continue;
      const rects: Rect[] = [];
      for (const a of annots) {
        const d = m.resolve(a);
        if (!(d instanceof PdfDict)) continue;
        const rect = rectOf(m, d);
        if (rect && isVisible(m, d, rect)) rects.push(rect);
      }
      out.set(p.index, rects);
    }
    return out;
  }
}

function dedupe(list: Modification[]): Modification[] {
  const seen = new Set<string>();
  return list.filter((m) => {
    const k = `${m.kind}|${m.details}|${m.object ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function rectsOverlap(a: Rect, b: Rect): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}
