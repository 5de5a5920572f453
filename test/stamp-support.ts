/**
 * Test helpers for the stamp suites: a hand-made base PDF (classic xref), stamping through the
 * real IncrementalWriter, and checks with independent tools (pdftoppm, pdftotext, qpdf).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { PdfDict, PdfRef, PdfStream, name, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { PdfOutput, serializeIndirect } from '../src/pdf/serialize.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import { decodePng } from '../src/stamp/image.js';

export interface TestPage {
  mediaBox?: number[];
  cropBox?: number[];
  rotate?: number;
  /** Page content drawn before any stamp (e.g. a black box to see transparency against). */
  content?: string;
}

/** A small but complete PDF: catalog, page tree, one content stream per page, classic xref. */
export function basePdf(pages: TestPage[]): Buffer {
  const objs: PdfValue[] = [];
  const add = (v: PdfValue): PdfRef => {
    objs.push(v);
    return new PdfRef(objs.length, 0);
  };
  const pagesRef = new PdfRef(1, 0);
  objs.push(null); // placeholder for the page tree, filled in below
  const kids = pages.map((p) => {
    const content = add(new PdfStream(new PdfDict(), Buffer.from(p.content ?? '', 'latin1')));
    const d = new PdfDict({ Type: name('Page'), Parent: pagesRef, MediaBox: p.mediaBox ?? [0, 0, 595, 842], Contents: content, Resources: new PdfDict() });
    if (p.cropBox) d.set('CropBox', p.cropBox);
    if (p.rotate) d.set('Rotate', p.rotate);
    return add(d);
  });
  objs[0] = new PdfDict({ Type: name('Pages'), Kids: kids, Count: kids.length });
  const catalog = add(new PdfDict({ Type: name('Catalog'), Pages: pagesRef }));
  const out = new PdfOutput();
  out.text('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  const offsets: number[] = [];
  objs.forEach((v, i) => {
    offsets.push(out.length);
    serializeIndirect(i + 1, 0, v, out);
  });
  let xref = `xref\n0 ${objs.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) xref += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  xref += `trailer\n<< /Size ${objs.length + 1} /Root ${catalog.num} 0 R >>\nstartxref\n${out.length}\n%%EOF\n`;
  out.text(xref);
  return out.toBuffer();
}

export interface Stamper {
  writer: IncrementalWriter;
  reader: PdfReader;
  /** Appends `ops` to page `page` (1-based) with the given XObjects in its resources. */
  drawOnPage(page: number, xobjects: Record<string, PdfRef>, ops: string): void;
  /** Adds a printable /Stamp annotation with appearance `ap` at `rect`. */
  annotate(page: number, rect: number[], ap: PdfRef): void;
}

/** Writes one incremental update through the real IncrementalWriter. */
export function stamp(base: Uint8Array, fn: (s: Stamper) => void): Buffer {
  const reader = PdfReader.load(base);
  const writer = new IncrementalWriter(reader);
  const pages = reader.pages();
  const changed = new Map<number, PdfDict>();
  const pageDict = (page: number): PdfDict => {
    const info = pages[page - 1]!;
    let d = changed.get(page);
    if (!d) {
      d = info.dict.clone();
      changed.set(page, d);
    }
    return d;
  };
  fn({
    writer,
    reader,
    drawOnPage(page, xobjects, ops) {
      const d = pageDict(page);
      const res = (reader.resolve(d.get('Resources')) as PdfDict | undefined)?.clone() ?? new PdfDict();
      const xo = (reader.resolve(res.get('XObject')) as PdfDict | undefined)?.clone() ?? new PdfDict();
      for (const [k, v] of Object.entries(xobjects)) xo.set(k, v);
      res.set('XObject', xo);
      d.set('Resources', res);
      const old = d.get('Contents');
      const extra = writer.add(new PdfStream(new PdfDict(), Buffer.from(ops, 'latin1')));
      d.set('Contents', old === undefined ? extra : [...(Array.isArray(old) ? old : [old]), extra]);
    },
    annotate(page, rect, ap) {
      const d = pageDict(page);
      const annot = writer.add(
        new PdfDict({ Type: name('Annot'), Subtype: name('Stamp'), Rect: rect, F: 4, P: pages[page - 1]!.ref, AP: new PdfDict({ N: ap }) }),
      );
      const old = reader.resolve(d.get('Annots'));
      d.set('Annots', [...(Array.isArray(old) ? old : []), annot]);
    },
  });
  for (const [page, d] of changed) writer.update(pages[page - 1]!.ref, d);
  return Buffer.concat([Buffer.from(reader.bytes), writer.build().tail]);
}

function withFile<T>(pdf: Uint8Array, fn: (dir: string, file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-stamp-'));
  try {
    const file = join(dir, 'in.pdf');
    writeFileSync(file, pdf);
    return fn(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Rendering {
  width: number;
  height: number;
  /** RGB at a point given in display points from the lower-left corner (72 dpi: 1 px = 1 pt). */
  at(x: number, y: number): [number, number, number];
  png: Buffer;
}

/** Renders one page at 72 dpi with pdftoppm (crop box, as a viewer shows it). */
export function render(pdf: Uint8Array, page = 1): Rendering {
  return withFile(pdf, (dir, file) => {
    execFileSync('pdftoppm', ['-r', '72', '-png', '-cropbox', '-f', String(page), '-l', String(page), '-singlefile', file, join(dir, 'out')]);
    return pngRendering(readFileSync(join(dir, 'out.png')));
  });
}

/** A 72 dpi PNG of a page, or of its part right of `offsetX` points (then `at` still takes page coordinates). */
export function pngRendering(png: Buffer, offsetX = 0): Rendering {
  const img = decodePng(png);
  const c = img.colors;
  return {
    width: offsetX + img.width,
    height: img.height,
    png,
    at(x, y) {
      const px = Math.min(img.width - 1, Math.max(0, Math.floor(x - offsetX)));
      const py = Math.min(img.height - 1, Math.max(0, img.height - 1 - Math.floor(y)));
      const i = (py * img.width + px) * c;
      return c === 3 ? [img.pixels[i]!, img.pixels[i + 1]!, img.pixels[i + 2]!] : [img.pixels[i]!, img.pixels[i]!, img.pixels[i]!];
    },
  };
}

export function pdftotext(pdf: Uint8Array, ...args: string[]): string {
  return withFile(pdf, (_dir, file) => execFileSync('pdftotext', [...args, file, '-'], { encoding: 'utf8' }));
}

/** qpdf --check output; throws (non-zero exit) on errors. */
export function qpdfCheck(pdf: Uint8Array): string {
  return withFile(pdf, (_dir, file) => execFileSync('qpdf', ['--check', file], { encoding: 'utf8' }));
}

export const isRed = ([r, g, b]: number[]): boolean => r! > 180 && g! < 80 && b! < 80;
export const isWhite = ([r, g, b]: number[]): boolean => r! > 245 && g! > 245 && b! > 245;

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes a PNG; each row uses filter `filters[y % filters.length]` so every decoder path is exercised. */
export function encodePng(
  width: number,
  height: number,
  colorType: 0 | 2 | 3 | 4 | 6,
  pixels: Uint8Array,
  opts: { filters?: number[]; bitDepth?: number; interlace?: number } = {},
): Buffer {
  const bpp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const stride = width * bpp;
  const filters = opts.filters ?? [0];
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length]!;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const v = pixels[y * stride + x]!;
      const a = x >= bpp ? pixels[y * stride + x - bpp]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp]! : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const pred = [0, a, b, (a + b) >>> 1, paeth][f]!;
      raw[y * (stride + 1) + 1 + x] = (v - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = opts.bitDepth ?? 8;
  ihdr[9] = colorType;
  ihdr[12] = opts.interlace ?? 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Share of pixels that differ clearly (any channel by more than 64) between a w×h window of `a`
 * at (ax, ay) and one of `b` at (bx, by), points from the lower-left, sampled every point.
 */
export function diffFraction(a: Rendering, ax: number, ay: number, b: Rendering, bx: number, by: number, w: number, h: number): number {
  let differ = 0;
  let total = 0;
  for (let y = 0.5; y < h; y++) {
    for (let x = 0.5; x < w; x++) {
      const p = a.at(ax + x, ay + y);
      const q = b.at(bx + x, by + y);
      total++;
      if (p.some((v, i) => Math.abs(v - q[i]!) > 64)) differ++;
    }
  }
  return differ / total;
}

/** Share of pixels in a window that are seal-red. */
export function redFraction(a: Rendering, x0: number, y0: number, w: number, h: number): number {
  let red = 0;
  let total = 0;
  for (let y = 0.5; y < h; y++) {
    for (let x = 0.5; x < w; x++) {
      total++;
      if (isRed(a.at(x0 + x, y0 + y))) red++;
    }
  }
  return red / total;
}

/** The smallest box (display points, lower-left origin) holding every seal-red pixel of a rendering; undefined when none is red. */
export function redBounds(a: Rendering): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let box: { x0: number; y0: number; x1: number; y1: number } | undefined;
  for (let y = 0.5; y < a.height; y++) {
    for (let x = 0.5; x < a.width; x++) {
      if (!isRed(a.at(x, y))) continue;
      box = box
        ? { x0: Math.min(box.x0, x - 0.5), y0: Math.min(box.y0, y - 0.5), x1: Math.max(box.x1, x + 0.5), y1: Math.max(box.y1, y + 0.5) }
        : { x0: x - 0.5, y0: y - 0.5, x1: x + 0.5, y1: y + 0.5 };
    }
  }
  return box;
}
