import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PdfError } from '../src/errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../src/pdf/objects.js';
import { DEFAULT_PDF_LIMITS, PdfReader } from '../src/pdf/reader.js';
import {
  corpusFile,
  craftPdf,
  makePdf,
  MINIMAL_OBJECTS,
  qpdfObjects,
  qpdfPageCount,
  qpdfTransform,
  qpdfXref,
} from './support/pdfs.js';

/** Our value in qpdf's JSON v2 notation, so the two readings can be compared structurally. */
function toQpdfJson(v: PdfValue, qpdf: unknown): unknown {
  if (v instanceof PdfRef) return `${v.num} ${v.gen} R`;
  if (v instanceof PdfName) return '/' + v.name;
  if (v instanceof PdfString) {
    // qpdf picks u: (text) or b: (bytes) itself; answer in the notation it chose.
    if (typeof qpdf === 'string' && qpdf.startsWith('u:')) return 'u:' + v.decodeText();
    return 'b:' + Buffer.from(v.bytes).toString('hex');
  }
  if (Array.isArray(v)) return v.map((x, i) => toQpdfJson(x, (qpdf as unknown[] | undefined)?.[i]));
  if (v instanceof PdfStream) return { stream: { dict: toQpdfJson(v.dict, (qpdf as { stream?: { dict: unknown } })?.stream?.dict) } };
  if (v instanceof PdfDict) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.entries()) o['/' + k] = toQpdfJson(x, (qpdf as Record<string, unknown> | undefined)?.['/' + k]);
    return o;
  }
  return v;
}

/** Asserts that every object qpdf sees reads the same through PdfReader. */
function expectSameObjectsAsQpdf(bytes: Uint8Array): number {
  const reader = PdfReader.load(bytes);
  const theirs = qpdfObjects(bytes);
  let n = 0;
  for (const [key, q] of Object.entries(theirs)) {
    const m = /^obj:(\d+) (\d+) R$/.exec(key);
    if (!m) continue;
    const ours = reader.getObject(Number(m[1]));
    const expected = q.stream ? { stream: q.stream } : q.value;
    // qpdf writes /Length as it found it; ours keeps the parsed dictionary, so compare like for like.
    expect(toQpdfJson(ours, expected), key).toEqual(expected);
    n++;
  }
  return n;
}

/** Our merged xref in qpdf --show-xref notation. */
function ourXref(reader: PdfReader, nums: Iterable<number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const n of nums) {
    const e = reader.xrefEntry(n);
    if (!e) continue;
    if (e.type === 'used') m.set(n, `${e.gen} uncompressed; offset = ${e.offset}`);
    else if (e.type === 'compressed') m.set(n, `0 compressed; stream = ${e.stream}, index = ${e.index}`);
  }
  return m;
}

describe('PdfReader on generated documents', () => {
  let classic: Uint8Array;
  let withObjectStreams: Uint8Array;
  beforeAll(async () => {
    classic = await makePdf({ pages: 3, useObjectStreams: false });
    withObjectStreams = await makePdf({ pages: 5, useObjectStreams: true });
  });

  it('reads a classic xref table (pdf-lib)', () => {
    const r = PdfReader.load(classic);
    expect(r.revisions).toHaveLength(1);
    expect(r.revisions[0]!.xrefKind).toBe('table');
    expect(r.repaired).toBe(false);
    expect(r.version).toBe('1.7');
    expect(r.catalog().type).toBe('Catalog');
    expect(r.pages()).toHaveLength(qpdfPageCount(classic));
    const p = r.pages()[0]!;
    expect(p.mediaBox).toEqual([0, 0, 595, 842]);
    expect(p.cropBox).toEqual([0, 0, 595, 842]);
    expect(p.rotate).toBe(0);
    expect(p.resources.get('Font')).toBeInstanceOf(PdfDict);
    expect(expectSameObjectsAsQpdf(classic)).toBeGreaterThanOrEqual(10);
  });

  it('reads xref streams and resolves objects inside object streams (pdf-lib)', () => {
    const r = PdfReader.load(withObjectStreams);
    expect(r.revisions[0]!.xrefKind).toBe('stream');
    // pdf-lib puts the /Info dictionary in its object stream.
    const info = r.trailer.get('Info') as PdfRef;
    expect(r.xrefEntry(info.num)?.type).toBe('compressed');
    expect((r.getObject(info) as PdfDict).get('Producer')).toBeInstanceOf(PdfString);
    expect(r.pages()).toHaveLength(5);
    expect(r.pages()).toHaveLength(qpdfPageCount(withObjectStreams));
    const all = new Set([...qpdfXref(withObjectStreams).keys()]);
    expect(ourXref(r, all)).toEqual(qpdfXref(withObjectStreams));
    expectSameObjectsAsQpdf(withObjectStreams);
  });

  it('reads qpdf object streams with PNG predictors on the xref stream', () => {
    const os = qpdfTransform(classic, ['--object-streams=generate']);
    const xrefStream = PdfReader.load(os);
    expect(xrefStream.revisions[0]!.xrefKind).toBe('stream');
    // qpdf writes its xref streams with /DecodeParms << /Predictor 12 … >>: the PNG path is exercised.
    expect(Buffer.from(os).includes('/Predictor 12')).toBe(true);
    const nums = new Set(qpdfXref(os).keys());
    expect(ourXref(xrefStream, nums)).toEqual(qpdfXref(os));
    expect([...nums].some((n) => xrefStream.xrefEntry(n)?.type === 'compressed')).toBe(true);
    expectSameObjectsAsQpdf(os);
    expect(xrefStream.pages()).toHaveLength(3);
  });

  it('reads qpdf classic and QDF output', () => {
    for (const args of [['--object-streams=disable'], ['--qdf', '--object-streams=disable']]) {
      const out = qpdfTransform(withObjectStreams, args);
      const r = PdfReader.load(out);
      expect(r.revisions[0]!.xrefKind, args[0]).toBe('table');
      expect(r.pages()).toHaveLength(5);
      expectSameObjectsAsQpdf(out);
    }
  });

  it('inherits page attributes through the page tree', () => {
    const pdf = craftPdf({
      1: '<< /Type /Catalog /Pages 2 0 R >>',
      2: '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [0 0 300 200] /Rotate 90 /Resources << /ProcSet [/PDF] >> >>',
      3: '<< /Type /Page /Parent 2 0 R /Rotate -90 /CropBox [10 10 290 190] >>',
      4: '<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 2 0 R] /Count 1 /MediaBox [612 792 0 0] >>',
      5: '<< /Type /Page /Parent 4 0 R >>',
    });
    const pages = PdfReader.load(pdf).pages();
    // node 2 listed again under 4 is a cycle: visited once, so two pages, not a hang.
    expect(pages.map((p) => p.ref.num)).toEqual([3, 5]);
    expect(pages[0]).toMatchObject({ index: 0, rotate: 270, mediaBox: [0, 0, 300, 200], cropBox: [10, 10, 290, 190] });
    expect(pages[1]).toMatchObject({ index: 1, rotate: 90, mediaBox: [0, 0, 612, 792], cropBox: [0, 0, 612, 792] });
    expect(pages[1]!.resources.get('ProcSet')).toEqual([PdfName.of('PDF')]);
  });
});

describe('PdfReader on signed multi-revision files (corpus)', () => {
  /** The `startxref N` values written before each %%EOF, found by plain text search. */
  function writtenStartxrefs(bytes: Buffer): number[] {
    return [...bytes.toString('latin1').matchAll(/startxref\s+(\d+)\s+%%EOF/g)].map((m) => Number(m[1]));
  }
  /** Every signature's ByteRange, read via AcroForm fields. */
  function byteRanges(r: PdfReader): number[][] {
    const fields = r.resolve(r.resolve(r.catalog().get('AcroForm')) instanceof PdfDict ? (r.resolve(r.catalog().get('AcroForm')) as PdfDict).get('Fields') : undefined);
    const out: number[][] = [];
    for (const f of (fields as PdfValue[]) ?? []) {
      const v = r.resolve((r.resolve(f) as PdfDict).get('V'));
      if (v instanceof PdfDict) out.push(r.resolve(v.get('ByteRange')) as number[]);
    }
    return out;
  }

  it('splits DSS-3226 into revisions ending at each %%EOF, matching its signatures', () => {
    const bytes = readFileSync(corpusFile('eu-dss-pades/validation/DSS-3226.pdf'));
    const r = PdfReader.load(bytes);
    expect(r.revisions).toHaveLength(writtenStartxrefs(bytes).length);
    expect(r.revisions.map((x) => x.startxref)).toEqual(writtenStartxrefs(bytes));
    expect(r.revisions.map((x) => x.eofOffset)).toEqual(r.eofOffsets);
    expect(r.revisions.at(-1)!.eofOffset).toBe(bytes.length);
    for (const rev of r.revisions) {
      expect(bytes.toString('latin1', rev.eofMarkerOffset, rev.eofMarkerOffset + 5)).toBe('%%EOF');
      expect(bytes.toString('latin1', rev.eofMarkerOffset + 5, rev.eofOffset)).toMatch(/^(\r\n|\r|\n)$/);
    }
    // The independent check: each signature's signed range ends exactly where a revision ends.
    const ranges = byteRanges(r);
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    const ends = new Set(r.revisions.map((x) => x.eofOffset));
    for (const br of ranges) expect(ends.has(br[2]! + br[3]!)).toBe(true);
    expect(r.pages()).toHaveLength(qpdfPageCount(bytes));
  });

  it('gives views of older revisions that see only what existed then', () => {
    const bytes = readFileSync(corpusFile('eu-dss-pades/validation/DSS-3226.pdf'));
    const r = PdfReader.load(bytes);
    const first = r.atRevision(0);
    expect(first.revisions).toHaveLength(1);
    expect(first.isLatest).toBe(false);
    expect(r.isLatest).toBe(true);
    expect(byteRanges(first)).toHaveLength(0);
    // A signature appears in the revision its ByteRange ends with, not before.
    for (const br of byteRanges(r)) {
      const k = r.revisions.findIndex((x) => x.eofOffset === br[2]! + br[3]!);
      expect(byteRanges(r.atRevision(k)).map(String)).toContain(String(br));
      expect(byteRanges(r.atRevision(k - 1)).map(String)).not.toContain(String(br));
    }
    expect(first.size).toBeLessThanOrEqual(r.size);
    expect(() => r.atRevision(r.revisions.length)).toThrow(RangeError);
  });

  it('keeps a linearized file\'s first-page section in the same revision', () => {
    const bytes = readFileSync(corpusFile('eu-dss-pades/validation/DSS-1983.pdf'));
    const r = PdfReader.load(bytes);
    // [0 (the first-page trailer's), main section, updates…]: the first two belong to one revision.
    const written = writtenStartxrefs(bytes);
    expect(written[0]).toBe(0);
    expect(r.eofOffsets).toHaveLength(written.length);
    expect(r.revisions).toHaveLength(written.length - 1);
    expect(r.revisions[0]!.startxref).toBe(bytes.indexOf('xref'));
    expect(r.revisions.slice(1).map((x) => x.startxref)).toEqual(written.slice(2));
    expect(r.revisions[0]!.eofOffset).toBe(r.eofOffsets[1]);
    expect(r.revisions.at(-1)!.eofOffset).toBe(bytes.length);
    expect(r.atRevision(0).pages()).toHaveLength(1);
  });

  it('reads every object as qpdf does, text strings in PDFDocEncoding included', () => {
    const bytes = readFileSync(corpusFile('eu-dss-pades/validation/pades-ocsp-archiveCutOff-invalid.pdf'));
    expectSameObjectsAsQpdf(bytes);
    // The signer's name is PDFDocEncoding with 0x9E = "ž", which Latin-1 would garble.
    const sig = PdfReader.load(bytes).getObject(63) as PdfDict;
    expect((sig.get('Name') as PdfString).decodeText()).toBe('Martin Petržela');
    expect(expectSameObjectsAsQpdf(readFileSync(corpusFile('eu-dss-pades/validation/pades-same-border-annotations.pdf')))).toBeGreaterThan(200);
  });

  it('merges hybrid /XRefStm sections, as qpdf does', () => {
    const bytes = readFileSync(corpusFile('eu-dss-pades/validation/Signature-P-FR_CS-5.pdf'));
    const r = PdfReader.load(bytes);
    expect(r.revisions.some((x) => x.hybrid && x.xrefKind === 'table')).toBe(true);
    const theirs = qpdfXref(bytes);
    expect(ourXref(r, theirs.keys())).toEqual(theirs);
    expect([...theirs.values()].some((v) => v.includes('compressed'))).toBe(true);
    expectSameObjectsAsQpdf(bytes);
  });
});

describe('PdfReader on bad input', () => {
  it('refuses a file that is not a PDF', () => {
    for (const junk of [Buffer.alloc(0), Buffer.from('hello world, not a pdf'), Buffer.concat([Buffer.alloc(2000, 0x20), Buffer.from('%PDF-1.4\n')])]) {
      expect(() => PdfReader.load(junk)).toThrow(expect.objectContaining({ code: 'invalid-pdf', message: expect.stringMatching(/not a PDF/) }));
    }
  });

  it('refuses an encrypted PDF with a message a person can act on', async () => {
    const enc = qpdfTransform(await makePdf(), ['--encrypt', 'u', 'o', '256', '--']);
    let err: unknown;
    try {
      PdfReader.load(enc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PdfError);
    expect(err).toMatchObject({ code: 'encrypted-pdf', kind: 'unprocessable' });
    expect((err as Error).message).toMatch(/password/);
    // "/Encrypt null" is no encryption (qpdf agrees); the DSS spoofing-attack file has it.
    expect(PdfReader.load(craftPdf(MINIMAL_OBJECTS, '/Root 1 0 R /Encrypt null')).pages()).toHaveLength(1);
    expect(PdfReader.load(readFileSync(corpusFile('eu-dss-pades/validation/pdf-spoofing-attack.pdf'))).revisions).toHaveLength(3);
  });

  it('rebuilds the xref of a file whose startxref is wrong, and says so', async () => {
    const good = Buffer.from(await makePdf({ pages: 2 }));
    const text = good.toString('latin1');
    const at = text.lastIndexOf('startxref') + 'startxref\n'.length;
    const broken = Buffer.from(text.slice(0, at) + '17' + text.slice(text.indexOf('\n', at)), 'latin1');
    const r = PdfReader.load(broken);
    expect(r.repaired).toBe(true);
    expect(r.warnings.join()).toMatch(/rebuilt/);
    expect(r.pages()).toHaveLength(2);
  });

  it('finds an object whose xref offset is wrong, marking the reader repaired', () => {
    const pdf = craftPdf(MINIMAL_OBJECTS);
    const text = pdf.toString('latin1');
    // Shift object 4's entry by two bytes.
    const off = text.indexOf('4 0 obj');
    const entry = `${String(off).padStart(10, '0')} 00000 n`;
    const broken = Buffer.from(text.replace(entry, `${String(off + 2).padStart(10, '0')} 00000 n`), 'latin1');
    const r = PdfReader.load(broken);
    expect(r.repaired).toBe(false);
    const s = r.getObject(4);
    expect(s).toBeInstanceOf(PdfStream);
    expect(Buffer.from(r.decodeStream(s as PdfStream)).toString('latin1')).toBe('0 0 m 100 100 l S  ');
    expect(r.repaired).toBe(true);
  });

  it('ends quickly on truncated files', async () => {
    const good = Buffer.from(await makePdf({ pages: 4, useObjectStreams: false }));
    for (const frac of [0.2, 0.5, 0.8, 0.97]) {
      const cut = good.subarray(0, Math.floor(good.length * frac));
      try {
        const r = PdfReader.load(cut);
        expect(r.repaired).toBe(true);
        r.pages();
      } catch (e) {
        expect(e).toBeInstanceOf(PdfError);
      }
    }
  }, 10_000);

  it('stops at /Prev cycles', () => {
    const base = craftPdf(MINIMAL_OBJECTS);
    // Two appended sections pointing at each other: A.Prev = B, B.Prev = A.
    const a = base.length;
    const sectionA = `xref\n0 0\ntrailer\n<< /Size 5 /Root 1 0 R /Prev ${a + 1000} >>\n`;
    const pad = ' '.repeat(1000 - sectionA.length);
    const sectionB = `xref\n0 0\ntrailer\n<< /Size 5 /Root 1 0 R /Prev ${a} >>\nstartxref\n${a + 1000}\n%%EOF\n`;
    const pdf = Buffer.concat([base, Buffer.from(sectionA + pad + sectionB, 'latin1')]);
    const r = PdfReader.load(pdf);
    expect(r.repaired).toBe(true);
    expect(r.warnings.join()).toMatch(/loops/);
    expect(r.pages()).toHaveLength(1);

    const self = Buffer.concat([base, Buffer.from(`xref\n0 0\ntrailer\n<< /Size 5 /Root 1 0 R /Prev ${a} >>\nstartxref\n${a}\n%%EOF\n`, 'latin1')]);
    expect(PdfReader.load(self).pages()).toHaveLength(1);
  }, 10_000);

  it('bounds reference chains and self-referencing object streams', () => {
    const pdf = craftPdf({ ...MINIMAL_OBJECTS, 5: '6 0 R', 6: '5 0 R' });
    const r = PdfReader.load(pdf);
    expect(() => r.resolve(new PdfRef(5, 0))).toThrow(expect.objectContaining({ code: 'invalid-pdf' }));
    // A stream whose /Length is itself: read up to "endstream" instead of recursing.
    const selfLength = PdfReader.load(craftPdf({ ...MINIMAL_OBJECTS, 5: '<< /Length 5 0 R >>\nstream\nabc\nendstream' }));
    expect((selfLength.getObject(5) as PdfStream).data).toEqual(Buffer.from('abc'));
  });

  it('refuses an object stream that contains itself', () => {
    // A hybrid file whose /XRefStm says object 7 lives in object stream 7.
    const objects = {
      ...MINIMAL_OBJECTS,
      7: '<< /Type /ObjStm /N 1 /First 4 /Length 9 >>\nstream\n7 0 (x)\nendstream',
      8: Buffer.concat([Buffer.from('<< /Type /XRef /Size 9 /W [1 1 1] /Index [7 1] /Length 3 >>\nstream\n'), Buffer.from([2, 7, 0]), Buffer.from('\nendstream')]),
    };
    const offset8 = craftPdf(objects).indexOf('8 0 obj');
    const listed = craftPdf(objects, `/Root 1 0 R /XRefStm ${offset8}`);
    // The table itself marks object 7 free, as hybrid writers do for objects in object streams.
    const entry7 = `${String(listed.indexOf('7 0 obj')).padStart(10, '0')} 00000 n`;
    const pdf = Buffer.from(listed.toString('latin1').replace(entry7, '0000000000 00000 f'), 'latin1');
    const r = PdfReader.load(pdf);
    expect(r.revisions[0]!.hybrid).toBe(true);
    expect(r.xrefEntry(7)).toEqual({ type: 'compressed', stream: 7, index: 0, gen: 0 });
    expect(() => r.getObject(7)).toThrow(expect.objectContaining({ code: 'invalid-pdf' }));
  });

  it('refuses absurd sizes instead of allocating for them', () => {
    const xs = craftPdf(MINIMAL_OBJECTS).toString('latin1');
    const huge = xs.replace(/xref\n0 5\n/, `xref\n0 ${DEFAULT_PDF_LIMITS.maxObjects + 1}\n`);
    // The declared count exceeds the limit: a PdfError, never an attempt to read 5 M entries.
    expect(() => PdfReader.load(Buffer.from(huge, 'latin1'))).toThrow(expect.objectContaining({ code: 'pdf-limit' }));
  });

  it('survives deep nesting', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = PdfReader.load(craftPdf({ ...MINIMAL_OBJECTS, 5: deep }));
    expect(r.getObject(5)).toBeNull();
    expect(r.pages()).toHaveLength(1);
  });
});

describe('decodeStream', () => {
  const reader = PdfReader.load(craftPdf(MINIMAL_OBJECTS));
  const stream = (data: Uint8Array, d: Record<string, PdfValue>): PdfStream => new PdfStream(new PdfDict(d), data);
  const text = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

  it('decodes Flate, ASCIIHex, ASCII85, RunLength and LZW, also chained', () => {
    const plain = Buffer.from('BT /F1 12 Tf (Hello) Tj ET');
    expect(text(reader.decodeStream(stream(zlib.deflateSync(plain), { Filter: PdfName.of('FlateDecode') })))).toBe(plain.toString());
    expect(text(reader.decodeStream(stream(Buffer.from('48 65 6c6C6f>'), { Filter: PdfName.of('AHx') })))).toBe('Hello');
    // "Man is" → standard ASCII85 vector; "z" expands to four zeros.
    expect(text(reader.decodeStream(stream(Buffer.from('9jqo^BlbD-z~>'), { Filter: PdfName.of('ASCII85Decode') })))).toBe('Man is distinguished'.slice(0, 8) + '\0\0\0\0');
    expect(text(reader.decodeStream(stream(Buffer.from([2, 0x61, 0x62, 0x63, 254, 0x7a, 128]), { Filter: PdfName.of('RunLengthDecode') })))).toBe('abczzz');
    // The LZW example from the PDF specification (7.4.4.2).
    const lzw = Buffer.from('800b6050220c0c8501', 'hex');
    expect(text(reader.decodeStream(stream(lzw, { Filter: PdfName.of('LZWDecode') })))).toBe('-----A---B');
    const chained = Buffer.from(zlib.deflateSync(plain).toString('hex') + '>');
    expect(text(reader.decodeStream(stream(chained, { Filter: [PdfName.of('AHx'), PdfName.of('Fl')] })))).toBe(plain.toString());
  });

  it('undoes a TIFF predictor', () => {
    const rows = Buffer.from([10, 1, 1, 20, 2, 2]); // 2 rows × 3 columns, deltas
    const s = stream(zlib.deflateSync(rows), {
      Filter: PdfName.of('FlateDecode'),
      DecodeParms: new PdfDict({ Predictor: 2, Columns: 3, Colors: 1, BitsPerComponent: 8 }),
    });
    expect([...reader.decodeStream(s)]).toEqual([10, 11, 12, 20, 22, 24]);
  });

  it('stops a decompression bomb at the limit', () => {
    const bomb = zlib.deflateSync(Buffer.alloc(8 * 1024 * 1024));
    const small = PdfReader.load(craftPdf(MINIMAL_OBJECTS), { maxDecodedStreamBytes: 1024 * 1024 });
    expect(small.limits.maxDecodedStreamBytes).toBe(1024 * 1024);
    expect(() => small.decodeStream(stream(bomb, { Filter: PdfName.of('FlateDecode') }))).toThrow(
      expect.objectContaining({ code: 'pdf-limit' }),
    );
  });

  it('names a filter it cannot decode', () => {
    expect(() => reader.decodeStream(stream(Buffer.from('x'), { Filter: PdfName.of('JBIG2Decode') }))).toThrow(
      expect.objectContaining({ code: 'invalid-pdf', message: expect.stringContaining('JBIG2Decode') }),
    );
  });
});
