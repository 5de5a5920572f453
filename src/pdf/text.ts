import { PdfError } from '../errors.js';
import { contentOps } from './content.js';
import { IDENTITY, apply, multiply, translate, type Matrix } from './matrix.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, isArray, isName, isNumber, type PdfValue } from './objects.js';
import { MISSING_FONT, loadFont, type PdfObjectSource, type TextFont } from './text-font.js';

export type { PdfObjectSource } from './text-font.js';

/** A box in default user space (PDF points, unrotated page coordinates, y up). */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TextMatch extends TextBox {
  /** 1-based page number. */
  page: number;
}

/** One drawn glyph: its text (possibly several characters, e.g. a ligature) and its box. */
export interface TextGlyph extends TextBox {
  text: string;
}

/** The pages as text extraction needs them; PdfReader provides this. */
export interface TextSource extends PdfObjectSource {
  pages(): { index: number; dict: PdfDict; resources?: PdfDict }[];
}

function toMatrix(v: PdfValue | undefined): Matrix | undefined {
  if (!isArray(v) || v.length !== 6 || !v.every(isNumber)) return undefined;
  return v as Matrix;
}

/** Form XObjects drawing Form XObjects: real documents nest a few levels; loops must end. */
const MAX_FORM_DEPTH = 12;
/**
 * Per-page work limits. A form drawn many times (or drawing itself several times per level) is
 * interpreted each time, so the content actually run is bounded, not just the streams' sizes.
 */
const MAX_GLYPHS = 500_000;
const MAX_CONTENT_BYTES = 64 * 1024 * 1024;
const MAX_FORM_DRAWS = 10_000;

function overLimit(what: string): PdfError {
  return new PdfError('pdf-limit', `A page is too complex to search for text in: it ${what}.`);
}

interface GraphicsState {
  ctm: Matrix;
  font: TextFont;
  fontSize: number;
  charSpacing: number;
  wordSpacing: number;
  hScale: number;
  leading: number;
  rise: number;
}

/**
 * Runs a page's content like a renderer would, but only to learn where each glyph lands. Graphics
 * other than the CTM and the text state are ignored; text in every rendering mode counts (invisible
 * text is how scanned documents carry their OCR layer, which is exactly what an anchor should find).
 */
class TextInterpreter {
  private glyphs: TextGlyph[] = [];
  private contentBytes = 0;
  private formDraws = 0;
  private readonly fonts = new Map<PdfValue | string, TextFont>();
  private readonly formData = new Map<PdfStream, Uint8Array>();

  constructor(private readonly src: PdfObjectSource) {}

  page(page: { dict: PdfDict; resources?: PdfDict }): TextGlyph[] {
    this.glyphs = [];
    this.contentBytes = 0;
    this.formDraws = 0;
    const initial: GraphicsState = {
      ctm: IDENTITY,
      font: MISSING_FONT,
      fontSize: 0,
      charSpacing: 0,
      wordSpacing: 0,
      hScale: 1,
      leading: 0,
      rise: 0,
    };
    this.run(pageContent(this.src, page.dict), page.resources, initial, 0);
    this.annotations(page.dict, initial);
    return this.glyphs;
  }

  /** Runs content starting from `start` (a form inherits the graphics state it is drawn in). */
  private run(data: Uint8Array, resources: PdfDict | undefined, start: GraphicsState, depth: number): void {
    this.contentBytes += data.length;
    if (this.contentBytes > MAX_CONTENT_BYTES) throw overLimit(`draws more than ${MAX_CONTENT_BYTES >> 20} MiB of content`);
    let gs = { ...start };
    const saved: GraphicsState[] = [];
    let tm: Matrix = IDENTITY;
    let tlm: Matrix = IDENTITY;
    const nextLine = (tx: number, ty: number) => {
      tlm = multiply(translate(tx, ty), tlm);
      tm = tlm;
    };

    for (const { op, operands: o } of contentOps(data)) {
      const n = (i: number): number => (isNumber(o[i]) ? (o[i] as number) : 0);
      switch (op) {
        case 'q':
          if (saved.length < 1000) saved.push({ ...gs });
          break;
        case 'Q':
          gs = saved.pop() ?? gs;
          break;
        case 'cm': {
          const m = toMatrix(o);
          if (m) gs.ctm = multiply(m, gs.ctm);
          break;
        }
        case 'BT':
          tm = tlm = IDENTITY;
          break;
        case 'Tf': {
          gs.font = isName(o[0]) ? this.font(resources, o[0]) : MISSING_FONT;
          gs.fontSize = n(1);
          break;
        }
        case 'Tc':
          gs.charSpacing = n(0);
          break;
        case 'Tw':
          gs.wordSpacing = n(0);
          break;
        case 'Tz':
          gs.hScale = n(0) / 100;
          break;
        case 'TL':
          gs.leading = n(0);
          break;
        case 'Ts':
          gs.rise = n(0);
          break;
        case 'Td':
          nextLine(n(0), n(1));
          break;
        case 'TD':
          gs.leading = -n(1);
          nextLine(n(0), n(1));
          break;
        case 'Tm': {
          const m = toMatrix(o);
          if (m) tm = tlm = m;
          break;
        }
        case 'T*':
          nextLine(0, -gs.leading);
          break;
        case 'Tj':
          if (o[0] instanceof PdfString) tm = this.show(o[0].bytes, gs, tm);
          break;
        case "'":
          nextLine(0, -gs.leading);
          if (o[0] instanceof PdfString) tm = this.show(o[0].bytes, gs, tm);
          break;
        case '"':
          gs.wordSpacing = n(0);
          gs.charSpacing = n(1);
          nextLine(0, -gs.leading);
          if (o[2] instanceof PdfString) tm = this.show(o[2].bytes, gs, tm);
          break;
        case 'TJ':
          if (!isArray(o[0])) break;
          for (const item of o[0]) {
            if (item instanceof PdfString) tm = this.show(item.bytes, gs, tm);
            else if (isNumber(item)) {
              const shift = (-item / 1000) * gs.fontSize;
              tm = multiply(gs.font.vertical ? translate(0, shift) : translate(shift * gs.hScale, 0), tm);
            }
          }
          break;
        case 'Do':
          if (isName(o[0]) && depth < MAX_FORM_DEPTH) this.drawForm(resources, o[0], gs, depth);
          break;
      }
    }
  }

  private lookup(resources: PdfDict | undefined, category: string, key: PdfName): PdfValue | undefined {
    const d = this.src.resolve(resources?.get(category));
    return d instanceof PdfDict ? d.get(key.name) : undefined;
  }

  private font(resources: PdfDict | undefined, key: PdfName): TextFont {
    const entry = this.lookup(resources, 'Font', key);
    if (entry === undefined) return MISSING_FONT;
    // Cached by reference (or inline dict) so that pages sharing a font parse its CMaps once.
    const cacheKey = entry instanceof PdfRef ? entry.key : entry;
    let font = this.fonts.get(cacheKey);
    if (!font) {
      const d = this.src.resolve(entry);
      font = d instanceof PdfDict ? loadFont(this.src, d) : MISSING_FONT;
      this.fonts.set(cacheKey, font);
    }
    return font;
  }

  private drawForm(resources: PdfDict | undefined, key: PdfName, gs: GraphicsState, depth: number): void {
    const xobj = this.src.resolve(this.lookup(resources, 'XObject', key));
    if (xobj instanceof PdfStream && isName(xobj.dict.get('Subtype'), 'Form')) this.runForm(xobj, resources, gs, depth);
  }

  /**
   * The visible annotations' normal appearances, placed as PDF 32000 §12.5.5 says: the form's
   * BBox, transformed by its Matrix, is fitted onto the annotation's Rect. Viewers (and pdftotext)
   * show this text as part of the page: filled form fields, free text, earlier signatures.
   */
  private annotations(page: PdfDict, gs: GraphicsState): void {
    const annots = this.src.resolve(page.get('Annots'));
    if (!isArray(annots)) return;
    for (const item of annots) {
      const annot = this.src.resolve(item);
      if (!(annot instanceof PdfDict)) continue;
      const flags = this.src.resolve(annot.get('F'));
      if (isNumber(flags) && flags & (2 | 32)) continue; // Hidden, NoView
      const ap = this.src.resolve(annot.get('AP'));
      let normal = ap instanceof PdfDict ? this.src.resolve(ap.get('N')) : undefined;
      if (normal instanceof PdfDict) {
        const state = annot.get('AS');
        normal = isName(state) ? this.src.resolve(normal.get(state.name)) : undefined;
      }
      if (!(normal instanceof PdfStream)) continue;
      const rect = this.rect(annot.get('Rect'));
      const bbox = this.rect(normal.dict.get('BBox'));
      if (!rect || !bbox) continue;
      const matrix = toMatrix(this.src.resolve(normal.dict.get('Matrix'))) ?? IDENTITY;
      const corners = [
        apply(matrix, bbox[0], bbox[1]),
        apply(matrix, bbox[2], bbox[1]),
        apply(matrix, bbox[0], bbox[3]),
        apply(matrix, bbox[2], bbox[3]),
      ];
      const [bx0, by0] = [Math.min(...corners.map((c) => c[0])), Math.min(...corners.map((c) => c[1]))];
      const [bx1, by1] = [Math.max(...corners.map((c) => c[0])), Math.max(...corners.map((c) => c[1]))];
      if (bx1 - bx0 <= 0 || by1 - by0 <= 0) continue;
      const sx = (rect[2] - rect[0]) / (bx1 - bx0);
      const sy = (rect[3] - rect[1]) / (by1 - by0);
      this.runForm(normal, undefined, { ...gs, ctm: [sx, 0, 0, sy, rect[0] - bx0 * sx, rect[1] - by0 * sy] }, 0);
    }
  }

  /** A rectangle [x0 y0 x1 y1] with x0 < x1 and y0 < y1, or undefined when it is not one. */
  private rect(v: PdfValue | undefined): [number, number, number, number] | undefined {
    const a = this.src.resolve(v);
    if (!isArray(a) || a.length !== 4) return undefined;
    const n = a.map((x) => this.src.resolve(x));
    if (!n.every(isNumber)) return undefined;
    const [x0, y0, x1, y1] = n as number[];
    return [Math.min(x0!, x1!), Math.min(y0!, y1!), Math.max(x0!, x1!), Math.max(y0!, y1!)];
  }

  private runForm(xobj: PdfStream, resources: PdfDict | undefined, gs: GraphicsState, depth: number): void {
    if (++this.formDraws > MAX_FORM_DRAWS) throw overLimit(`draws forms more than ${MAX_FORM_DRAWS} times`);
    const matrix = toMatrix(this.src.resolve(xobj.dict.get('Matrix'))) ?? IDENTITY;
    const own = this.src.resolve(xobj.dict.get('Resources'));
    let data = this.formData.get(xobj);
    if (!data) this.formData.set(xobj, (data = this.src.decodeStream(xobj)));
    this.run(data, own instanceof PdfDict ? own : resources, { ...gs, ctm: multiply(matrix, gs.ctm) }, depth + 1);
  }

  /** Places each glyph of a string and returns the text matrix after it (PDF 32000 §9.4.4). */
  private show(bytes: Uint8Array, gs: GraphicsState, tm: Matrix): Matrix {
    const { font, fontSize, hScale } = gs;
    // A glyph's box is found in text space (offset by the advance so far), then mapped by Tm × CTM.
    const m = multiply(tm, gs.ctm);
    let dx = 0;
    let dy = 0;
    for (let pos = 0; pos < bytes.length; ) {
      const { code, bytes: len } = font.nextCode(bytes, pos);
      pos += len;
      const w0 = font.width(code, len);
      // Word spacing applies to the single-byte code 32 only, whatever the font (§9.3.3).
      const spacing = gs.charSpacing + (len === 1 && code === 32 ? gs.wordSpacing : 0);
      const v = font.vertical?.(code, len);
      // Horizontal: the origin is the glyph's left end on the baseline. Vertical: the origin is the
      // point v of the glyph (top centre by default), and the pen moves down; Th does not apply.
      const left = v ? dx - v.vx * fontSize : dx;
      const bottom = (v ? dy - v.vy * fontSize : dy) + font.descent * fontSize + gs.rise;
      const right = left + w0 * fontSize * (v ? 1 : hScale);
      const top = bottom + (font.ascent - font.descent) * fontSize;
      this.addGlyph(font.unicode(code, len), m, left, bottom, right, top);
      if (v) dy += v.w1 * fontSize + spacing;
      else dx += (w0 * fontSize + spacing) * hScale;
    }
    return multiply(translate(dx, dy), tm);
  }

  /** Records a glyph from its text-space box, as the user-space box around the mapped corners. */
  private addGlyph(text: string, m: Matrix, left: number, bottom: number, right: number, top: number): void {
    if (this.glyphs.length >= MAX_GLYPHS) throw overLimit(`draws more than ${MAX_GLYPHS} characters`);
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const tx of [left, right]) {
      for (const ty of [bottom, top]) {
        const ux = tx * m[0] + ty * m[2] + m[4];
        const uy = tx * m[1] + ty * m[3] + m[5];
        x0 = Math.min(x0, ux);
        y0 = Math.min(y0, uy);
        x1 = Math.max(x1, ux);
        y1 = Math.max(y1, uy);
      }
    }
    this.glyphs.push({ text, x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
  }
}

function pageContent(src: PdfObjectSource, page: PdfDict): Uint8Array {
  const c = src.resolve(page.get('Contents'));
  const streams = isArray(c) ? c.map((s) => src.resolve(s)) : [c];
  // Operators may not span streams, but tokens need a separator where the streams meet.
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const s of streams) {
    if (!(s instanceof PdfStream)) continue;
    const data = src.decodeStream(s);
    total += data.length + 1;
    if (total > MAX_CONTENT_BYTES) throw overLimit(`has more than ${MAX_CONTENT_BYTES >> 20} MiB of content`);
    parts.push(data, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Every glyph a page shows, in drawing order: its content (with the forms it draws), then its visible annotations. */
export function extractGlyphs(src: TextSource, pageIndex: number): TextGlyph[] {
  const page = src.pages()[pageIndex];
  return page ? new TextInterpreter(src).page(page) : [];
}

export type Corners = [number, number, number, number];

/** The [x1 y1 x2 y2] boxes of the visible (non-blank, non-empty) glyphs a page shows. */
export function glyphBoxes(src: TextSource, pageIndex: number): Corners[] {
  return extractGlyphs(src, pageIndex)
    .filter((g) => g.text.trim() !== '' && g.width > 0 && g.height > 0)
    .map((g): Corners => [g.x, g.y, g.x + g.width, g.y + g.height]);
}

/** Two [x1 y1 x2 y2] boxes share area (touching borders do not). */
export function boxesOverlap(a: Corners, b: Corners): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/**
 * Text compared for matching: compatibility forms folded (full-width "（" matches "(", CJK radicals
 * match their ideographs) and whitespace dropped, because PDF producers split, space and position
 * text in ways that have nothing to do with the words.
 */
function normalize(s: string): string {
  return s.normalize('NFKC').replace(/\s+/gu, '');
}

/**
 * Finds a phrase on the pages and returns the box around each occurrence. Glyphs are matched in
 * drawing order, ignoring whitespace, so text split into fragments or placed glyph by glyph is
 * still found; a page where drawing order finds nothing is tried again in reading order (lines top
 * to bottom, left to right), for producers that draw text out of order. An occurrence running over
 * a line break gets the box around both parts.
 */
export function findText(src: TextSource, phrase: string, opts: { page?: number } = {}): TextMatch[] {
  const needle = normalize(phrase);
  if (!needle) return [];
  const all = src.pages();
  const pages = opts.page === undefined ? all.map((_, i) => i + 1) : [opts.page];
  const interp = new TextInterpreter(src);
  const matches: TextMatch[] = [];
  for (const page of pages) {
    const info = all[page - 1];
    if (!info) continue;
    const glyphs = interp.page(info);
    let boxes = occurrences(glyphs, needle);
    if (boxes.length === 0) boxes = occurrences(readingOrder(glyphs), needle);
    for (const box of boxes) matches.push({ page, ...box });
  }
  return matches;
}

function occurrences(glyphs: TextGlyph[], needle: string): TextBox[] {
  let hay = '';
  const owner: number[] = []; // which glyph each UTF-16 unit of `hay` came from
  glyphs.forEach((g, i) => {
    const t = normalize(g.text);
    hay += t;
    for (let k = 0; k < t.length; k++) owner.push(i);
  });
  const found: TextBox[] = [];
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) {
    const box = union(glyphs.slice(owner[at]!, owner[at + needle.length - 1]! + 1));
    // Some producers fake bold by drawing the same text twice, slightly offset: one match, not two.
    if (!found.some((f) => sameBox(f, box))) found.push(box);
  }
  return found;
}

const sameBox = (a: TextBox, b: TextBox): boolean =>
  Math.abs(a.x - b.x) < 1 && Math.abs(a.y - b.y) < 1 && Math.abs(a.width - b.width) < 1 && Math.abs(a.height - b.height) < 1;

/** Glyphs grouped into lines (by vertical centre, within half a glyph height), top line first, each left to right. */
function readingOrder(glyphs: TextGlyph[]): TextGlyph[] {
  const byY = [...glyphs].sort((a, b) => b.y + b.height / 2 - (a.y + a.height / 2));
  const lines: TextGlyph[][] = [];
  let centre = Infinity;
  for (const g of byY) {
    const c = g.y + g.height / 2;
    if (lines.length === 0 || centre - c > g.height / 2) {
      lines.push([]);
      centre = c;
    }
    lines[lines.length - 1]!.push(g);
  }
  return lines.flatMap((line) => line.sort((a, b) => a.x - b.x));
}

function union(boxes: TextBox[]): TextBox {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const b of boxes) {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width);
    y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
