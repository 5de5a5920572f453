/**
 * One scenario per revision rule: a small signed-revision document, one incremental update, and the
 * exact modification level (and words) the diff analysis gives it. RevisionDiff runs the standard
 * rules directly, so these pin down each rule and the ledger without signing anything.
 */
import { inflateSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfStream, PdfString, name } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import type { IncrementalWriter } from '../src/pdf/writer.js';
import { highestLevel, type Change, type ChangeKind, type ModificationLevel } from '../src/verify/diff/levels.js';
import { RevisionDiff } from '../src/verify/diff/revision-diff.js';
import { REVISION_RULES } from '../src/verify/policy.js';
import { craftPdf } from './support/pdfs.js';
import { update } from './verify-attacks.js';
import { appendXrefOnly } from './verify-shadow-attacks.js';

const FORM_STREAM = (ops: string): string => `<< /Type /XObject /Subtype /Form /BBox [0 0 150 60] /Length ${ops.length} >>\nstream\n${ops}\nendstream`;
const CONTENT = 'BT /F1 12 Tf 72 700 Td (Amount: 100) Tj ET q 1 0 0 1 400 700 cm /X1 Do Q';

/** The signed revision: a page with text, a drawn XObject, a filled text field, an empty signature field and a FreeText note. */
function signedRevision(extra: Record<number, string> = {}, trailer = '/Root 1 0 R /Info 14 0 R'): Buffer {
  return craftPdf(
    {
      1: '<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R >>',
      2: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      3: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /X1 9 0 R >> >> /Annots [7 0 R 8 0 R 10 0 R] >>',
      4: `<< /Length ${CONTENT.length} >>\nstream\n${CONTENT}\nendstream`,
      5: '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
      6: '<< /Fields [7 0 R 8 0 R] /DA (/Helv 0 Tf 0 g) >>',
      7: '<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Rect [72 600 222 624] /F 4 /P 3 0 R /AP << /N 11 0 R >> >>',
      8: '<< /Type /Annot /Subtype /Widget /FT /Sig /T (Approval) /Rect [380 100 530 160] /F 4 /P 3 0 R /AP << /N 12 0 R >> >>',
      9: FORM_STREAM('0 0 1 rg 0 0 60 60 re f'),
      10: '<< /Type /Annot /Subtype /FreeText /Rect [72 460 272 490] /F 4 /Contents (note) /AP << /N 13 0 R >> >>',
      11: FORM_STREAM('BT /Helv 12 Tf 2 6 Td (100) Tj ET'),
      12: FORM_STREAM('0.8 0 0 RG 1 1 148 58 re S'),
      13: FORM_STREAM('0.9 g 0 0 200 30 re f'),
      14: '<< /Title (Contract) >>',
      ...extra,
    },
    trailer,
  );
}

/** The changes the last revision of `pdf` made, as the standard rules judge them. */
function changesOf(pdf: Uint8Array, signedHere: string[] = []): Change[] {
  const reader = PdfReader.load(pdf);
  return new RevisionDiff(reader, REVISION_RULES, () => new Set(signedHere)).changes(reader.revisions.length - 1);
}

const ref = (n: number): PdfRef => new PdfRef(n, 0);
const obj = (reader: PdfReader, n: number): PdfDict => (reader.getObject(n) as PdfDict).clone();
const form = (ops: string): PdfStream => new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 150, 60] }), Buffer.from(ops));

interface Scenario {
  rule: string;
  name: string;
  edit: (reader: PdfReader, w: IncrementalWriter) => void;
  level: ModificationLevel;
  /** A change of this kind whose English message matches `words` must be among them. */
  kind?: ChangeKind;
  words?: RegExp;
  signedHere?: string[];
  base?: () => Buffer;
}

const SCENARIOS: Scenario[] = [
  // The ledger: what nothing explains is "other"; what cannot show anything is forgiven.
  { rule: 'ledger', name: 'an object written again unchanged', edit: (r, w) => w.update(ref(5), obj(r, 5)), level: 'none' },
  { rule: 'ledger', name: 'a new object nothing uses', edit: (_r, w) => void w.add(form('0 g')), level: 'none' },
  {
    rule: 'ledger',
    name: 'an object nothing used before or after, rewritten',
    base: () => signedRevision({ 15: '<< /Unused true >>' }),
    edit: (_r, w) => w.update(ref(15), new PdfDict({ Unused: false })),
    level: 'none',
  },
  { rule: 'ledger', name: 'a font the page uses, redefined', edit: (_r, w) => w.update(ref(5), new PdfDict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Symbol') })), level: 'other', kind: 'unexplained', words: /redefined a font \(\/F1\) used on page 1 \(object 5\)/ },
  {
    rule: 'ledger',
    name: 'an object the page references, missing when signed, defined later',
    base: () => signedRevision({ 3: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R 20 0 R] /Resources << /Font << /F1 5 0 R >> /XObject << /X1 9 0 R >> >> /Annots [7 0 R 8 0 R 10 0 R] >>' }),
    edit: (_r, w) => {
      for (let i = 15; i <= 20; i++) w.add(new PdfStream(new PdfDict(), Buffer.from(i === 20 ? '0 0 1 rg 0 0 595 842 re f' : '')));
    },
    level: 'other',
    words: /added the content of page 1 \(object 20\), which no permitted change explains/,
  },
  {
    rule: 'ledger',
    name: "pyHanko's sneaky trailer: an appearance stream the signed trailer also names, rewritten while signing the field",
    base: () => signedRevision({}, '/Root 1 0 R /Info 14 0 R /FooBar 12 0 R'),
    signedHere: ['Approval'],
    edit: (r, w) => {
      w.update(ref(12), form('0 0.6 0 rg 0 0 150 60 re f'));
      w.update(ref(8), obj(r, 8).set('V', w.add(new PdfDict({ Type: name('Sig'), Filter: name('Adobe.PPKLite') }))));
    },
    // The same update without the trailer's /FooBar is legitimate (see "the prepared signature field signed …" below).
    level: 'other',
    words: /redefined the appearance of a form field \(object 12\)/,
  },
  // Catalog
  { rule: 'catalog', name: 'an open action added', edit: (r, w) => w.update(ref(1), obj(r, 1).set('OpenAction', [ref(3), name('Fit')])), level: 'other', words: /changed the action run when the document opens/ },
  { rule: 'catalog', name: 'the PDF version declared', edit: (r, w) => w.update(ref(1), obj(r, 1).set('Version', name('2.0'))), level: 'lta-updates', kind: 'metadata' },
  // Metadata
  { rule: 'metadata', name: 'document information updated', edit: (r, w) => w.update(ref(14), obj(r, 14).set('ModDate', PdfString.literal('D:20261201000000Z'))), level: 'lta-updates', kind: 'metadata' },
  { rule: 'metadata', name: 'document information replaced by a stream', edit: (_r, w) => w.update(ref(14), form('0 g')), level: 'other', words: /replaced the document information by something that is not a dictionary/ },
  {
    rule: 'metadata',
    name: 'XMP metadata added',
    edit: (r, w) => w.update(ref(1), obj(r, 1).set('Metadata', w.add(new PdfStream(new PdfDict({ Type: name('Metadata'), Subtype: name('XML') }), Buffer.from('<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>'))))),
    level: 'lta-updates',
    kind: 'metadata',
  },
  { rule: 'metadata', name: 'XMP metadata that is not XMP', edit: (r, w) => w.update(ref(1), obj(r, 1).set('Metadata', w.add(new PdfStream(new PdfDict(), Buffer.from('This is bogus data'))))), level: 'other', words: /not XMP/ },
  // DSS
  {
    rule: 'dss',
    name: 'validation data added',
    edit: (r, w) => {
      const cert = w.add(new PdfStream(new PdfDict(), Buffer.from([0x30, 0x00])));
      w.update(ref(1), obj(r, 1).set('DSS', w.add(new PdfDict({ Certs: [cert], VRI: new PdfDict({ ['A'.repeat(40)]: new PdfDict({ Cert: [cert] }) }) }))));
    },
    level: 'lta-updates',
    kind: 'validation-data',
  },
  { rule: 'dss', name: 'a DSS with an unexpected entry', edit: (r, w) => w.update(ref(1), obj(r, 1).set('DSS', w.add(new PdfDict({ Blah: null })))), level: 'other', words: /unexpected entry \/Blah/ },
  {
    rule: 'dss',
    name: 'a DSS that lists an existing stream (which it does not change)',
    edit: (r, w) => w.update(ref(1), obj(r, 1).set('DSS', w.add(new PdfDict({ Certs: [ref(4)] })))),
    level: 'lta-updates',
    kind: 'validation-data',
  },
  {
    rule: 'dss',
    name: 'validation data removed',
    base: () => signedRevision({ 1: '<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /DSS << /Certs [] >> >>' }),
    edit: (r, w) => {
      const c = obj(r, 1);
      c.delete('DSS');
      w.update(ref(1), c);
    },
    level: 'other',
    words: /removed the validation data/,
  },
  // Form
  {
    rule: 'form',
    name: 'a field filled in with a new appearance',
    edit: (r, w) => w.update(ref(7), obj(r, 7).set('V', PdfString.literal('120')).set('AP', new PdfDict({ N: w.add(form('BT /Helv 12 Tf 2 6 Td (120) Tj ET')) }))),
    level: 'form-filling',
    kind: 'form-fill',
    words: /filled in form field "amount" on page 1/,
  },
  {
    rule: 'form',
    name: 'a field filled in, its appearance stream rewritten in place',
    edit: (r, w) => {
      w.update(ref(7), obj(r, 7).set('V', PdfString.literal('120')));
      w.update(ref(11), form('BT /Helv 12 Tf 2 6 Td (120) Tj ET'));
    },
    level: 'form-filling',
    kind: 'form-fill',
  },
  {
    rule: 'form',
    name: "a field's appearance changed without its value",
    edit: (_r, w) => w.update(ref(11), form('BT /Helv 12 Tf 2 6 Td (100000) Tj ET')),
    level: 'other',
    words: /changed the appearance of a signed form field "amount" on page 1 without changing its value/,
  },
  { rule: 'form', name: 'a field made read-only', edit: (r, w) => w.update(ref(7), obj(r, 7).set('Ff', 1)), level: 'form-filling', kind: 'form-fill', words: /changed the flags of form field "amount"/ },
  {
    rule: 'form',
    name: 'a text field added',
    edit: (r, w) => w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), w.add(new PdfDict({ FT: name('Tx'), T: PdfString.literal('extra') }))])),
    level: 'other',
    words: /added form field "extra" \(after signing only signature fields may be added\)/,
  },
  { rule: 'form', name: 'a field removed from the form', edit: (r, w) => w.update(ref(6), obj(r, 6).set('Fields', [ref(8)])), level: 'other', words: /removed form field "amount"/ },
  {
    rule: 'form',
    name: 'an invisible empty signature field added',
    edit: (r, w) => w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), w.add(new PdfDict({ FT: name('Sig'), T: PdfString.literal('Later'), Rect: [0, 0, 0, 0] }))])),
    level: 'form-filling',
    kind: 'empty-signature-field',
  },
  {
    rule: 'form',
    name: 'a visible empty signature field added (an appearance no signature vouches for)',
    edit: (r, w) => {
      const f = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.literal('Later'), Rect: [400, 300, 500, 350], F: 4, AP: new PdfDict({ N: w.add(form('0 g 0 0 100 50 re f')) }) }));
      w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), f]));
      w.update(ref(3), obj(r, 3).set('Annots', [ref(7), ref(8), ref(10), f]));
    },
    level: 'annotations',
    kind: 'empty-signature-field',
  },
  {
    rule: 'form',
    name: 'a new signature, signed in this very revision',
    signedHere: ['Later'],
    edit: (r, w) => {
      const f = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.literal('Later'), Rect: [400, 300, 500, 350], F: 4, V: w.add(new PdfDict({ Type: name('Sig') })), AP: new PdfDict({ N: w.add(form('1 0 0 rg 0 0 100 50 re f')) }) }));
      w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), f]).set('SigFlags', 3));
      w.update(ref(3), obj(r, 3).set('Annots', [ref(7), ref(8), ref(10), f]));
    },
    level: 'form-filling',
    kind: 'signature',
    words: /added the signature "Later" \(visible\)/,
  },
  {
    rule: 'form',
    name: 'a new signature field whose value no signature of this revision made',
    edit: (r, w) => w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), w.add(new PdfDict({ FT: name('Sig'), T: PdfString.literal('Later'), V: w.add(new PdfDict({ Type: name('Sig') })) }))])),
    level: 'other',
    words: /a value that is not an intact signature of this revision/,
  },
  {
    rule: 'form',
    name: 'a document time-stamp added, invisible',
    signedHere: ['Stamp'],
    edit: (r, w) => w.update(ref(6), obj(r, 6).set('Fields', [ref(7), ref(8), w.add(new PdfDict({ FT: name('Sig'), T: PdfString.literal('Stamp'), Rect: [0, 0, 0, 0], V: w.add(new PdfDict({ Type: name('DocTimeStamp'), SubFilter: name('ETSI.RFC3161') })) }))])),
    level: 'lta-updates',
    kind: 'doc-timestamp',
  },
  {
    rule: 'form',
    name: 'the prepared signature field signed, its appearance stream rewritten in place',
    signedHere: ['Approval'],
    edit: (r, w) => {
      w.update(ref(12), form('1 0 0 rg 0 0 150 60 re f'));
      w.update(ref(8), obj(r, 8).set('V', w.add(new PdfDict({ Type: name('Sig') }))));
    },
    level: 'form-filling',
    kind: 'signature',
    words: /signed the prepared signature field "Approval" \(visible\)/,
  },
  { rule: 'form', name: 'viewers asked to redraw every field', edit: (r, w) => w.update(ref(6), obj(r, 6).set('NeedAppearances', true)), level: 'other', words: /NeedAppearances/ },
  { rule: 'form', name: 'a default-resources font added', edit: (r, w) => w.update(ref(6), obj(r, 6).set('DR', new PdfDict({ Font: new PdfDict({ Helv: w.add(new PdfDict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Helvetica') })) }) }))), level: 'form-filling', kind: 'form-resources' },
  // Pages and annotations
  {
    rule: 'pages',
    name: 'a comment added',
    edit: (r, w) => w.update(ref(3), obj(r, 3).set('Annots', [ref(7), ref(8), ref(10), w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [560, 10, 580, 30] }))])),
    level: 'annotations',
    kind: 'annotation',
    words: /added a comment on page 1/,
  },
  { rule: 'pages', name: 'an annotation removed', edit: (r, w) => w.update(ref(3), obj(r, 3).set('Annots', [ref(7), ref(8)])), level: 'other', words: /removed an annotation from page 1/ },
  { rule: 'pages', name: 'annotations re-ordered', edit: (r, w) => w.update(ref(3), obj(r, 3).set('Annots', [ref(8), ref(7), ref(10)])), level: 'other', words: /re-ordered the annotations on page 1/ },
  { rule: 'pages', name: "an existing annotation's content changed", edit: (r, w) => w.update(ref(10), obj(r, 10).set('Contents', PdfString.literal('approved'))), level: 'other', words: /changed the appearance or content of a signed annotation on page 1/ },
  { rule: 'pages', name: "the page's size changed", edit: (r, w) => w.update(ref(3), obj(r, 3).set('MediaBox', [0, 0, 842, 595])), level: 'other', words: /changed the size, crop or rotation of page 1/ },
  {
    rule: 'pages',
    name: 'a page added',
    edit: (r, w) => {
      const p = w.add(new PdfDict({ Type: name('Page'), Parent: ref(2), MediaBox: [0, 0, 595, 842] }));
      w.update(ref(2), obj(r, 2).set('Kids', [ref(3), p]).set('Count', 2));
    },
    level: 'other',
    words: /added, removed or re-ordered pages \(1 → 2\)/,
  },
  // Structure tree
  {
    rule: 'structure-tree',
    name: 'a structure element added for a new signature field',
    base: () => signedRevision({ 1: '<< /Type /Catalog /Pages 2 0 R /AcroForm 6 0 R /StructTreeRoot 15 0 R >>', 15: '<< /Type /StructTreeRoot /K [] >>' }),
    edit: (r, w) => w.update(ref(15), obj(r, 15).set('K', [w.add(new PdfDict({ Type: name('StructElem'), S: name('Form'), P: ref(15), Pg: ref(3) }))])),
    level: 'form-filling',
    kind: 'structure-tree',
  },
];

describe('revision rules, one scenario each', () => {
  it.each(SCENARIOS.map((s) => [`${s.rule}: ${s.name}`, s] as const))('%s', (_name, s) => {
    const pdf = update(s.base?.() ?? signedRevision(), s.edit);
    const changes = changesOf(pdf, s.signedHere);
    const shown = changes.map((c) => `${c.level} ${c.kind}: ${c.message.en}`).join('\n');
    expect(highestLevel(changes.map((c) => c.level)), shown).toBe(s.level);
    if (s.kind || s.words) expect(changes.some((c) => (!s.kind || c.kind === s.kind) && (!s.words || s.words.test(c.message.en))), shown).toBe(true);
    for (const c of changes) expect(c.message.zh).toMatch(/^修订 2 /);
  });

  it('a comment with a closed pop-up note: only the comment shows, so only it is placed', () => {
    const changes = changesOf(
      update(signedRevision(), (r, w) => {
        const note = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [560, 10, 580, 30] }));
        const popup = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Popup'), Rect: [60, 690, 300, 760], Parent: note, Open: false }));
        w.update(ref(3), obj(r, 3).set('Annots', [ref(7), ref(8), ref(10), note, popup]));
      }),
    );
    expect(changes.map((c) => [c.level, c.message.en, c.placements])).toEqual([
      ['annotations', 'revision 2 added a comment on page 1', [{ page: 0, rect: [560, 10, 580, 30] }]],
      ['annotations', 'revision 2 added a pop-up note on page 1', []],
    ]);
  });

  it('the drawn XObject listed again at its own offset with another generation number is a different object', () => {
    const pdf = signedRevision();
    const entry = PdfReader.load(pdf).xrefEntry(9);
    if (entry?.type !== 'used') throw new Error('object 9 is not a plain object');
    const changes = changesOf(appendXrefOnly(pdf, new Map([[9, entry.offset]]), {}, 1));
    expect(changes.map((c) => `${c.level}: ${c.message.en}`)).toEqual(['other: revision 2 redefined an image or form XObject (/X1) drawn on page 1 (object 9)']);
  });

  it('an object stream rewritten in an update changes the objects stored in it, though it does not list them', () => {
    // Revision 1 keeps the page dictionary in object stream 20 (xref stream); revision 2 rewrites only that stream.
    const page = '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>';
    const objStm = (body: string): string => {
      const header = `3 0 `;
      const data = header + body;
      return `<< /Type /ObjStm /N 1 /First ${header.length} /Length ${data.length} >>\nstream\n${data}\nendstream`;
    };
    const pdf = craftPdf({ 1: '<< /Type /Catalog /Pages 2 0 R >>', 2: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', 4: `<< /Length ${CONTENT.length} >>\nstream\n${CONTENT}\nendstream`, 5: '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>', 20: objStm(page) });
    // The crafted table cannot say "3 is in 20": add that as a cross-reference stream revision first.
    const withStream = appendXrefStream(pdf, [[3, 2, 20, 0]]);
    const rewritten = update(withStream, (_r, w) => w.update(ref(20), new PdfStream(new PdfDict({ Type: name('ObjStm'), N: 1, First: 4 }), Buffer.from(`3 0 ${page.replace('595 842', '842 595')}`))));
    const changes = changesOf(rewritten);
    expect(changes.map((c) => c.message.en)).toContain('revision 3 changed the size, crop or rotation of page 1');
    expect(highestLevel(changes.map((c) => c.level))).toBe('other');
  });
});

/** Appends a revision that is a cross-reference stream with entries [num, type, field2, field3] (type 2: compressed). */
function appendXrefStream(pdf: Buffer, entries: [number, number, number, number][]): Buffer {
  const reader = PdfReader.load(pdf);
  const num = reader.size;
  const start = pdf.length;
  const rows = [...entries, [num, 1, start, 0] as [number, number, number, number]];
  const data = Buffer.concat(rows.map(([, t, a, b]) => Buffer.from([t, (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255, b])));
  const packed = deflateSync(data);
  expect(inflateSync(packed)).toEqual(data);
  const index = rows.flatMap(([n]) => [n, 1]);
  const dict = `<< /Type /XRef /Size ${num + 1} /Root 1 0 R /Prev ${reader.revisions.at(-1)!.startxref} /W [1 4 1] /Index [${index.join(' ')}] /Filter /FlateDecode /Length ${packed.length} >>`;
  return Buffer.concat([pdf, Buffer.from(`${num} 0 obj\n${dict}\nstream\n`, 'latin1'), packed, Buffer.from(`\nendstream\nendobj\nstartxref\n${start}\n%%EOF\n`, 'latin1')]);
}

