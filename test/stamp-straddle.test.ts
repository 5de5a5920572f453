import { beforeAll, describe, expect, it } from 'vitest';
import { PdfReader } from '../src/pdf/reader.js';
import { pageView, placeAt, placedAppearance, type PageGeometry } from '../src/stamp/placement.js';
import { buildSealAppearance } from '../src/stamp/seal.js';
import { emitStraddle, MIN_SLICE_MM, parsePageRanges, planStraddle } from '../src/stamp/straddle.js';
import { MM } from '../src/stamp/units.js';
import type { AppearanceTemplate } from '../src/stamp/template.js';
import { basePdf, diffFraction, isWhite, qpdfCheck, redFraction, render, stamp, type TestPage } from './stamp-support.js';

let seal: AppearanceTemplate;
beforeAll(async () => {
  seal = await buildSealAppearance({ organisation: '某某市人民政府办公室', title: '合同专用章' });
});

describe('paging seal (骑缝章)', () => {
  it('puts slice k of N at the right edge of page k, so that the edges reassemble the seal', () => {
    const d = seal.width;
    const pagesIn: TestPage[] = [{ mediaBox: [0, 0, 300, 400] }, { mediaBox: [0, 0, 400, 300], rotate: 90 }, { mediaBox: [0, 0, 300, 400] }];
    const base = basePdf(pagesIn);
    const pages = PdfReader.load(base).pages();
    const slices = planStraddle(pages, seal, { y: 200, unit: 'pt' });
    const pdf = stamp(base, (s) => {
      const form = seal.emit(s.writer);
      for (const { placement, appearance } of emitStraddle(s.writer, form, slices)) s.annotate(placement.page, placement.rect, appearance);
    });
    expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');
    // The seal (font program, content) is stored once, not per page.
    expect(pdf.toString('latin1').match(/\/FontFile2/g)).toHaveLength(1);

    // The whole seal drawn normally is the reference; it is put at the same sub-pixel offset as on
    // page k (a whole number of points to the left), so antialiasing matches.
    const whole = basePdf([{ mediaBox: [0, 0, 300, 400] }]);
    const reference = (x0: number) =>
      render(
        stamp(whole, (st) => {
          const form = seal.emit(st.writer);
          const p = placeAt(PdfReader.load(whole).pages(), { page: 1, x: x0 + d / 2, y: 200, unit: 'pt' }, seal);
          st.annotate(1, p.rect, placedAppearance(st.writer, form, p));
        }),
      );
    const s = d / 3;
    const y0 = 200 - d / 2;
    for (let k = 0; k < 3; k++) {
      const img = render(pdf, k + 1);
      const w = img.width;
      const refX = w - (k + 1) * s - 100;
      const ref = reference(refX);
      // Slice k of the reference sits at the page's right edge (1 pt kept clear of the cut lines).
      expect(diffFraction(img, w - s + 1, y0, ref, refX + k * s + 1, y0, s - 2, d), `page ${k + 1}`).toBeLessThan(0.02);
      expect(redFraction(img, w - s + 1, y0, s - 2, d), `page ${k + 1} has ink`).toBeGreaterThan(0.03);
      // Left of the slice, the rest of the seal is clipped away.
      for (let y = y0; y < y0 + d; y += 2) expect(isWhite(img.at(w - s - 2, y)), `page ${k + 1} at y ${y}`).toBe(true);
    }
  });

  it('plans on the displayed page and validates its input', () => {
    const pages: PageGeometry[] = [{ mediaBox: [0, 0, 595, 842] }, { mediaBox: [0, 0, 595, 842], rotate: 180 }];
    const slices = planStraddle(pages, { width: 120, height: 120 });
    expect(slices.map((s) => s.clip)).toEqual([
      [0, 0, 60, 120],
      [60, 0, 120, 120],
    ]);
    // Page 1: right edge of the page, vertically centred; page 2 is upside down, so its displayed right edge is user-space x = 0.
    expect(slices[0]!.placement.rect).toEqual([535, 361, 595, 481]);
    expect(slices[1]!.placement.rect.map((v) => Math.round(v))).toEqual([0, 361, 60, 481]);
    expect(pageView(pages[1]!).width).toBe(595);

    expect(() => planStraddle(pages, { width: 120, height: 120 }, { pages: [1] })).toThrow(expect.objectContaining({ code: 'straddle-needs-pages' }));
    expect(() => planStraddle(pages, { width: 120, height: 120 }, { pages: [1, 1] })).toThrow(expect.objectContaining({ code: 'straddle-needs-pages' }));
    expect(() => planStraddle(pages, { width: 120, height: 120 }, { pages: [1, 3] })).toThrow(expect.objectContaining({ code: 'page-out-of-range' }));
    expect(() => planStraddle(pages, { width: 120, height: 120 }, { y: 10 })).toThrow(expect.objectContaining({ code: 'seal-off-page' }));
  });

  it('on a one-page document says so in terms of the API (straddle), never a field that does not exist', () => {
    const one: PageGeometry[] = [{ mediaBox: [0, 0, 595, 842] }];
    const e = (() => {
      try {
        planStraddle(one, seal);
      } catch (x) {
        return x as { code: string; message: string; fields: { field: string }[] };
      }
      throw new Error('expected a refusal');
    })();
    expect(e.code).toBe('straddle-needs-pages');
    expect(e.fields.map((f) => f.field)).toEqual(['straddle']);
    expect(e.message).toContain('the document has 1');
    expect(JSON.stringify(e)).not.toMatch(/"pages"/);
    expect(() => planStraddle([...one, ...one], seal, { pages: [2] })).toThrow(expect.objectContaining({ fields: [expect.objectContaining({ field: 'straddlePages' })] }));
  });

  it('reads page ranges as people write them, and refuses malformed or runaway ones', () => {
    expect(parsePageRanges('1-30')).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(parsePageRanges('1-3, 8,10-11')).toEqual([1, 2, 3, 8, 10, 11]);
    for (const bad of ['', '0-3', '5-2', '1-', 'a', '1;2', '-3', '1-99999,1-99999']) expect(parsePageRanges(bad), bad).toBeUndefined();
  });

  it('groups a long document so no slice is narrower than the minimum, or takes the pages per seal asked for', () => {
    const pages: PageGeometry[] = Array.from({ length: 30 }, () => ({ mediaBox: [0, 0, 595, 842] }));
    const widest = Math.floor(seal.width / (MIN_SLICE_MM * MM));
    expect(widest).toBeGreaterThanOrEqual(2);
    // Default: as few seals as keep slices ≥ 4 mm, sizes as even as possible.
    const auto = planStraddle(pages, seal);
    expect(auto).toHaveLength(30);
    const sliceWidths = auto.map((s) => s.clip[2] - s.clip[0]);
    expect(Math.min(...sliceWidths)).toBeGreaterThanOrEqual(MIN_SLICE_MM * MM - 1e-6);
    const seals = auto.filter((s) => s.clip[0] === 0).length;
    expect(seals).toBe(Math.ceil(30 / widest));
    // Each group's slices tile the seal exactly once.
    let covered = 0;
    for (const s of auto) covered += s.clip[2] - s.clip[0];
    expect(covered).toBeCloseTo(seals * seal.width, 6);

    // Asked: 4 pages per seal over pages 1-10 → 4, 3, 3; the other pages carry nothing.
    const asked = planStraddle(pages, seal, { pages: parsePageRanges('1-10')!, pagesPerSeal: 4 });
    expect(asked.map((s) => s.placement.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(asked.filter((s) => s.clip[0] === 0).map((s) => s.placement.page)).toEqual([1, 5, 8]);
    expect(asked[0]!.clip[2]).toBeCloseTo(seal.width / 4, 6);
    expect(asked[4]!.clip[2]).toBeCloseTo(seal.width / 3, 6);

    // Asked for more pages per seal than 4 mm slices allow: refused, naming the limit.
    expect(() => planStraddle(pages, seal, { pagesPerSeal: widest + 1 })).toThrow(expect.objectContaining({
      code: 'straddle-needs-pages', fields: [expect.objectContaining({ field: 'straddlePagesPerSeal', message: `at most ${widest} for this seal` })],
    }));
  });
});
