/**
 * The verification QR code, drawn as filled vector rectangles (one per run of dark modules in a row)
 * so it stays sharp at any zoom and print resolution and costs no image.
 */
import { fill, popGraphicsState, pushGraphicsState, rectangle, setFillingGrayscaleColor, type PDFPage } from '@cantoo/pdf-lib';
import QRCode from 'qrcode';

/** ISO/IEC 18004 asks for a light margin of 4 modules around the symbol. */
export const QUIET_ZONE_MODULES = 4;

/**
 * Draws the QR code of `text` in a `size`-point square (quiet zone included) with its lower-left corner at
 * (x, y); returns the width of the quiet zone in points.
 */
export function drawQrCode(page: PDFPage, text: string, x: number, y: number, size: number): { quietZone: number } {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const unit = size / (n + 2 * QUIET_ZONE_MODULES);
  const top = y + size - QUIET_ZONE_MODULES * unit;
  const left = x + QUIET_ZONE_MODULES * unit;
  const ops = [pushGraphicsState(), setFillingGrayscaleColor(0)];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; ) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.get(row, col)) col++;
      ops.push(rectangle(left + start * unit, top - (row + 1) * unit, (col - start) * unit, unit));
    }
  }
  ops.push(fill(), popGraphicsState());
  page.pushOperators(...ops);
  return { quietZone: QUIET_ZONE_MODULES * unit };
}
