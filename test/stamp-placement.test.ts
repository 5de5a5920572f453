import { beforeAll, describe, expect, it } from 'vitest';
import { PdfReader } from '../src/pdf/reader.js';
import { apply, pageView, placeAt, placeOnText, placedAppearance, type PageGeometry } from '../src/stamp/placement.js';
import { buildSealAppearance } from '../src/stamp/seal.js';
import type { AppearanceTemplate } from '../src/stamp/template.js';
import { MM } from '../src/stamp/units.js';
import { basePdf, diffFraction, qpdfCheck, redFraction, render, stamp, type Rendering, type TestPage } from './stamp-support.js';

let seal: AppearanceTemplate;
beforeAll(async () => {
  seal = await buildSealAppearance({ organisation: '某某市人民政府办公室', title: '行政审批专用章' });
});

/** One page with the seal annotated centred at display point (x, y). */
function stamped(page: TestPage, x: number, y: number): { pdf: Buffer; img: Rendering } {
  const base = basePdf([page]);
  const pages = PdfReader.load(base).pages();
  const pdf = stamp(base, (s) => {
    const form = seal.emit(s.writer);
    const p = placeAt(pages, { page: 1, x, y, unit: 'pt' }, seal);
    s.annotate(1, p.rect, placedAppearance(s.writer, form, p));
  });
  return { pdf, img: render(pdf) };
}

describe('placement', () => {
  it('keeps the seal upright and at the requested display position for /Rotate 0, 90, 180, 270 and an offset crop box', () => {
    const d = seal.width;
    const cx = 130;
    const cy = 190;
    const ref = stamped({ mediaBox: [0, 0, 400, 600] }, cx, cy).img;
    expect(redFraction(ref, cx - d / 2, cy - d / 2, d, d)).toBeGreaterThan(0.08);
    for (const rotate of [0, 90, 180, 270]) {
      const { pdf, img } = stamped({ mediaBox: [-50, -40, 450, 700], cropBox: [0, 0, 400, 600], rotate }, cx, cy);
      expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');
      // The same picture as the unrotated page, pixel for pixel (antialiasing aside).
      expect(diffFraction(img, cx - d / 2, cy - d / 2, ref, cx - d / 2, cy - d / 2, d, d), `rotate ${rotate}`).toBeLessThan(0.02);
    }
    // A seal that ignored /Rotate (drawn unturned in user space) shows turned a quarter: the comparison can fail.
    const base = basePdf([{ mediaBox: [0, 0, 400, 600], rotate: 90 }]);
    const [ux, uy] = apply(pageView({ mediaBox: [0, 0, 400, 600], rotate: 90 }).toUser, cx, cy);
    const naive = render(
      stamp(base, (s) => {
        const form = seal.emit(s.writer);
        const rect = [ux - d / 2, uy - d / 2, ux + d / 2, uy + d / 2];
        s.annotate(1, rect, placedAppearance(s.writer, form, { rect: rect as [number, number, number, number], matrix: [1, 0, 0, 1, rect[0]!, rect[1]!] }));
      }),
    );
    expect(diffFraction(naive, cx - d / 2, cy - d / 2, ref, cx - d / 2, cy - d / 2, d, d)).toBeGreaterThan(0.05);
  });

  it('maps display space to user space for each rotation', () => {
    const page: PageGeometry = { mediaBox: [0, 0, 400, 600], cropBox: [10, 20, 390, 580], rotate: 90 };
    const v = pageView(page);
    expect([v.width, v.height]).toEqual([560, 380]);
    // Display lower-left is the crop box's upper-left for a page turned clockwise.
    expect(apply(v.toUser, 0, 0)).toEqual([390, 20]);
    expect(apply(v.toUser, 560, 380)).toEqual([10, 580]);
    expect(pageView({ ...page, rotate: -90 }).toUser).toEqual(pageView({ ...page, rotate: 270 }).toUser);
  });

  it('centres the seal on a text box given in user space', () => {
    const pages: PageGeometry[] = [{ mediaBox: [0, 0, 595, 842] }, { mediaBox: [0, 0, 595, 842], rotate: 270 }];
    for (const page of [1, 2]) {
      const p = placeOnText(pages, { page, x: 300, y: 200, width: 60, height: 12 }, { width: 100, height: 100 });
      expect(p.page).toBe(page);
      expect((p.rect[0] + p.rect[2]) / 2).toBeCloseTo(330);
      expect((p.rect[1] + p.rect[3]) / 2).toBeCloseTo(206);
      expect(p.rect[2] - p.rect[0]).toBeCloseTo(100);
    }
  });

  it('rejects pages that do not exist and seals that leave the page', () => {
    const pages: PageGeometry[] = [{ mediaBox: [0, 0, 595, 842] }, { mediaBox: [0, 0, 595, 842] }];
    for (const page of [0, 3, 1.5]) {
      expect(() => placeAt(pages, { page, x: 100, y: 100 }, seal)).toThrow(
        expect.objectContaining({ code: 'page-out-of-range', kind: 'unprocessable', message: expect.stringContaining('2 pages') }),
      );
    }
    // 42 mm seal centred 10 mm from the left edge sticks out by 11 mm.
    expect(() => placeAt(pages, { page: 1, x: 10, y: 100 }, seal)).toThrow(
      expect.objectContaining({ code: 'seal-off-page', kind: 'unprocessable', message: expect.stringMatching(/outside page 1.*mm/) }),
    );
    // Exactly touching the corner is on the page.
    expect(placeAt(pages, { page: 2, x: 21, y: 21 }, seal).rect[0]).toBeCloseTo(0, 6);
    expect(() => placeAt(pages, { page: 1, x: Number.NaN, y: 1 }, seal)).toThrow(expect.objectContaining({ code: 'invalid-position' }));
    expect(21 * MM).toBeCloseTo(seal.width / 2);
  });
});
