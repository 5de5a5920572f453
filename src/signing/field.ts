import { OneSealError, PdfError } from '../errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, isName, type PdfValue } from '../pdf/objects.js';
import type { PdfAllocator } from '../pdf/font.js';
import type { PageInfo, PdfReader } from '../pdf/reader.js';
import type { Rect } from '../stamp/placement.js';
import type { IncrementalWriter } from '../pdf/writer.js';
import { DictEdit, appendToArray } from './edit.js';

/** A Form XObject that can be written into a document, e.g. the stamp's AppearanceTemplate. */
export interface AppearanceSource {
  emit(alloc: PdfAllocator): PdfRef;
}

/** Where and how the seal shows: stamp's Placement (page, rect) plus its placed appearance. */
export interface VisibleAppearance {
  /** 0-based page index (stamp's Placement.page − 1). */
  page: number;
  /** The widget's /Rect in the page's default user space. */
  rect: Rect;
  xobject: AppearanceSource;
}

/** A terminal signature field found in the AcroForm. */
interface SignatureField {
  ref: PdfRef;
  dict: PdfDict;
  name: string;
  signed: boolean;
  /** The annotation showing it: the field itself when field and widget are merged. */
  widget?: { ref: PdfRef; dict: PdfDict };
}

interface FormInfo {
  names: Set<string>;
  signatureFields: SignatureField[];
}

/** Bounds the walk over hostile field trees (cycles are cut by `seen` already). */
const MAX_FIELDS = 100_000;
const MAX_FIELD_DEPTH = 32;

const text = (v: PdfValue | undefined): string | undefined => (v instanceof PdfString ? v.decodeText() : undefined);

/** All terminal field names and the signature fields, walking /AcroForm /Fields and /Kids. */
export function readForm(reader: PdfReader): FormInfo {
  const info: FormInfo = { names: new Set(), signatureFields: [] };
  const form = reader.resolve(reader.catalog().get('AcroForm'));
  if (!(form instanceof PdfDict)) return info;
  const seen = new Set<number>();
  const walk = (items: PdfValue | undefined, prefix: string, ft: PdfValue | undefined, depth: number): void => {
    const arr = reader.resolve(items);
    if (!Array.isArray(arr) || depth > MAX_FIELD_DEPTH) return;
    for (const item of arr) {
      if (!(item instanceof PdfRef) || seen.has(item.num) || seen.size >= MAX_FIELDS) continue;
      seen.add(item.num);
      const d = reader.getObject(item);
      if (!(d instanceof PdfDict)) continue;
      const partial = text(reader.resolve(d.get('T')));
      if (partial === undefined) continue; // a pure widget of its parent field
      const name = prefix ? `${prefix}.${partial}` : partial;
      const type = d.get('FT') ?? ft;
      const kids = reader.resolve(d.get('Kids'));
      const hasFieldKids =
        Array.isArray(kids) &&
        kids.some((k) => {
          const kd = k instanceof PdfRef ? reader.getObject(k) : undefined;
          return kd instanceof PdfDict && kd.has('T');
        });
      if (hasFieldKids) {
        walk(kids, name, type, depth + 1);
        continue;
      }
      info.names.add(name);
      if (isName(reader.resolve(type), 'Sig')) {
        info.signatureFields.push({
          ref: item,
          dict: d,
          name,
          signed: d.get('V') !== undefined && reader.resolve(d.get('V')) !== null,
          widget: widgetOf(reader, item, d, kids),
        });
      }
    }
  };
  walk(form.get('Fields'), '', undefined, 0);
  return info;
}

function widgetOf(reader: PdfReader, ref: PdfRef, d: PdfDict, kids: PdfValue | undefined): SignatureField['widget'] {
  if (!Array.isArray(kids) || kids.length === 0) return { ref, dict: d };
  const k = kids[0];
  const w = k instanceof PdfRef ? reader.getObject(k) : undefined;
  return k instanceof PdfRef && w instanceof PdfDict ? { ref: k, dict: w } : undefined;
}

/** An appearance that draws nothing, for invisible signatures (PDF/A and some viewers want /AP on every widget). */
function emptyAppearance(writer: IncrementalWriter): PdfRef {
  return writer.add(
    new PdfStream(new PdfDict({ Type: PdfName.of('XObject'), Subtype: PdfName.of('Form'), BBox: [0, 0, 0, 0] }), new Uint8Array(0)),
  );
}

/** SignaturesExist | AppendOnly: viewers must save incrementally from now on. */
const SIG_FLAGS = 3;

function markSigned(form: DictEdit, reader: PdfReader): void {
  const flags = reader.resolve(form.get('SigFlags'));
  const current = typeof flags === 'number' ? flags : 0;
  if ((current & SIG_FLAGS) !== SIG_FLAGS) form.set('SigFlags', current | SIG_FLAGS);
}

export interface NewFieldOptions {
  sigRef: PdfRef;
  /** Fully qualified name; a fresh "SignatureN" when omitted. */
  name?: string;
  /** The seal; invisible (zero-sized on the first page) when omitted. */
  appearance?: VisibleAppearance;
  /** More widgets of the same signature, e.g. the slices of a 骑缝章 across page edges. */
  extraAppearances?: readonly VisibleAppearance[];
  form: FormInfo;
}

function checkName(name: string, names: Set<string>): void {
  if (name.length === 0 || name.includes('.')) {
    throw new OneSealError('invalid-field-name', 'bad-request', `"${name}" cannot name a signature field: use a non-empty name without "." (it joins the parts of full field names).`, {
      fields: [{ field: 'fieldName', message: 'non-empty, without "."' }],
    });
  }
  if (names.has(name)) {
    throw new OneSealError('field-exists', 'conflict', `The document already has a field named "${name}"; choose another name.`);
  }
}

interface PlacedWidget {
  page: PageInfo;
  rect: Rect;
  xobject?: AppearanceSource;
}

function placeWidget(pages: PageInfo[], a: VisibleAppearance): PlacedWidget {
  const page = pages[a.page];
  if (!page) {
    throw new OneSealError('page-out-of-range', 'unprocessable', `The document has ${pages.length} page(s); page ${a.page + 1} does not exist.`);
  }
  if (!(a.rect.length === 4 && a.rect.every(Number.isFinite))) {
    throw new OneSealError('invalid-rect', 'bad-request', 'The seal rectangle needs four finite numbers [llx lly urx ury].', {
      fields: [{ field: 'rect', message: 'four finite numbers' }],
    });
  }
  return { page, rect: a.rect, xobject: a.xobject };
}

/** An annotation's placement and appearance entries. */
function annotationEntries(writer: IncrementalWriter, w: PlacedWidget, subtype: 'Widget' | 'Stamp', flags: number): Record<string, PdfValue> {
  return {
    Type: PdfName.of('Annot'),
    Subtype: PdfName.of(subtype),
    F: flags,
    Rect: w.rect,
    P: w.page.ref,
    AP: new PdfDict({ N: w.xobject ? w.xobject.emit(writer) : emptyAppearance(writer) }),
  };
}

const PRINT = 4;
/** Print | Locked: the slices cannot be moved or deleted in a viewer. */
const PRINT_LOCKED = 4 | 128;

/**
 * Extra appearances of a signature (骑缝章 slices) as locked /Stamp annotations: written in the
 * signature's own revision, so the signature covers them. They are not widgets of the field,
 * because poppler (pdfsig) no longer finds the signature of a field split into several widgets.
 */
function sliceAnnotations(writer: IncrementalWriter, pages: PageInfo[], fieldName: string, extras: readonly VisibleAppearance[]): PlacedAnnotation[] {
  return extras.map((a, i) => {
    const w = placeWidget(pages, a);
    const entries = { ...annotationEntries(writer, w, 'Stamp', PRINT_LOCKED), NM: PdfString.text(`${fieldName} slice ${i + 1}`) };
    return { page: w.page, ref: writer.add(new PdfDict(entries)) };
  });
}

interface PlacedAnnotation {
  page: PageInfo;
  ref: PdfRef;
}

/** Appends annotations to their pages' /Annots: one update per page, so an indirect /Annots is rewritten once. */
function addToPages(reader: PdfReader, writer: IncrementalWriter, annots: readonly PlacedAnnotation[]): void {
  const byPage = new Map<number, { page: PageInfo; refs: PdfRef[] }>();
  for (const a of annots) {
    const entry = byPage.get(a.page.index) ?? { page: a.page, refs: [] };
    entry.refs.push(a.ref);
    byPage.set(a.page.index, entry);
  }
  for (const { page, refs } of byPage.values()) {
    const pageEdit = DictEdit.indirect(page.ref, page.dict);
    appendToArray(reader, writer, pageEdit, 'Annots', refs);
    pageEdit.commit(writer);
  }
}

/**
 * Creates a signature field merged with its widget (invisible and zero-sized on the first page
 * when there is no appearance), lists it in its page's /Annots and the AcroForm's /Fields, and
 * adds the extra appearances.
 */
export function addSignatureField(reader: PdfReader, writer: IncrementalWriter, catalog: DictEdit, o: NewFieldOptions): string {
  const pages = reader.pages();
  const name = o.name ?? freshName(o.form.names);
  checkName(name, o.form.names);
  const main: PlacedWidget = o.appearance ? placeWidget(pages, o.appearance) : { page: firstPage(pages), rect: [0, 0, 0, 0] };
  const field = writer.add(
    new PdfDict({ ...annotationEntries(writer, main, 'Widget', PRINT), FT: PdfName.of('Sig'), T: PdfString.text(name), V: o.sigRef }),
  );
  addToPages(reader, writer, [{ page: main.page, ref: field }, ...sliceAnnotations(writer, pages, name, o.extraAppearances ?? [])]);

  const form = DictEdit.child(reader, catalog, 'AcroForm');
  appendToArray(reader, writer, form, 'Fields', [field]);
  markSigned(form, reader);
  form.commit(writer);
  return name;
}

function firstPage(pages: PageInfo[]): PageInfo {
  if (!pages[0]) throw new PdfError('invalid-pdf', 'The PDF has no pages to put a signature on.');
  return pages[0];
}

function freshName(names: Set<string>): string {
  for (let i = 1; ; i++) if (!names.has(`Signature${i}`)) return `Signature${i}`;
}

/** The widget rectangle (user space, normalised) of the signature field `name`; undefined when it has none or no area. */
export function signatureFieldRect(reader: PdfReader, name: string): Rect | undefined {
  const widget = readForm(reader).signatureFields.find((f) => f.name === name)?.widget;
  const r = widget ? reader.resolve(widget.dict.get('Rect')) : undefined;
  if (!Array.isArray(r) || r.length !== 4) return undefined;
  const n = r.map((v) => reader.resolve(v));
  if (!n.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) return undefined;
  const rect: Rect = [Math.min(n[0]!, n[2]!), Math.min(n[1]!, n[3]!), Math.max(n[0]!, n[2]!), Math.max(n[1]!, n[3]!)];
  return rect[2] > rect[0] && rect[3] > rect[1] ? rect : undefined;
}

/** Signs into an existing, still empty signature field: sets its /V (and the widget's /AP when given). */
export function fillSignatureField(
  reader: PdfReader,
  writer: IncrementalWriter,
  catalog: DictEdit,
  o: { name: string; sigRef: PdfRef; xobject?: AppearanceSource; extraAppearances?: readonly VisibleAppearance[]; form: FormInfo },
): void {
  const field = o.form.signatureFields.find((f) => f.name === o.name);
  if (!field) {
    throw new OneSealError('field-not-found', 'not-found', `The document has no signature field named "${o.name}".`);
  }
  if (field.signed) {
    throw new OneSealError('field-already-signed', 'conflict', `The signature field "${o.name}" is already signed.`);
  }
  const fieldEdit = DictEdit.indirect(field.ref, field.dict);
  fieldEdit.set('V', o.sigRef);
  const w = field.widget;
  if (w) {
    const widgetEdit = w.ref.num === field.ref.num ? fieldEdit : DictEdit.indirect(w.ref, w.dict);
    if (o.xobject) widgetEdit.set('AP', new PdfDict({ N: o.xobject.emit(writer) }));
    else if (!w.dict.has('AP')) widgetEdit.set('AP', new PdfDict({ N: emptyAppearance(writer) }));
    if (widgetEdit !== fieldEdit) widgetEdit.commit(writer);
  }
  fieldEdit.commit(writer);
  if (o.extraAppearances?.length) addToPages(reader, writer, sliceAnnotations(writer, reader.pages(), o.name, o.extraAppearances));
  const form = DictEdit.child(reader, catalog, 'AcroForm');
  markSigned(form, reader);
  form.commit(writer);
}

/** The DocMDP permission (1–3) of a certified document, or undefined when it is not certified. */
export function docMdpPermission(reader: PdfReader): number | undefined {
  const perms = reader.resolve(reader.catalog().get('Perms'));
  const sig = perms instanceof PdfDict ? reader.resolve(perms.get('DocMDP')) : undefined;
  if (!(sig instanceof PdfDict)) return undefined;
  const refs = reader.resolve(sig.get('Reference'));
  for (const r of Array.isArray(refs) ? refs : []) {
    const sigRef = reader.resolve(r);
    if (!(sigRef instanceof PdfDict)) continue;
    if (!isName(reader.resolve(sigRef.get('TransformMethod')), 'DocMDP')) continue;
    const params = reader.resolve(sigRef.get('TransformParams'));
    const p = params instanceof PdfDict ? reader.resolve(params.get('P')) : undefined;
    return p === 1 || p === 3 ? p : 2; // ISO 32000: 2 when absent; other values are invalid and read as 2
  }
  return undefined;
}
