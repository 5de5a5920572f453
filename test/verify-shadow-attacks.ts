/**
 * Later revisions of a signed victim document (see verify-victims.ts), written the way the attacks
 * describe them: shadow hide / replace / hide-and-replace (Mainka et al., NDSS 2021) and pyHanko's
 * sneaky appearance updates; and the permitted changes they imitate, which must stay valid.
 *
 * Each builder finds what it needs by meaning (the field, the drawn XObject, the planted body) and
 * throws when the document does not have it: an attack that does not apply fails its test.
 */
import { createHash } from 'node:crypto';
import type { DigestSigner } from '../src/hsm/types.js';
import { PdfDict, PdfRef, PdfStream, PdfString, name, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import { buildSignedData } from '../src/signing/cms.js';
import { fillContents, prepareSlot, signatureContentsSize, updateWithTail } from '../src/signing/placeholder.js';
import { signatureDict } from '../src/signing/signature-dict.js';
import { UsageIndex } from '../src/verify/diff/usages.js';
import { firstPage, update } from './verify-attacks.js';
import { HIDDEN_CONTENT, SHADOW_BODY_MARKER, contentRefs, fieldOf, normalAppearance, widgetOf, type VictimOptions } from './verify-victims.js';

/** A seal an attacker holds (trusted: the strongest case — even the attacker's own signature is valid). */
export interface Seal {
  key: DigestSigner;
  cert: Uint8Array;
  chain: Uint8Array[];
}

export interface RevisionBuilder {
  name: string;
  family: 'shadow hide' | 'shadow replace' | 'shadow hide-and-replace' | 'sneaky appearance' | 'permitted';
  /** The prepared document it needs. */
  victim: VictimOptions;
  /** What the report must say about it (English message of a refused change). */
  words?: RegExp;
  make(pdf: Uint8Array, seal: Seal): Promise<Uint8Array> | Uint8Array;
}

const appearance = (ops: string, w = 150, h = 60): PdfStream =>
  new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, w, h] }), Buffer.from(ops, 'latin1'));

const PAID = 'q 1 1 1 rg 0 0 150 60 re f 0 0.6 0 rg 10 10 130 40 re f Q';

/** What goes into a signature dictionary's /Contents: a CMS by a seal, a time-stamp token, anything a test needs. */
export interface ContentsMaker {
  /** The signature dictionary, with placeholders (signatureDict or docTimeStampDict with this size). */
  dict: PdfDict;
  hash: 'sha256' | 'sha384';
  /** The DER for /Contents, given the digest of the byte range. */
  contents(digest: Buffer): Promise<Uint8Array>;
}

/** A CMS signature by `seal` (by a TSA's or OCSP responder's key, too: `seal` is any key with its certificate). */
export function cmsBy(seal: Seal): ContentsMaker {
  const contentsSize = signatureContentsSize({ algorithm: seal.key.algorithm, certificate: seal.cert, chain: seal.chain });
  return {
    dict: signatureDict({ contentsSize, signingTime: new Date() }),
    hash: seal.key.algorithm === 'EC-P384' ? 'sha384' : 'sha256',
    contents: (digest) => buildSignedData({ signer: seal.key, certificate: seal.cert, chain: seal.chain, contentDigest: digest }),
  };
}

/** An incremental revision whose /Contents `maker` fills, with objects `edit` writes (it gets the new signature dictionary). */
export async function signRevision(pdf: Uint8Array, maker: ContentsMaker, edit: (reader: PdfReader, writer: IncrementalWriter, sigRef: PdfRef) => void): Promise<Buffer> {
  const reader = PdfReader.load(pdf);
  const writer = new IncrementalWriter(reader);
  const sigRef = writer.add(maker.dict);
  edit(reader, writer, sigRef);
  const { tail, objectOffsets } = writer.build();
  const slot = prepareSlot(tail, objectOffsets.get(sigRef.num)!, pdf.length);
  const hash = updateWithTail(createHash(maker.hash).update(pdf), tail, slot);
  fillContents(tail, slot, await maker.contents(hash.digest()));
  return Buffer.concat([pdf, tail]);
}

/** Puts the new signature dictionary into a new invisible signature field on page 1. */
export function invisibleSignatureField(fieldName: string) {
  return (reader: PdfReader, w: IncrementalWriter, sigRef: PdfRef): void => {
    const page = reader.pages()[0]!;
    const field = w.add(
      new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.text(fieldName), V: sigRef, Rect: [0, 0, 0, 0], F: 132, P: page.ref }),
    );
    const catalog = reader.catalog().clone();
    const form = reader.resolve(catalog.get('AcroForm'));
    const fields = form instanceof PdfDict ? (reader.resolve(form.get('Fields')) as PdfValue[]) : [];
    w.update(reader.trailer.get('Root') as PdfRef, catalog.set('AcroForm', new PdfDict({ Fields: [...fields, field], SigFlags: 3 })));
    const annots = reader.resolve(page.dict.get('Annots'));
    w.update(page.ref, page.dict.clone().set('Annots', [...(Array.isArray(annots) ? annots : []), field]));
  };
}

/** Appends an update that is only a cross-reference section and a trailer: no object at all. */
export function appendXrefOnly(pdf: Uint8Array, entries: Map<number, number>, trailer: Record<string, string> = {}, generation = 0): Buffer {
  const reader = PdfReader.load(pdf);
  const last = reader.revisions.at(-1)!;
  const start = pdf.length + 1;
  let xref = 'xref\n0 1\n0000000000 65535 f \n';
  for (const [num, offset] of entries) xref += `${num} 1\n${String(offset).padStart(10, '0')} ${String(generation).padStart(5, '0')} n \n`;
  const root = trailer.Root ?? `${(reader.trailer.get('Root') as PdfRef).num} 0 R`;
  const info = reader.trailer.get('Info');
  const fields = { Size: String(reader.size), Root: root, ...(info instanceof PdfRef ? { Info: `${info.num} 0 R` } : {}), Prev: String(last.startxref) };
  const dict = Object.entries(fields).map(([k, v]) => `/${k} ${v}`).join(' ');
  return Buffer.concat([pdf, Buffer.from(`\n${xref}trailer\n<< ${dict} >>\nstartxref\n${start}\n%%EOF\n`, 'latin1')]);
}

/** Throws unless `ref` is used from more than one place in the document: the precondition of a sneaky update. */
function mustBeShared(reader: PdfReader, ref: PdfRef, what: string): void {
  if (new UsageIndex(reader).usagesOf(ref.num).length < 2) throw new Error(`${what} (object ${ref.num}) is used in one place only: this document does not set up a sneaky update`);
}

/** Finds an object by a test on its value (planted objects have no other handle). */
function findObject(reader: PdfReader, test: (v: PdfValue) => boolean, what: string): PdfRef {
  for (let num = 1; num < reader.size; num++) {
    const v = reader.getObject(num);
    if (v !== null && test(v)) return new PdfRef(num, 0);
  }
  throw new Error(`the document has no ${what}`);
}

const drawnLogo = (reader: PdfReader): PdfRef => {
  const resources = reader.pages()[0]!.resources;
  const xobjects = reader.resolve(resources.get('XObject'));
  const logo = xobjects instanceof PdfDict ? [...xobjects.entries()].find(([k]) => k.startsWith('Logo'))?.[1] : undefined;
  if (!(logo instanceof PdfRef)) throw new Error('page 1 draws no "Logo" form XObject');
  return logo;
};

/** The embedded font program of the page's CJK (Type0) font. */
function embeddedFontProgram(reader: PdfReader): PdfRef {
  const fonts = reader.resolve(reader.pages()[0]!.resources.get('Font'));
  for (const [, f] of fonts instanceof PdfDict ? fonts.entries() : []) {
    const font = reader.resolve(f);
    if (!(font instanceof PdfDict) || font.get('Subtype') !== name('Type0')) continue;
    const descendant = reader.resolve((reader.resolve(font.get('DescendantFonts')) as PdfValue[])[0]) as PdfDict;
    const descriptor = reader.resolve(descendant.get('FontDescriptor')) as PdfDict;
    const program = descriptor.get('FontFile2') ?? descriptor.get('FontFile3') ?? descriptor.get('FontFile');
    if (program instanceof PdfRef) return program;
  }
  throw new Error('page 1 uses no embedded Type0 font');
}

function setAnnots(reader: PdfReader, writer: IncrementalWriter, annots: (list: PdfValue[]) => PdfValue[]): void {
  const page = firstPage(reader);
  const d = page.dict.clone();
  d.set('Annots', annots([...(reader.resolve(d.get('Annots')) as PdfValue[])]));
  writer.update(page.ref, d);
}

function fill(reader: PdfReader, writer: IncrementalWriter, field: string, value: string): void {
  const f = fieldOf(reader, field);
  writer.update(f.ref, f.dict.clone().set('V', PdfString.text(value)));
}

export const SHADOW_ATTACKS: RevisionBuilder[] = [
  {
    name: 'the form XObject page 1 draws is redefined',
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ redefined an image or form XObject \(\/Logo[\w-]*\) drawn on page 1/,
    make: (pdf) => update(pdf, (reader, w) => w.update(drawnLogo(reader), appearance(HIDDEN_CONTENT, 60, 60))),
  },
  {
    name: "page 1's /Contents is re-pointed at a content stream planted before signing",
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ replaced the content of page 1/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const hidden = findObject(reader, (v) => v instanceof PdfStream && Buffer.from(v.data).toString('latin1') === HIDDEN_CONTENT, 'planted content stream');
        const page = firstPage(reader);
        w.update(page.ref, page.dict.clone().set('Contents', hidden));
      }),
  },
  {
    name: "page 1's content stream is redefined",
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ redefined the content of page 1/,
    make: (pdf) => update(pdf, (reader, w) => w.update(contentRefs(reader).at(-1)!, new PdfStream(new PdfDict(), Buffer.from(HIDDEN_CONTENT)))),
  },
  {
    name: 'two stacked fields are re-ordered, so "rejected" is drawn over "approved"',
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ re-ordered the annotations on page 1/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const approved = widgetOf(reader, 'approved').ref.num;
        const rejected = widgetOf(reader, 'rejected').ref.num;
        setAnnots(reader, w, (list) => list.map((a) => (a instanceof PdfRef && a.num === approved ? new PdfRef(rejected) : a instanceof PdfRef && a.num === rejected ? new PdfRef(approved) : a)));
      }),
  },
  {
    name: 'a field widget is listed a second time on page 1',
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ placed the same annotation or widget more than once on page 1/,
    make: (pdf) => update(pdf, (reader, w) => setAnnots(reader, w, (list) => [...list, widgetOf(reader, 'rejected').ref])),
  },
  {
    name: "a copy of a signed field's widget is laid over the contract text",
    family: 'shadow hide',
    victim: {},
    words: /^revision \d+ added a form widget on page 1 that belongs to no new signature field/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const copy = w.add(widgetOf(reader, 'rejected').dict.clone().set('Rect', [72, 700, 400, 750]));
        setAnnots(reader, w, (list) => [...list, copy]);
      }),
  },
  {
    name: "a signed field's appearance is replaced without changing its value",
    family: 'shadow replace',
    victim: {},
    words: /^revision \d+ changed the appearance of a signed form field "amount" on page 1 without changing its value/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const widget = widgetOf(reader, 'amount');
        w.update(widget.ref, widget.dict.clone().set('AP', new PdfDict({ N: w.add(appearance(PAID)) })));
      }),
  },
  {
    name: "a signed field's appearance stream is rewritten in place, its value unchanged",
    family: 'shadow replace',
    victim: {},
    words: /^revision \d+ changed the appearance of a signed form field "amount" on page 1 without changing its value/,
    make: (pdf) => update(pdf, (reader, w) => w.update(normalAppearance(reader, widgetOf(reader, 'amount').dict), appearance(PAID))),
  },
  {
    name: "a signed annotation's appearance stream is rewritten",
    family: 'shadow replace',
    victim: {},
    words: /^revision \d+ changed the appearance or content of a signed annotation on page 1/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const note = (reader.resolve(firstPage(reader).dict.get('Annots')) as PdfValue[]).map((a) => reader.resolve(a)).find((a) => a instanceof PdfDict && a.get('Subtype') === name('FreeText'));
        if (!(note instanceof PdfDict)) throw new Error('page 1 has no FreeText annotation');
        w.update(normalAppearance(reader, note), appearance(PAID, 200, 30));
      }),
  },
  {
    name: 'the embedded font program is overwritten',
    family: 'shadow replace',
    victim: {},
    words: /^revision \d+ redefined a font \(\/[\w-]+\) used on page 1/,
    make: (pdf) => update(pdf, (reader, w) => w.update(embeddedFontProgram(reader), new PdfStream(new PdfDict(), Buffer.from('a different font program')))),
  },
  {
    name: "an appended cross-reference section points page 1's content object at a body planted in the signed bytes",
    family: 'shadow hide-and-replace',
    victim: {},
    words: /^revision \d+ redefined the content of page 1/,
    make: (pdf) => {
      const at = Buffer.from(pdf).indexOf(SHADOW_BODY_MARKER);
      if (at < 0) throw new Error('the signed bytes hold no planted body');
      const reader = PdfReader.load(pdf);
      return appendXrefOnly(pdf, new Map([[contentRefs(reader).at(-1)!.num, at + SHADOW_BODY_MARKER.length + 1]]));
    },
  },
  {
    name: 'an appended trailer points /Root at a shadow catalog planted before signing',
    family: 'shadow hide-and-replace',
    victim: {},
    words: /^revision \d+ changed the page tree/,
    make: (pdf) => {
      const reader = PdfReader.load(pdf);
      const shadow = findObject(reader, (v) => v instanceof PdfDict && v.get('Shadow') === true, 'planted shadow catalog');
      return appendXrefOnly(pdf, new Map(), { Root: `${shadow.num} 0 R` });
    },
  },
];

/** The prepared field "Approval" signed by `seal` in a later revision, its appearance written by `rewrite`. */
function signApproval(rewrite: (reader: PdfReader, w: IncrementalWriter, widget: { ref: PdfRef; dict: PdfDict }) => PdfDict): RevisionBuilder['make'] {
  return (pdf, seal) =>
    signRevision(pdf, cmsBy(seal), (reader, w, sigRef) => {
      const widget = widgetOf(reader, 'Approval');
      w.update(widget.ref, rewrite(reader, w, widget).set('V', sigRef));
    });
}

const inPlace = (reader: PdfReader, w: IncrementalWriter, widget: { ref: PdfRef; dict: PdfDict }, shared: boolean): PdfDict => {
  const stream = normalAppearance(reader, widget.dict);
  if (shared) mustBeShared(reader, stream, 'the appearance stream of "Approval"');
  w.update(stream, appearance(PAID));
  return widget.dict.clone();
};

export const SNEAKY_UPDATES: RevisionBuilder[] = [
  ...(['catalog', 'page'] as const).map(
    (share): RevisionBuilder => ({
      name: `signing the prepared field rewrites its appearance stream in place, which the signed revision also uses (${share === 'page' ? 'drawn on page 1' : 'from the catalog'})`,
      family: 'sneaky appearance',
      victim: { share },
      words: share === 'page' ? /^revision \d+ redefined an image or form XObject \(\/SharedA\) drawn on page 1/ : /^revision \d+ redefined the document catalog entry \/FooBar/,
      make: signApproval((reader, w, widget) => inPlace(reader, w, widget, true)),
    }),
  ),
  {
    name: 'signing the prepared field rewrites its indirect /AP dictionary, which another field also uses',
    family: 'sneaky appearance',
    victim: { sharedApDictionary: true },
    words: /^revision \d+ changed the appearance of a signed form field "Witness" on page 1 without changing its value/,
    make: signApproval((reader, w, widget) => {
      const ap = widget.dict.get('AP');
      if (!(ap instanceof PdfRef)) throw new Error('"Approval" has a direct /AP dictionary');
      mustBeShared(reader, ap, 'the /AP dictionary of "Approval"');
      w.update(ap, new PdfDict({ N: w.add(appearance(PAID)) }));
      return widget.dict.clone();
    }),
  },
  {
    name: 'filling a field rewrites its appearance stream in place, which page 1 also draws',
    family: 'sneaky appearance',
    victim: { share: 'page' },
    words: /^revision \d+ redefined an image or form XObject \(\/SharedB\) drawn on page 1/,
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const stream = normalAppearance(reader, widgetOf(reader, 'amount').dict);
        mustBeShared(reader, stream, 'the appearance stream of "amount"');
        fill(reader, w, 'amount', '100000');
        w.update(stream, appearance('BT /Helv 12 Tf 2 6 Td (100000) Tj ET'));
      }),
  },
];

/** Changes the signature permits: each must leave the victim's signature valid. */
export const PERMITTED_UPDATES: RevisionBuilder[] = [
  {
    name: 'the prepared field is signed, its own appearance stream rewritten in place',
    family: 'permitted',
    victim: {},
    make: signApproval((reader, w, widget) => inPlace(reader, w, widget, false)),
  },
  {
    name: 'the prepared field is signed with a new appearance',
    family: 'permitted',
    victim: {},
    make: signApproval((_reader, w, widget) => widget.dict.clone().set('AP', new PdfDict({ N: w.add(appearance(PAID)) }))),
  },
  {
    name: 'a field is filled in, its own appearance stream rewritten in place',
    family: 'permitted',
    victim: {},
    make: (pdf) =>
      update(pdf, (reader, w) => {
        fill(reader, w, 'amount', '120');
        w.update(normalAppearance(reader, widgetOf(reader, 'amount').dict), appearance('BT /Helv 12 Tf 2 6 Td (120) Tj ET'));
      }),
  },
  {
    name: 'an empty field is filled in with a new appearance',
    family: 'permitted',
    victim: {},
    make: (pdf) =>
      update(pdf, (reader, w) => {
        fill(reader, w, 'payee', 'Zhang San');
        const widget = widgetOf(reader, 'payee');
        w.update(widget.ref, widget.dict.clone().set('AP', new PdfDict({ N: w.add(appearance('BT /Helv 12 Tf 2 6 Td (Zhang San) Tj ET')) })));
      }),
  },
  {
    name: 'validation data (DSS) is added',
    family: 'permitted',
    victim: {},
    make: (pdf, seal) =>
      update(pdf, (reader, w) => {
        const cert = w.add(new PdfStream(new PdfDict(), seal.cert));
        w.update(reader.trailer.get('Root') as PdfRef, reader.catalog().clone().set('DSS', w.add(new PdfDict({ Certs: [cert] }))));
      }),
  },
  {
    name: 'a comment is added away from text and annotations',
    family: 'permitted',
    victim: {},
    make: (pdf) =>
      update(pdf, (reader, w) => {
        const comment = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [560, 10, 580, 30], Contents: PdfString.text('ok'), F: 4 }));
        setAnnots(reader, w, (list) => [...list, comment]);
      }),
  },
  {
    name: 'an appended cross-reference section lists an object again at its own offset',
    family: 'permitted',
    victim: {},
    make: (pdf) => {
      const reader = PdfReader.load(pdf);
      const content = contentRefs(reader).at(-1)!;
      const entry = reader.xrefEntry(content.num);
      if (entry?.type !== 'used') throw new Error('the content stream is not a plain object');
      return appendXrefOnly(pdf, new Map([[content.num, entry.offset]]));
    },
  },
];
