import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts, degrees } from '@cantoo/pdf-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PdfError } from '../src/errors.js';
import { PdfReader } from '../src/pdf/reader.js';
import { CMap } from '../src/pdf/cmap.js';
import { contentOps } from '../src/pdf/content.js';
import { PdfDict, PdfRef, PdfStream, dict, name, ref, type PdfValue } from '../src/pdf/objects.js';
import { extractGlyphs, findText, type TextSource } from '../src/pdf/text.js';
import { corpusFile, repoRoot, scratchDir } from './support/pdfs.js';

/** A document held in memory: objects by number, streams unfiltered, one page per content string. */
function memoryDoc(objects: Record<number, PdfValue>, pages: { content: string; resources: PdfDict }[]): TextSource {
  const pageInfos = pages.map((p, index) => ({
    index,
    dict: dict({ Type: name('Page'), Contents: new PdfStream(new PdfDict(), Buffer.from(p.content, 'latin1')) }),
    resources: p.resources,
  }));
  return {
    resolve: (v: PdfValue | undefined) => (v instanceof PdfRef ? (objects[v.num] ?? null) : v),
    decodeStream: (s: PdfStream) => s.data,
    pages: () => pageInfos,
  };
}

const stream = (data: string | Uint8Array, d: Record<string, PdfValue> = {}) =>
  new PdfStream(dict(d), typeof data === 'string' ? Buffer.from(data, 'latin1') : data);

/** A simple font whose glyphs are all 500/1000 em wide, so positions are easy to predict. */
const simpleFont = (extra: Record<string, PdfValue> = {}) =>
  dict({
    Type: name('Font'),
    Subtype: name('TrueType'),
    BaseFont: name('Test'),
    Encoding: name('WinAnsiEncoding'),
    FirstChar: 0,
    Widths: Array.from({ length: 256 }, () => 500),
    FontDescriptor: dict({ Ascent: 800, Descent: -200 }),
    ...extra,
  });

const fonts = (f: Record<string, PdfValue>) => dict({ Font: dict(f) });

function one(doc: TextSource, phrase: string) {
  const m = findText(doc, phrase);
  expect(m).toHaveLength(1);
  return m[0]!;
}

describe('content stream tokenizer', () => {
  it('yields operators with their operands and skips inline image data', () => {
    const data = Buffer.concat([
      Buffer.from('q 1 0 0 1 5 6 cm BI /W 4 /H 1 /BPC 8 /CS /G ID '),
      Buffer.from([0x28, 0x78, 0x29, 0x20, 0x54, 0x6a, 0x0a, 0xff, 0x00, 0x45]), // "(x) Tj\n" look-alike bytes
      Buffer.from(' EI Q BT (a) Tj ET'),
    ]);
    const ops = [...contentOps(data)].map((o) => o.op);
    expect(ops).toEqual(['q', 'cm', 'Q', 'BT', 'Tj', 'ET']);
  });

  it('uses /L to find the end of inline image data that contains " EI "', () => {
    const data = Buffer.concat([Buffer.from('BI /L 8 ID '), Buffer.from(' EI xxxx'), Buffer.from(' EI (b) Tj')]);
    expect([...contentOps(data)].map((o) => o.op)).toEqual(['Tj']);
  });

  it('survives damaged content and keeps reading after it', () => {
    const ops = [...contentOps(Buffer.from('BT ) > ] (ok) Tj ET'))];
    expect(ops.map((o) => o.op)).toEqual(['BT', 'Tj', 'ET']);
  });
});

describe('CMap', () => {
  const cmap = CMap.parse(
    Buffer.from(`/CIDInit /ProcSet findresource begin 12 dict begin begincmap
      /CMapName /Test def
      2 begincodespacerange <00> <7F> <8140> <FEFE> endcodespacerange
      2 beginbfchar <41> <0058> <8140> <D83DDE00> endbfchar
      2 beginbfrange <8141> <8143> <4E00> <8150> <8151> [<0061> <00660069>] endbfrange
      1 begincidrange <8141> <8143> 100 endcidrange
      endcmap CMapName currentdict /CMap defineresource pop end end`),
  );

  it('splits mixed 1- and 2-byte codes by codespace', () => {
    const data = Buffer.from([0x41, 0x81, 0x42, 0x20]);
    expect(cmap.nextCode(data, 0, 2)).toEqual({ code: 0x41, bytes: 1 });
    expect(cmap.nextCode(data, 1, 2)).toEqual({ code: 0x8142, bytes: 2 });
    expect(cmap.nextCode(data, 3, 2)).toEqual({ code: 0x20, bytes: 1 });
  });

  it('maps bfchar, bfrange (incrementing and array) and surrogate pairs', () => {
    expect(cmap.unicode(0x41, 1)).toBe('X');
    expect(cmap.unicode(0x41, 2)).toBeUndefined();
    expect(cmap.unicode(0x8140, 2)).toBe('😀');
    expect(cmap.unicode(0x8143, 2)).toBe('\u4e02');
    expect(cmap.unicode(0x8151, 2)).toBe('fi');
    expect(cmap.cid(0x8142, 2)).toBe(101);
  });
});

describe('findText on constructed pages', () => {
  it('places glyphs by Td, font size, Tc, Tw and Tz', () => {
    const doc = memoryDoc({}, [
      { content: 'BT /F1 10 Tf 100 200 Td (Hello World) Tj ET', resources: fonts({ F1: simpleFont() }) },
    ]);
    const m = one(doc, 'World');
    expect(m.page).toBe(1);
    expect(m.x).toBeCloseTo(130); // 6 glyphs × 5 pt
    expect(m.width).toBeCloseTo(25);
    expect(m.y).toBeCloseTo(198); // descent 0.2 × 10
    expect(m.height).toBeCloseTo(10);

    const spaced = memoryDoc({}, [
      { content: 'BT /F1 10 Tf 2 Tc 7 Tw 50 Tz 100 200 Td (Hello World) Tj ET', resources: fonts({ F1: simpleFont() }) },
    ]);
    // each advance is (5 + 2) × 0.5; the space also gets 7 × 0.5
    expect(one(spaced, 'World').x).toBeCloseTo(100 + 6 * 3.5 + 3.5);
  });

  it('follows TJ adjustments, TL/T*, \' and ", Ts, Tm, cm and q/Q', () => {
    const content = [
      'q 2 0 0 2 10 20 cm',
      'BT /F1 10 Tf 0 0 Td [(A) -1000 (B)] TJ ET',
      'Q',
      'BT /F1 10 Tf 12 TL 0 100 Td (line1) Tj T* (line2) Tj (line3) \' 1 0 (line4) " ET',
      'BT /F1 10 Tf 3 Ts 1 0 0 1 300 300 Tm (risen) Tj ET',
    ].join('\n');
    const doc = memoryDoc({}, [{ content, resources: fonts({ F1: simpleFont() }) }]);
    const b = one(doc, 'B');
    expect(b.x).toBeCloseTo(10 + 2 * (5 + 10)); // scaled by cm: A's 5 pt + the 10 pt TJ gap
    expect(b.height).toBeCloseTo(20);
    expect(one(doc, 'line2').y).toBeCloseTo(100 - 12 - 2);
    expect(one(doc, 'line3').y).toBeCloseTo(100 - 24 - 2);
    const l4 = one(doc, 'line4');
    expect(l4.y).toBeCloseTo(100 - 36 - 2);
    expect(l4.width).toBeCloseTo(5 * 5 + 4 * 0); // Tc 0 from the " operands
    expect(one(doc, 'risen').y).toBeCloseTo(300 + 3 - 2);
    // q/Q restored the CTM: line1 is at its own coordinates, not scaled
    expect(one(doc, 'line1').x).toBeCloseTo(0);
  });

  it('matches across fragments and ignores whitespace, full-width forms and case of none', () => {
    const content = 'BT /F1 10 Tf 100 700 Td (Sig) Tj 20 0 Td (na ture) Tj ET BT /F1 10 Tf 100 600 Td (other) Tj ET';
    const doc = memoryDoc({}, [{ content, resources: fonts({ F1: simpleFont() }) }]);
    const m = one(doc, 'Signature');
    expect(m.x).toBeCloseTo(100);
    expect(m.x + m.width).toBeCloseTo(120 + 7 * 5);
    expect(findText(doc, 'absent phrase')).toEqual([]);
    expect(findText(doc, '   ')).toEqual([]);
    expect(findText(doc, 'other', { page: 2 })).toEqual([]);
  });

  it('decodes /Differences glyph names and StandardEncoding without widths from a standard 14 font', () => {
    const font = dict({
      Type: name('Font'),
      Subtype: name('Type1'),
      BaseFont: name('Helvetica'),
      Encoding: dict({ Differences: [0x80, name('Euro'), name('uni4E2D'), name('f_i')] }),
    });
    const doc = memoryDoc({}, [
      { content: 'BT /F1 10 Tf 0 0 Td (\\200\\201\\202 it\'s) Tj ET', resources: fonts({ F1: font }) },
    ]);
    expect(extractGlyphs(doc, 0).map((g) => g.text).join('')).toBe('€中fi it\u2019s');
    // Helvetica widths come from the built-in AFM table: "i" is 222/1000 em
    const i = extractGlyphs(doc, 0)[4]!;
    expect(i.text).toBe('i');
    expect(i.width).toBeCloseTo(2.22);
  });

  it('reads Type0 Identity-H fonts through ToUnicode with /W widths', () => {
    const toUnicode = stream(`begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange
      3 beginbfchar <0003> <FF08> <0006> <FF09> <0005> <7AE0> endbfchar 1 beginbfrange <0004> <0004> <76D6> endbfrange endcmap`);
    const objects: Record<number, PdfValue> = {
      5: toUnicode,
      6: dict({ Subtype: name('CIDFontType2'), W: [3, [1000, 600, 700], 6, 6, 1000], DW: 1000, FontDescriptor: ref(7) }),
      7: dict({ Ascent: 880, Descent: -120 }),
    };
    const type0 = dict({ Subtype: name('Type0'), Encoding: name('Identity-H'), DescendantFonts: [ref(6)], ToUnicode: ref(5) });
    objects[4] = type0;
    const doc = memoryDoc(objects, [
      { content: 'BT /C0 20 Tf 400 100 Td <0003000400050006> Tj ET', resources: fonts({ C0: ref(4) }) },
    ]);
    expect(extractGlyphs(doc, 0).map((g) => g.text).join('')).toBe('（盖章）');
    const m = one(doc, '(盖章)'); // ASCII parentheses match the full-width ones
    expect(m.x).toBeCloseTo(400);
    expect(m.width).toBeCloseTo(20 * (1 + 0.6 + 0.7 + 1));
    expect(m.y).toBeCloseTo(100 - 2.4);
    expect(m.height).toBeCloseTo(20);
  });

  it('stacks glyphs downwards for vertical (Identity-V) fonts, with /W2 metrics and TJ shifts', () => {
    const toUnicode = stream(`begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange
      4 beginbfchar <0003> <FF08> <0004> <76D6> <0005> <7AE0> <0006> <FF09> endbfchar endcmap`);
    const cid = dict({ Subtype: name('CIDFontType2'), DW: 1000, W2: [5, [-900, 400, 800]], FontDescriptor: dict({ Ascent: 880, Descent: -120 }) });
    const font = dict({ Subtype: name('Type0'), Encoding: name('Identity-V'), DescendantFonts: [cid], ToUnicode: toUnicode });
    const doc = memoryDoc({}, [{ content: 'BT /V 20 Tf 100 500 Td [<00030004> 500 <00050006>] TJ ET', resources: fonts({ V: font }) }]);
    const g = extractGlyphs(doc, 0);
    expect(g.map((x) => x.text).join('')).toBe('（盖章）');
    // default DW2 [880 -1000]: centred on x, the box hangs from the pen, the pen moves down 20 pt
    expect(g[0]).toMatchObject({ x: 90, width: 20 });
    expect(g[0]!.y).toBeCloseTo(480);
    expect(g[1]!.y).toBeCloseTo(460);
    // TJ 500 moves the pen down another 10 pt; 章 has W2 origin (400, 800)
    expect(g[2]!.x).toBeCloseTo(100 - 8);
    expect(g[2]!.y).toBeCloseTo(500 - 40 - 10 - 16 - 2.4);
    expect(g[3]!.y).toBeCloseTo(500 - 40 - 10 - 18 - 20);
    const m = one(doc, '（盖章）');
    expect(m.x).toBeCloseTo(90);
    expect(m.y + m.height).toBeCloseTo(500);
  });

  it('follows Form XObjects with their matrix and resources, to a depth limit', () => {
    const objects: Record<number, PdfValue> = {
      10: stream('BT /FX 10 Tf 0 0 Td (inner) Tj ET /Loop Do', {
        Subtype: name('Form'),
        Matrix: [1, 0, 0, 1, 50, 60],
        Resources: dict({ Font: dict({ FX: simpleFont() }), XObject: dict({ Loop: ref(10) }) }),
      }),
    };
    const doc = memoryDoc(objects, [
      { content: 'q 1 0 0 1 100 100 cm /Fm Do Q', resources: dict({ XObject: dict({ Fm: ref(10) }) }) },
    ]);
    const m = findText(doc, 'inner');
    // the self-drawing form recurses until the depth limit, each time 50/60 further
    expect(m.length).toBeGreaterThan(5);
    expect(m.length).toBeLessThan(20);
    expect(m[0]!.x).toBeCloseTo(150);
    expect(m[0]!.y).toBeCloseTo(160 - 2);
    expect(m[1]!.x).toBeCloseTo(200);
  });
});

const fixture = (name: string) => join(repoRoot, 'fixtures', name);

/** Poppler's word boxes for a page, converted from its top-down y to PDF user space. */
function popplerWords(file: string, page: number): { text: string; x0: number; y0: number; x1: number; y1: number }[] {
  const html = execFileSync('pdftotext', ['-bbox', '-enc', 'UTF-8', '-f', String(page), '-l', String(page), file, '-'], {
    encoding: 'utf8',
  });
  const height = Number(/<page width="[\d.]+" height="([\d.]+)"/.exec(html)![1]);
  return [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map(
    (m) => ({ text: m[5]!, x0: Number(m[1]), y0: height - Number(m[4]), x1: Number(m[3]), y1: height - Number(m[2]) }),
  );
}

function expectSameBox(ours: { x: number; y: number; width: number; height: number }, theirs: { x0: number; y0: number; x1: number; y1: number }) {
  expect(Math.abs(ours.x - theirs.x0)).toBeLessThan(2);
  expect(Math.abs(ours.y - theirs.y0)).toBeLessThan(2);
  expect(Math.abs(ours.x + ours.width - theirs.x1)).toBeLessThan(2);
  expect(Math.abs(ours.y + ours.height - theirs.y1)).toBeLessThan(2);
}

describe('findText: ordering, duplicates, more font kinds and limits', () => {
  it('falls back to reading order when the producer draws text out of order, and joins /Contents arrays', () => {
    // "Seal here" drawn as "here" first, then "Seal" to its left, split over two content streams
    const doc = memoryDoc({}, [{ content: 'BT /F1 10 Tf 200 100 Td (here) Tj ET', resources: fonts({ F1: simpleFont() }) }]);
    const page = doc.pages()[0]!;
    page.dict.set('Contents', [page.dict.get('Contents')!, stream('BT /F1 10 Tf 175 100 Td (Seal) Tj ET')]);
    const m = one(doc, 'Seal here');
    expect(m.x).toBeCloseTo(175);
    expect(m.width).toBeCloseTo(45);
  });

  it('reports text overprinted for fake bold once', () => {
    const content = 'BT /F1 10 Tf 100 100 Td (Bold) Tj ET BT /F1 10 Tf 100.3 100 Td (Bold) Tj ET';
    const doc = memoryDoc({}, [{ content, resources: fonts({ F1: simpleFont() }) }]);
    expect(findText(doc, 'Bold')).toHaveLength(1);
  });

  it('reads Type 3, MacRoman, embedded-CMap and UCS-2 composite fonts', () => {
    const type3 = dict({
      Subtype: name('Type3'),
      FontMatrix: [0.01, 0, 0, 0.01, 0, 0],
      FirstChar: 65,
      Widths: [50, 100],
      Encoding: dict({ Differences: [65, name('A'), name('B')] }),
    });
    const mac = dict({ Subtype: name('Type1'), BaseFont: name('Custom'), Encoding: name('MacRomanEncoding') });
    const encoding = stream(`begincmap 2 begincodespacerange <00> <80> <8140> <FEFE> endcodespacerange
      2 begincidrange <20> <7E> 1 <B0A1> <B0A2> 500 endcidrange endcmap`);
    const cmapFont = dict({
      Subtype: name('Type0'),
      Encoding: encoding,
      DescendantFonts: [dict({ Subtype: name('CIDFontType0'), W: [500, 501, 1000], DW: 500 })],
      ToUnicode: stream(`begincmap 2 begincodespacerange <00> <80> <8140> <FEFE> endcodespacerange
        1 beginbfrange <B0A1> <B0A2> <554A> endbfrange 1 beginbfrange <20> <7E> <0020> endbfrange endcmap`),
    });
    const ucs2 = dict({ Subtype: name('Type0'), Encoding: name('UniGB-UCS2-H'), DescendantFonts: [dict({ DW: 1000 })] });
    const content = [
      'BT /T3 10 Tf 0 0 Td (AB) Tj ET',
      'BT /M 10 Tf 0 100 Td (\\212\\245) Tj ET',
      'BT /C 10 Tf 0 200 Td <41B0A1B0A2> Tj ET',
      'BT /U 10 Tf 0 300 Td <7AE0> Tj ET',
    ].join('\n');
    const doc = memoryDoc({}, [{ content, resources: fonts({ T3: type3, M: mac, C: cmapFont, U: ucs2 }) }]);
    const glyphs = extractGlyphs(doc, 0);
    expect(glyphs.map((g) => g.text).join('')).toBe('ABä•A啊啋章');
    // Type 3 widths go through its FontMatrix: 50 × 0.01 × 10 pt
    expect(glyphs[1]!.x).toBeCloseTo(5);
    // the embedded CMap splits 1- and 2-byte codes and maps them to CIDs 34, 500, 501 for /W
    expect(glyphs.slice(4, 7).map((g) => g.width)).toEqual([5, 10, 10]);
    expect(glyphs[7]!.width).toBeCloseTo(10);
  });

  it('includes visible annotation appearances, fitted from BBox×Matrix onto Rect', () => {
    const appearance = (text: string) =>
      stream(`BT /F1 10 Tf 10 5 Td (${text}) Tj ET`, {
        Subtype: name('Form'),
        BBox: [0, 0, 100, 20],
        Resources: fonts({ F1: simpleFont() }),
      });
    const annots = [
      dict({ Subtype: name('Widget'), Rect: [500, 440, 300, 400], AP: dict({ N: appearance('Shown') }) }),
      dict({ Subtype: name('FreeText'), F: 2, Rect: [0, 0, 100, 20], AP: dict({ N: appearance('Hidden') }) }),
      dict({
        Subtype: name('Widget'),
        Rect: [0, 100, 100, 120],
        AS: name('On'),
        AP: dict({ N: dict({ On: appearance('Checked'), Off: appearance('Unchecked') }) }),
      }),
    ];
    const doc = memoryDoc({}, [{ content: '', resources: new PdfDict() }]);
    doc.pages()[0]!.dict.set('Annots', annots);
    const shown = one(doc, 'Shown');
    expect(shown.x).toBeCloseTo(300 + 10 * 2); // the 100×20 box is stretched onto the 200×40 Rect
    expect(shown.width).toBeCloseTo(5 * 5 * 2);
    expect(shown.y).toBeCloseTo(400 + (5 - 2) * 2);
    expect(findText(doc, 'Hidden')).toEqual([]);
    expect(findText(doc, 'Checked')).toHaveLength(1);
    expect(findText(doc, 'Unchecked')).toEqual([]);
  });

  it('stops pages that would make it run without bound, with a pdf-limit error', () => {
    const bomb = stream(`/F Do `.repeat(10), { Subtype: name('Form') });
    bomb.dict.set('Resources', dict({ XObject: dict({ F: ref(1) }) }));
    const forms = memoryDoc({ 1: bomb }, [{ content: '/F Do', resources: dict({ XObject: dict({ F: ref(1) }) }) }]);
    expect(() => findText(forms, 'x')).toThrow(expect.objectContaining({ code: 'pdf-limit' }));

    const many = memoryDoc({}, [{ content: `BT /F1 1 Tf (${'a'.repeat(600_000)}) Tj ET`, resources: fonts({ F1: simpleFont() }) }]);
    expect(() => findText(many, 'x')).toThrow(/too complex/);
  });
});

describe('findText on real documents', () => {
  it('finds （盖章） once in the LibreOffice letter, where poppler puts it', () => {
    const reader = PdfReader.load(readFileSync(fixture('approval-letter.pdf')));
    const matches = findText(reader, '（盖章）');
    expect(matches).toHaveLength(1);
    const m = matches[0]!;
    expect(m.page).toBe(1);
    const word = popplerWords(fixture('approval-letter.pdf'), 1).find((w) => w.text === '（盖章）');
    expect(word).toBeDefined();
    expectSameBox(m, word!);
    // bottom right of the page
    const [, , w, h] = reader.pages()[0]!.mediaBox;
    expect(m.x).toBeGreaterThan(w / 2);
    expect(m.y).toBeLessThan(h / 2);
    // the title and a phrase inside the body paragraph (which wraps between runs) are found too
    expectSameBox(one(reader, '行政许可决定书'), popplerWords(fixture('approval-letter.pdf'), 1).find((x) => x.text === '行政许可决定书')!);
    expect(findText(reader, '本机关决定准予行政许可')).toHaveLength(1);
    expect(findText(reader, '（盖章）', { page: 2 })).toEqual([]);
    expect(findText(reader, '不存在的短语')).toEqual([]);
  });

  it('finds a phrase on the right page of a 30-page document with object streams', () => {
    const file = fixture('long-30-pages.pdf');
    const reader = PdfReader.load(readFileSync(file));
    const matches = findText(reader, 'Signature of the licensing officer');
    expect(matches.map((m) => m.page)).toEqual([17]);
    const words = popplerWords(file, 17);
    const first = words.find((w) => w.text === 'Signature')!;
    const last = words.find((w) => w.text === 'officer')!;
    expectSameBox(matches[0]!, { x0: first.x0, y0: first.y0, x1: last.x1, y1: last.y1 });
    expect(findText(reader, 'Page 23 of 30').map((m) => m.page)).toEqual([23]);
    expect(findText(reader, 'record 1005', { page: 5 })).toHaveLength(1);
    expect(findText(reader, 'record 1005', { page: 6 })).toEqual([]);
    expect(findText(reader, 'Signature of the licensing officer', { page: 31 })).toEqual([]);
    expect(findText(reader, 'not in this document')).toEqual([]);
  });

  it('finds TJ-kerned text in the PDF 1.3 file and labels in the form', () => {
    const reader = PdfReader.load(readFileSync(fixture('pdf13.pdf')));
    const m = one(reader, 'Kerned words here');
    const words = popplerWords(fixture('pdf13.pdf'), 1);
    expectSameBox(m, { ...words.find((w) => w.text === 'Kerned')!, x1: words.find((w) => w.text === 'wordshere')!.x1 });
    expect(one(reader, 'Line two, after T*.').y).toBeLessThan(one(reader, 'Line one').y);

    const form = PdfReader.load(readFileSync(fixture('form-empty-signature-field.pdf')));
    expect(one(form, 'Approver signature:').page).toBe(1);
  });

  it('finds text in an earlier signature appearance (CID font, Identity-H) where poppler does', () => {
    const file = corpusFile('eu-dss-pades/validation/adbe_crl_signed.pdf');
    const reader = PdfReader.load(readFileSync(file));
    const m = one(reader, 'Digitálně podepsal');
    const words = popplerWords(file, 1);
    const first = words.find((w) => w.text === 'Digitálně')!;
    const last = words.find((w) => w.text === 'podepsal')!;
    expectSameBox(m, { x0: Math.min(first.x0, last.x0), y0: Math.min(first.y0, last.y0), x1: Math.max(first.x1, last.x1), y1: Math.max(first.y1, last.y1) });
  });

  it('reads a pdf-lib document with WinAnsi standard fonts, including non-ASCII and rotated text', async () => {
    const doc = await PDFDocument.create();
    const page = doc.addPage([600, 800]);
    const helv = await doc.embedFont(StandardFonts.Helvetica);
    const times = await doc.embedFont(StandardFonts.TimesRomanBold);
    page.drawText('Café – naïve 10 € façade', { x: 120, y: 500, size: 14, font: helv });
    page.drawText('Rotated approval', { x: 300, y: 100, size: 20, font: times, rotate: degrees(90) });
    const scratch = scratchDir();
    const file = scratch.file('winansi.pdf');
    const bytes = await doc.save();
    writeFileSync(file, bytes);
    const reader = PdfReader.load(bytes);

    const naive = one(reader, 'naïve 10 €');
    const words = popplerWords(file, 1);
    scratch.cleanup();
    expectSameBox(naive, { ...words.find((w) => w.text === 'naïve')!, x1: words.find((w) => w.text === '€')!.x1 });
    expect(findText(reader, 'Café–naïvе')).toEqual([]); // a Cyrillic "е": near-misses do not match

    const rotated = one(reader, 'Rotated approval');
    const length = times.widthOfTextAtSize('Rotated approval', 20);
    // widthOfTextAtSize includes pair kerning, which drawText does not apply
    expect(Math.abs(rotated.height - length)).toBeLessThan(2);
    expect(rotated.y).toBeCloseTo(100, 1);
    expect(rotated.width).toBeLessThan(25);
  });
});

describe('robustness', () => {
  const letter = PdfReader.load(readFileSync(fixture('approval-letter.pdf')));
  const page = letter.pages()[0]!;
  const content = letter.decodeStream(letter.resolve(page.dict.get('Contents')) as PdfStream);
  const tokens = ['BT', 'ET', 'Tj', 'TJ', 'Td', 'Tf', 'Tm', 'cm', 'q', 'Q', 'BI', 'ID', 'EI', 'Do', '[', ']', '(', ')', '<', '>', '<<', '>>', '/F1', '1e308', '-0', "'", '"'];

  it('never fails other than with a PdfError on mutated page content, and always ends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(content.length), fc.nat(3), fc.constantFrom(...tokens), fc.uint8Array({ maxLength: 8 })), { maxLength: 12 }),
        (edits) => {
          let bytes = Buffer.from(content);
          for (const [at, kind, token, raw] of edits) {
            const insert = kind === 0 ? Buffer.from(` ${token} `) : Buffer.from(raw);
            bytes = kind === 3 ? Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 8)]) : Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
          }
          const doc: TextSource = {
            resolve: (v) => letter.resolve(v),
            decodeStream: (st) => letter.decodeStream(st),
            pages: () => [{ index: 0, dict: dict({ Contents: stream(bytes) }), resources: page.resources }],
          };
          try {
            expect(Array.isArray(extractGlyphs(doc, 0))).toBe(true);
            expect(Array.isArray(findText(doc, '盖章'))).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(PdfError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('damaged CMaps', () => {
  it('reads past a 100,000-deep array to the entries after it, within the fuzz oracle\'s 5 s', () => {
    // Each failed token used to restart one byte on, rescanning the rest of the nesting: quadratic (8 s).
    const data = Buffer.from(
      `1 begincodespacerange <00> <FF> endcodespacerange ${'['.repeat(100_000)}${']'.repeat(100_000)} 1 beginbfchar <41> <0041> endbfchar`,
      'latin1',
    );
    // CPU time of this process, not wall time: a machine busy with other work must not fail it.
    const started = process.cpuUsage();
    const cmap = CMap.parse(data);
    expect(cmap.unicode(0x41, 1)).toBe('A');
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1000).toBeLessThan(5000);
  });
});
