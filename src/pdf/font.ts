import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import type { Font } from '@pdf-lib/fontkit';
import { OneSealError } from '../errors.js';
import { TrueTypeTables } from './font-subset.js';
import { PdfDict, PdfRef, PdfStream, PdfString, name, type PdfValue } from './objects.js';

/** Where new indirect objects go: IncrementalWriter, or a TemplateRecorder (src/stamp/template.ts). */
export interface PdfAllocator {
  add(value: PdfValue): PdfRef;
}

/** Single-face Song-style TrueType (GB 2312 coverage), customary for seal lettering. */
export const DEFAULT_CJK_FONT = '/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf';

/** Text prepared for a `Tj` with the font selected by `buildObjects`. */
export interface EncodedText {
  /** The CIDs (= subset glyph ids), 4 hex digits each, for `<hex> Tj`. */
  hex: string;
  /** Advance of each character in text space units (1/1000 em). */
  advances: number[];
  /** Total advance at `size` points, without character spacing or horizontal scaling. */
  width(size: number): number;
}

/** A font file opened once: fontkit for the character map and metrics, its raw tables for subsetting. */
interface OpenedFont {
  font: Font;
  tables: TrueTypeTables;
  label: string;
  /** Glyph id and advance (1/1000 em, unrounded) per code point the font has, filled as text is laid out. */
  glyphs: Map<number, { gid: number; advance: number }>;
}

// Opening a 5 MB font parses its tables; every seal and licence drawn with the same file shares the result.
const opened = new Map<string, OpenedFont>();

function openFont(source: string | Uint8Array): OpenedFont {
  const label = typeof source === 'string' ? source : 'font data';
  if (typeof source === 'string') {
    const cached = opened.get(source);
    if (cached) return cached;
  }
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? readFileSync(source) : source;
  } catch (e) {
    throw new OneSealError('font-unavailable', 'internal', `cannot read the seal font ${label}: ${(e as Error).message}`, { cause: e });
  }
  let font: Font;
  try {
    font = fontkit.create(bytes);
  } catch (e) {
    throw new OneSealError('font-unavailable', 'internal', `${label} is not a font fontkit can read`, { cause: e });
  }
  if (typeof (font as Partial<Font>).glyphForCodePoint !== 'function') {
    throw new OneSealError('font-unavailable', 'internal', `${label} is a font collection (.ttc); configure a single-face .ttf`);
  }
  const tables = (font as unknown as { directory: { tables: Record<string, unknown> } }).directory.tables;
  if (!tables['glyf']) {
    throw new OneSealError('font-unavailable', 'internal', `${label} has no TrueType outlines (glyf); only TrueType fonts are embedded`);
  }
  let raw: TrueTypeTables;
  try {
    raw = new TrueTypeTables(bytes);
  } catch (e) {
    throw new OneSealError('font-unavailable', 'internal', `${label} cannot be subset: ${(e as Error).message}`, { cause: e });
  }
  const result: OpenedFont = { font, tables: raw, label, glyphs: new Map() };
  if (typeof source === 'string') opened.set(source, result);
  return result;
}

/** A run of `[first [w1 w2 …]]` entries for /W from a CID → width map. */
function widthsArray(widths: Map<number, number>): PdfValue[] {
  const cids = [...widths.keys()].sort((a, b) => a - b);
  const out: PdfValue[] = [];
  let run: number[] = [];
  let first = -1;
  for (const cid of cids) {
    if (run.length > 0 && cid !== first + run.length) {
      out.push(first, run);
      run = [];
    }
    if (run.length === 0) first = cid;
    run.push(widths.get(cid)!);
  }
  if (run.length > 0) out.push(first, run);
  return out;
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

function utf16Hex(text: string): string {
  return Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
}

/** A ToUnicode CMap so that text extraction (pdftotext, copy & paste, search) returns the real characters. */
function toUnicodeCMap(map: Map<number, string>): Buffer {
  const entries = [...map.entries()].sort((a, b) => a[0] - b[0]);
  const lines = [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
  ];
  // bfchar blocks hold at most 100 entries.
  for (let i = 0; i < entries.length; i += 100) {
    const block = entries.slice(i, i + 100);
    lines.push(`${block.length} beginbfchar`);
    for (const [cid, text] of block) lines.push(`<${hex4(cid)}> <${utf16Hex(text)}>`);
    lines.push('endbfchar');
  }
  lines.push('endcmap', 'CMapName currentdict /CMapResource defineresource pop', 'end', 'end');
  return Buffer.from(lines.join('\n'), 'latin1');
}

/**
 * A TrueType font embedded as a subset: Type0 / Identity-H over a CIDFontType2 whose CIDs are the
 * subset's glyph ids (CIDToGIDMap /Identity). Lay out all text with `encode` first, then call
 * `buildObjects` once; the glyph set is frozen from then on.
 */
export class SubsetFont {
  /** Subset glyph id (= CID) per glyph id of the font, .notdef first. */
  private readonly cids = new Map<number, number>([[0, 0]]);
  private readonly widths = new Map<number, number>();
  private readonly unicode = new Map<number, string>();
  private built = false;

  private constructor(private readonly source: OpenedFont) {}

  static load(source: string | Uint8Array = DEFAULT_CJK_FONT): SubsetFont {
    return new SubsetFont(openFont(source));
  }

  private get font(): Font {
    return this.source.font;
  }

  /** Font-relative vertical metrics in em: ascent (positive) and descent (negative). */
  get ascent(): number {
    return this.font.ascent / this.font.unitsPerEm;
  }
  get descent(): number {
    return this.font.descent / this.font.unitsPerEm;
  }

  /** The characters of `text` the font cannot draw (deduplicated, in order). */
  missing(text: string): string[] {
    const out = new Set<string>();
    for (const ch of text) {
      if (this.glyphOf(ch.codePointAt(0)!).gid === 0) out.add(ch);
    }
    return [...out];
  }

  private glyphOf(codePoint: number): { gid: number; advance: number } {
    let g = this.source.glyphs.get(codePoint);
    if (!g) {
      const glyph = this.font.glyphForCodePoint(codePoint);
      // Glyph id 0 (.notdef) stands for a character the font cannot draw; those are not kept, so the
      // cache holds at most the font's own characters whatever text is sent.
      g = { gid: this.font.hasGlyphForCodePoint(codePoint) ? glyph.id : 0, advance: (glyph.advanceWidth * 1000) / this.font.unitsPerEm };
      if (g.gid !== 0) this.source.glyphs.set(codePoint, g);
    }
    return g;
  }

  /** The advance of `text` at `size` points, as `encode` would lay it out, without adding its glyphs to the subset. */
  widthOf(text: string, size: number): number {
    let total = 0;
    for (const ch of text) total += this.glyphOf(ch.codePointAt(0)!).advance;
    return (total * size) / 1000;
  }

  encode(text: string): EncodedText {
    const missing = this.missing(text);
    if (missing.length > 0) {
      throw new OneSealError(
        'font-missing-glyphs',
        'unprocessable',
        `the seal font (${this.source.label}) has no glyph for ${missing.map((c) => `“${c}” (U+${hex4(c.codePointAt(0)!)})`).join(', ')}; ` +
          'use other characters or configure a font that covers them',
        { extra: { missing } },
      );
    }
    let hex = '';
    const advances: number[] = [];
    for (const ch of text) {
      const glyph = this.glyphOf(ch.codePointAt(0)!);
      let cid = this.cids.get(glyph.gid);
      if (cid === undefined) {
        if (this.built) throw new Error('SubsetFont.encode after buildObjects added a glyph');
        cid = this.cids.size;
        this.cids.set(glyph.gid, cid);
      }
      const width = Math.round(glyph.advance);
      this.widths.set(cid, width);
      if (!this.unicode.has(cid)) this.unicode.set(cid, ch);
      hex += hex4(cid);
      advances.push(width);
    }
    const total = advances.reduce((a, b) => a + b, 0);
    return { hex, advances, width: (size) => (total * size) / 1000 };
  }

  /** Writes the font program and dictionaries; returns the Type0 font dictionary's reference. */
  async buildObjects(alloc: PdfAllocator): Promise<PdfRef> {
    this.built = true;
    const program = this.source.tables.subset([...this.cids.keys()]);
    const f = this.font;
    const scale = 1000 / f.unitsPerEm;
    // The subset tag only has to differ between different subsets of one font (PDF 32000 9.6.4).
    const digest = createHash('sha256').update([...this.widths.keys()].join(',')).digest();
    const tag = [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
    const baseName = name(`${tag}+${(f.postscriptName ?? 'CJKFont').replace(/[^!-~]|[()<>[\]{}/%#]/g, '')}`);

    // Level 4 with zlib's largest hash memory: two thirds of the default's time on a licence's glyphs
    // (~85 KB, deflated once per licence) for 2 % more bytes.
    const fontFile = alloc.add(
      new PdfStream(new PdfDict({ Length1: program.length, Filter: name('FlateDecode') }), deflateSync(program, { level: 4, memLevel: 9 })),
    );
    const descriptor = alloc.add(
      new PdfDict({
        Type: name('FontDescriptor'),
        FontName: baseName,
        Flags: 4, // symbolic: the glyphs are addressed by CID, not by a standard encoding
        FontBBox: [f.bbox.minX, f.bbox.minY, f.bbox.maxX, f.bbox.maxY].map((v) => Math.round(v * scale)),
        ItalicAngle: f.italicAngle,
        Ascent: Math.round(f.ascent * scale),
        Descent: Math.round(f.descent * scale),
        CapHeight: Math.round((f.capHeight || f.ascent) * scale),
        StemV: 80,
        FontFile2: fontFile,
      }),
    );
    const cidFont = alloc.add(
      new PdfDict({
        Type: name('Font'),
        Subtype: name('CIDFontType2'),
        BaseFont: baseName,
        CIDSystemInfo: new PdfDict({ Registry: PdfString.literal('Adobe'), Ordering: PdfString.literal('Identity'), Supplement: 0 }),
        FontDescriptor: descriptor,
        DW: 1000,
        W: widthsArray(this.widths),
        CIDToGIDMap: name('Identity'),
      }),
    );
    const toUnicode = alloc.add(new PdfStream(new PdfDict({ Filter: name('FlateDecode') }), deflateSync(toUnicodeCMap(this.unicode))));
    return alloc.add(
      new PdfDict({
        Type: name('Font'),
        Subtype: name('Type0'),
        BaseFont: baseName,
        Encoding: name('Identity-H'),
        DescendantFonts: [cidFont],
        ToUnicode: toUnicode,
      }),
    );
  }
}
