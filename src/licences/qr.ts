/**
 * The verification QR code, drawn as filled vector rectangles (one per run of dark modules in a row)
 * so it stays sharp at any zoom and print resolution and costs no image. A signed payload is long
 * (≈620 characters, 85 modules), so it is drawn at error-correction level L (bigger modules scan better
 * from a coarse print than redundancy would) and, where the square allows, on a grid of whole
 * 1/50-inch (else 1/75-inch) modules counted from the page's top-left corner: every module is then
 * exactly 2 or 3 pixels at 100, 150 and 300 dpi, and zbar reads a 100 dpi render that a slightly
 * smaller, unaligned symbol would blur into grey. A plain URL keeps level M and fills its square.
 * The whole square is painted white first, so the quiet zone stays light whatever lies under it.
 * A signed payload (version 17) needs 48 mm for 1/50-inch modules, so it reads at 100 dpi; a 32 mm
 * square gets 1/75-inch modules, which read from 150 dpi up.
 */
import { fill, popGraphicsState, pushGraphicsState, rectangle, setFillingGrayscaleColor, type PDFPage } from '@cantoo/pdf-lib';
import QRCode, { type QRCodeSegment } from 'qrcode';
import { BoundedMemo } from '../bounded-memo.js';
import { createQr } from './qr-mask.js';
import { LONG_TEXT, segmentsOf } from './qr-segments.js';

/** ISO/IEC 18004 asks for a light margin of 4 modules around the symbol. */
export const QUIET_ZONE_MODULES = 4;
/** Module sizes in points, largest first, that land on whole pixels at 100, 150 and 300 dpi (1/50″) or 150 and 300 dpi (1/75″). */
const GRID_UNITS = [72 / 50, 72 / 75];

type Rect = [number, number, number, number];

interface QrGeometry {
  /** The square, quiet zone included, as [x, y, width, height] in points: painted white under the runs. */
  square: Rect;
  /** Dark runs as [x, y, width, height] in points. */
  runs: Rect[];
  quietZone: number;
}

/** Where a symbol of n×n modules goes in its square: module size and the top-left corner of its first module. */
function placement(n: number, long: boolean, x: number, y: number, size: number, pageHeight: number): { unit: number; left: number; top: number } {
  const total = n + 2 * QUIET_ZONE_MODULES;
  // One spare module of room lets the symbol move onto the grid and stay inside its square.
  const grid = long ? GRID_UNITS.find((u) => u * (total + 1) <= size) : undefined;
  const unit = grid ?? size / total;
  const x0 = grid ? Math.ceil(x / unit - 1e-9) * unit : x;
  const fromTop = grid ? Math.ceil((pageHeight - (y + size)) / unit - 1e-9) * unit : pageHeight - (y + size);
  return { unit, left: x0 + QUIET_ZONE_MODULES * unit, top: pageHeight - fromTop - QUIET_ZONE_MODULES * unit };
}

const levelOf = (text: string) => (text.length > LONG_TEXT ? 'L' : 'M');

/**
 * Module counts of symbols by what decides their version: the level and each segment's mode and length
 * (the signed texts of one deployment come in a handful of shapes). Bounded, since texts come from requests.
 */
const moduleCounts = new BoundedMemo<string, number>(256);

/** What a segment's length in bits follows from: its characters and, for text given as a string, its UTF-8 bytes. */
function lengthOf(data: QRCodeSegment['data']): string {
  if (typeof data === 'number') return String(String(data).length);
  return typeof data === 'string' ? `${data.length}/${Buffer.byteLength(data)}` : String(data.length);
}

function moduleCount(data: string | QRCodeSegment[], level: 'L' | 'M'): number {
  const count = () => QRCode.create(data, { errorCorrectionLevel: level, maskPattern: 0 }).modules.size;
  // A short plain text (an unsigned page link) is no payload shape: counted each time.
  if (typeof data === 'string') return count();
  return moduleCounts.get(`${level} ${data.map((s) => `${s.mode}:${lengthOf(s.data)}`).join(' ')}`, count);
}

/**
 * The quiet zone the symbol of `text` would have in its square, for laying out around a code drawn
 * later: it depends on the symbol's size only, which the data's shape decides.
 */
export function qrQuietZone(text: string, x: number, y: number, size: number, pageHeight: number): number {
  return placement(moduleCount(segmentsOf(text), levelOf(text)), text.length > LONG_TEXT, x, y, size, pageHeight).left - x;
}

/**
 * The symbol of `text` in a `size`-point square (quiet zone included) with its lower-left corner at (x, y)
 * on a page `pageHeight` points high.
 */
export function qrGeometry(text: string, x: number, y: number, size: number, pageHeight: number): QrGeometry {
  const { modules } = createQr(segmentsOf(text), levelOf(text));
  const n = modules.size;
  const { unit, left, top } = placement(n, text.length > LONG_TEXT, x, y, size, pageHeight);
  const runs: QrGeometry['runs'] = [];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; ) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.get(row, col)) col++;
      runs.push([left + start * unit, top - (row + 1) * unit, (col - start) * unit, unit]);
    }
  }
  return { square: [x, y, size, size], runs, quietZone: left - x };
}

/** Draws the symbol on a pdf-lib page; returns the width of the quiet zone in points. */
export function drawQrCode(page: PDFPage, text: string, x: number, y: number, size: number): { quietZone: number } {
  const { square, runs, quietZone } = qrGeometry(text, x, y, size, page.getHeight());
  const rects = (list: Rect[]) => list.map(([rx, ry, w, h]) => rectangle(rx, ry, w, h));
  page.pushOperators(pushGraphicsState(), setFillingGrayscaleColor(1), ...rects([square]), fill(), setFillingGrayscaleColor(0), ...rects(runs), fill(), popGraphicsState());
  return { quietZone };
}

/** The same drawing as a content stream of its own, for adding the symbol to a page in an incremental update. */
export function qrContentStream(text: string, x: number, y: number, size: number, pageHeight: number): string {
  // The runs share a few dozen coordinates and widths: each is formatted once.
  const formatted = new Map<number, string>();
  const n = (v: number): string => {
    let f = formatted.get(v);
    if (f === undefined) formatted.set(v, (f = String(Math.round(v * 10000) / 10000)));
    return f;
  };
  const { square, runs } = qrGeometry(text, x, y, size, pageHeight);
  const rects = (list: Rect[]): string[] => list.map(([rx, ry, w, h]) => `${n(rx)} ${n(ry)} ${n(w)} ${n(h)} re`);
  return ['q', '1 g', ...rects([square]), 'f', '0 g', ...rects(runs), 'f', 'Q', ''].join('\n');
}
