/**
 * Attack generators from the PDF-signature research (USF, ISA, SWA, shadow, spoofing, overlay) that
 * work on any signed PDF: in-place byte edits that keep every offset, or real incremental updates
 * written with OneSeal's own IncrementalWriter. Each returns the attacked bytes.
 */
import { PdfDict, PdfRef, PdfStream, PdfString, name, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { extractGlyphs } from '../src/pdf/text.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import type { ReasonCode } from '../src/verify/reasons.js';
import type { Finding } from '../src/verify/report.js';
import { findSignatures, signatureFields } from '../src/verify/signatures.js';

interface SignatureSpot {
  /** [start, end) of the /Contents hex token. */
  contents: [number, number];
  /** [start, end) of the "/Contents" key. */
  contentsKey: number;
  /** [start, end) of the ByteRange array text "[...]". */
  byteRange: [number, number];
  values: number[];
  dictRef?: PdfRef;
  fieldRef?: PdfRef;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** Where the (last) signature's /Contents and /ByteRange sit in the file. */
export function locateSignature(pdf: Uint8Array): SignatureSpot {
  const reader = PdfReader.load(pdf);
  const sig = findSignatures(reader).signatures.filter((s) => s.kind === 'signature').at(-1);
  if (!sig) throw new Error('the PDF has no signature to attack');
  const c = sig.dict.get('Contents');
  if (!(c instanceof PdfString)) throw new Error('the signature has no /Contents');
  const text = latin1(pdf);
  const contentsKey = text.lastIndexOf('/Contents', c.start);
  // The ByteRange of the same dictionary: the nearest one to the Contents token.
  const re = /\/ByteRange\s*(\[[^\]]*\])/g;
  let best: RegExpExecArray | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!best || Math.abs(m.index - c.start) < Math.abs(best.index - c.start)) best = m;
  }
  if (!best) throw new Error('no /ByteRange found');
  const arrStart = best.index + best[0].length - best[1]!.length;
  return {
    contents: [c.start, c.end],
    contentsKey,
    byteRange: [arrStart, arrStart + best[1]!.length],
    values: best[1]!.slice(1, -1).trim().split(/\s+/).map(Number),
    dictRef: sig.dictRef,
    fieldRef: sig.fieldRef,
  };
}

/** Writes `text` over [start, end), padded with spaces: offsets elsewhere stay valid. */
function overwrite(pdf: Uint8Array, start: number, end: number, text: string): Uint8Array {
  if (text.length > end - start) throw new Error(`replacement "${text}" longer than the ${end - start} bytes it replaces`);
  const out = Buffer.from(pdf);
  out.write(text.padEnd(end - start, ' '), start, 'latin1');
  return out;
}

function setByteRange(pdf: Uint8Array, values: (number | string)[]): Uint8Array {
  const spot = locateSignature(pdf);
  return overwrite(pdf, spot.byteRange[0], spot.byteRange[1], `[${values.join(' ')}]`);
}

/** Appends one incremental update made by `edit`. */
export function update(pdf: Uint8Array, edit: (reader: PdfReader, writer: IncrementalWriter) => void): Uint8Array {
  const reader = PdfReader.load(pdf);
  const writer = new IncrementalWriter(reader);
  edit(reader, writer);
  return Buffer.concat([pdf, writer.build().tail]);
}

export function firstPage(reader: PdfReader): { ref: PdfRef; dict: PdfDict } {
  const p = reader.pages()[0];
  if (!p) throw new Error('the PDF has no pages');
  return { ref: p.ref, dict: p.dict };
}

function contentStream(text: string): PdfStream {
  return new PdfStream(new PdfDict(), Buffer.from(text, 'latin1'));
}

const OVERLAY = 'q 1 1 1 rg 0 0 2000 2000 re f Q BT /F1 36 Tf 72 400 Td (PAID IN FULL) Tj ET';

export interface Attack {
  name: string;
  family: 'USF' | 'ISA' | 'SWA' | 'shadow' | 'spoofing' | 'overlay';
  /** A reason code (any signature) or finding code the verifier must give. */
  expect: ReasonCode | Finding['code'];
  make(pdf: Uint8Array): Uint8Array;
}

export const ATTACKS: Attack[] = [
  {
    name: 'Contents removed',
    family: 'USF',
    expect: 'CONTENTS_MISSING',
    make: (pdf) => {
      const s = locateSignature(pdf);
      return overwrite(pdf, s.contentsKey, s.contents[1], '');
    },
  },
  {
    name: 'Contents emptied',
    family: 'USF',
    expect: 'CONTENTS_MISSING',
    make: (pdf) => {
      const s = locateSignature(pdf);
      return overwrite(pdf, s.contents[0], s.contents[1], '<>');
    },
  },
  {
    name: 'Contents zeroed',
    family: 'USF',
    expect: 'CONTENTS_MISSING',
    make: (pdf) => {
      const s = locateSignature(pdf);
      return overwrite(pdf, s.contents[0], s.contents[1], `<${'0'.repeat(s.contents[1] - s.contents[0] - 2)}>`);
    },
  },
  {
    name: 'Contents replaced by a non-CMS value',
    family: 'USF',
    expect: 'CMS_MALFORMED',
    make: (pdf) => {
      const s = locateSignature(pdf);
      return overwrite(pdf, s.contents[0], s.contents[1], `<${'41'.repeat((s.contents[1] - s.contents[0] - 2) >> 1)}>`);
    },
  },
  {
    name: 'ByteRange null',
    family: 'USF',
    expect: 'BYTE_RANGE',
    make: (pdf) => {
      const s = locateSignature(pdf);
      return overwrite(pdf, s.byteRange[0], s.byteRange[1], 'null');
    },
  },
  {
    name: 'ByteRange with three values',
    family: 'USF',
    expect: 'BYTE_RANGE',
    make: (pdf) => {
      const v = locateSignature(pdf).values;
      return setByteRange(pdf, v.slice(0, 3));
    },
  },
  {
    name: 'ByteRange with a negative length',
    family: 'USF',
    expect: 'BYTE_RANGE',
    make: (pdf) => {
      const v = locateSignature(pdf).values;
      return setByteRange(pdf, [v[0]!, v[1]!, v[2]!, -1]);
    },
  },
  {
    name: 'gap widened to hold more than the signature value',
    family: 'SWA',
    expect: 'BYTE_RANGE',
    make: (pdf) => {
      const v = locateSignature(pdf).values;
      return setByteRange(pdf, [0, v[1]! - 40, v[2]!, v[3]!]);
    },
  },
  {
    name: 'signed range stops before the %%EOF',
    family: 'SWA',
    expect: 'BYTE_RANGE',
    make: (pdf) => {
      const v = locateSignature(pdf).values;
      return setByteRange(pdf, [0, v[1]!, v[2]!, v[3]! - 30]);
    },
  },
  {
    name: 'object appended after %%EOF without an xref',
    family: 'ISA',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) => Buffer.concat([pdf, Buffer.from(`\n999 0 obj\n<< /Length ${OVERLAY.length} >>\nstream\n${OVERLAY}\nendstream\nendobj\n`, 'latin1')]),
  },
  {
    name: 'page content replaced by an incremental update',
    family: 'ISA',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const page = firstPage(reader);
        const d = page.dict.clone();
        d.set('Contents', writer.add(contentStream(OVERLAY)));
        writer.update(page.ref, d);
      }),
  },
  {
    name: 'existing content stream object redefined in place (xref entry moved)',
    family: 'shadow',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const page = firstPage(reader);
        let c: PdfValue | undefined = page.dict.get('Contents');
        if (Array.isArray(c)) c = c[0];
        if (!(c instanceof PdfRef)) throw new Error('page content is not an indirect stream');
        writer.update(c, contentStream(OVERLAY));
      }),
  },
  {
    name: 'page added',
    family: 'ISA',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const pagesRef = reader.catalog().get('Pages') as PdfRef;
        const pages = (reader.getObject(pagesRef) as PdfDict).clone();
        const page = new PdfDict({ Type: name('Page'), Parent: pagesRef, MediaBox: [0, 0, 595, 842], Contents: writer.add(contentStream(OVERLAY)) });
        const kids = [...(reader.resolve(pages.get('Kids')) as PdfValue[]), writer.add(page)];
        pages.set('Kids', kids);
        pages.set('Count', (reader.resolve(pages.get('Count')) as number) + 1);
        writer.update(pagesRef, pages);
      }),
  },
  {
    name: 'signature dictionary /Reason replaced',
    family: 'spoofing',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const s = locateSignature(pdf);
        if (!s.dictRef) throw new Error('the signature dictionary is not an indirect object');
        const d = (reader.getObject(s.dictRef) as PdfDict).clone();
        d.set('Reason', PdfString.text('Approved: pay 1,000,000'));
        writer.update(s.dictRef, d);
      }),
  },
  {
    name: 'signature field removed from the form',
    family: 'spoofing',
    expect: 'NOT_SIGNED',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const acroRef = reader.catalog().get('AcroForm');
        const acro = (reader.resolve(acroRef) as PdfDict).clone();
        const sigRefs = new Set(signatureFields(reader).map((f) => f.ref?.num));
        const fields = (reader.resolve(acro.get('Fields')) as PdfValue[]).filter((f) => !(f instanceof PdfRef && sigRefs.has(f.num)));
        acro.set('Fields', fields);
        if (acroRef instanceof PdfRef) writer.update(acroRef, acro);
        else {
          const cat = reader.catalog().clone();
          cat.set('AcroForm', acro);
          writer.update(reader.trailer.get('Root') as PdfRef, cat);
        }
      }),
  },
  {
    name: 'second field showing the same signature value',
    family: 'spoofing',
    expect: 'SHARED_SIGNATURE',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const s = locateSignature(pdf);
        if (!s.dictRef) throw new Error('the signature dictionary is not an indirect object');
        const page = firstPage(reader);
        const field = writer.add(
          new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.text('Copy'), V: s.dictRef, Rect: [400, 40, 500, 90], P: page.ref, F: 4 }),
        );
        const acroRef = reader.catalog().get('AcroForm');
        const acro = (reader.resolve(acroRef) as PdfDict).clone();
        acro.set('Fields', [...(reader.resolve(acro.get('Fields')) as PdfValue[]), field]);
        if (acroRef instanceof PdfRef) writer.update(acroRef, acro);
        else {
          const cat = reader.catalog().clone();
          cat.set('AcroForm', acro);
          writer.update(reader.trailer.get('Root') as PdfRef, cat);
        }
        const annots = reader.resolve(page.dict.get('Annots'));
        const d = page.dict.clone();
        d.set('Annots', [...(Array.isArray(annots) ? annots : []), field]);
        writer.update(page.ref, d);
      }),
  },
  {
    name: 'annotation laid over the signature appearance',
    family: 'overlay',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const page = firstPage(reader);
        const annots = reader.resolve(page.dict.get('Annots'));
        const widget = (Array.isArray(annots) ? annots : [])
          .map((a) => reader.resolve(a))
          .find((a): a is PdfDict => a instanceof PdfDict && a.get('Subtype') === name('Widget'));
        const rect = widget ? (reader.resolve(widget.get('Rect')) as number[]) : undefined;
        if (!rect || rect[2]! - rect[0]! <= 0) throw new Error('the signature has no visible widget on page 1');
        const ap = writer.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 500, 500] }), Buffer.from('1 1 1 rg 0 0 500 500 re f')));
        const annot = writer.add(new PdfDict({ Type: name('Annot'), Subtype: name('Square'), Rect: rect, F: 4, AP: new PdfDict({ N: ap }) }));
        const d = page.dict.clone();
        d.set('Annots', [...(Array.isArray(annots) ? annots : []), annot]);
        writer.update(page.ref, d);
      }),
  },
  {
    name: 'opaque annotation laid over signed text (evil annotation)',
    family: 'overlay',
    expect: 'MODIFIED_AFTER_SIGNING',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const page = firstPage(reader);
        const glyph = extractGlyphs(reader, 0).find((g) => g.text.trim() !== '');
        if (!glyph) throw new Error('page 1 has no text to cover');
        const rect = [glyph.x, glyph.y, glyph.x + 200, glyph.y + glyph.height];
        const ap = writer.add(new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, glyph.height] }), Buffer.from(`1 1 1 rg 0 0 200 ${glyph.height} re f 0 g BT /Helv 10 Tf 2 2 Td (100.00) Tj ET`)));
        const annot = writer.add(new PdfDict({ Type: name('Annot'), Subtype: name('FreeText'), Rect: rect, F: 4, DA: PdfString.literal('/Helv 10 Tf 0 g'), AP: new PdfDict({ N: ap }) }));
        const annots = reader.resolve(page.dict.get('Annots'));
        const d = page.dict.clone();
        d.set('Annots', [...(Array.isArray(annots) ? annots : []), annot]);
        writer.update(page.ref, d);
      }),
  },
];

/** Changes a signature permits: the verifier must not call the document invalid for them. */
export const PERMITTED: { name: string; make(pdf: Uint8Array): Uint8Array }[] = [
  {
    name: 'LTV data (DSS) added',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const cat = reader.catalog().clone();
        cat.set('DSS', writer.add(new PdfDict({ Certs: [], OCSPs: [], CRLs: [] })));
        writer.update(reader.trailer.get('Root') as PdfRef, cat);
      }),
  },
  {
    name: 'catalog re-saved unchanged, metadata updated',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        writer.update(reader.trailer.get('Root') as PdfRef, reader.catalog().clone());
        const info = reader.trailer.get('Info');
        if (info instanceof PdfRef) {
          const d = (reader.getObject(info) as PdfDict).clone();
          d.set('ModDate', PdfString.literal('D:20260101000000Z'));
          writer.update(info, d);
        }
      }),
  },
  {
    name: 'a comment annotation away from everything',
    make: (pdf) =>
      update(pdf, (reader, writer) => {
        const page = firstPage(reader);
        const annots = reader.resolve(page.dict.get('Annots'));
        const annot = writer.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [1, 1, 2, 2], Contents: PdfString.text('ok'), F: 4 }));
        const d = page.dict.clone();
        d.set('Annots', [...(Array.isArray(annots) ? annots : []), annot]);
        writer.update(page.ref, d);
      }),
  },
];
