import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SubsetFont } from '../src/pdf/font.js';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { placeAt, placedAppearance, placementOps } from '../src/stamp/placement.js';
import { DEFAULT_SEAL_DIAMETER, buildSealAppearance, sealContent, type SealSpec } from '../src/stamp/seal.js';
import { TemplateRecorder } from '../src/stamp/template.js';
import { MM } from '../src/stamp/units.js';
import { basePdf, isRed, isWhite, pdftotext, qpdfCheck, render, stamp } from './stamp-support.js';

const ORG = '某某市某某区行政审批服务局';
const TITLE = '行政审批专用章';
const CODE = '11330105002500287C';
const SPEC: SealSpec = { organisation: ORG, title: TITLE, code: CODE };
const D = DEFAULT_SEAL_DIAMETER;

/** A4 page with the seal drawn in the page content, centred at (cx, cy) points. */
async function sealOnPage(spec: SealSpec, cx = 300, cy = 400): Promise<Buffer> {
  const template = await buildSealAppearance(spec);
  const base = basePdf([{}]);
  const pages = PdfReader.load(base).pages();
  return stamp(base, (s) => {
    const form = template.emit(s.writer);
    const p = placeAt(pages, { page: 1, x: cx, y: cy, unit: 'pt' }, template);
    s.drawOnPage(1, { Seal: form }, placementOps(p, 'Seal'));
  });
}

describe('vector seal', () => {
  it('draws the official layout: red ring and star, white outside, lettering extractable', async () => {
    const pdf = await sealOnPage(SPEC);
    expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');

    const img = render(pdf);
    const R = D / 2;
    // Ring: 1 mm wide at the outer edge, sampled at the four compass points.
    const ring = R - 0.5 * MM;
    for (const [dx, dy] of [[ring, 0], [-ring, 0], [0, ring], [0, -ring]] as const) {
      expect(isRed(img.at(300 + dx, 400 + dy)), `ring at ${dx},${dy}`).toBe(true);
    }
    // Star: centre and the top arm are ink; straight down between the legs is not.
    expect(isRed(img.at(300, 400))).toBe(true);
    expect(isRed(img.at(300, 400 + 4.5 * MM))).toBe(true);
    expect(isWhite(img.at(300, 400 - 4.5 * MM))).toBe(true);
    // Just outside the circle and inside between ring and text: paper.
    expect(isWhite(img.at(300 + R + 2, 400))).toBe(true);
    expect(isWhite(img.at(300, 400 + R + 2))).toBe(true);
    expect(isWhite(img.at(300 + R * 0.7, 400 + R * 0.7 + 8))).toBe(true);

    const text = pdftotext(pdf);
    expect(text).toContain(ORG);
    expect(text).toContain(TITLE);
    expect(text).toContain(CODE);
  });

  it('embeds a small subset font and a compressed content stream', async () => {
    const template = await buildSealAppearance(SPEC);
    const objects: PdfValue[] = [];
    template.emit({ add: (v) => (objects.push(v), new PdfRef(objects.length)) });
    const streams = objects.filter((o): o is PdfStream => o instanceof PdfStream);
    const fontFile = streams.find((s) => s.dict.has('Length1'))!;
    expect(fontFile).toBeDefined();
    // ~20 distinct glyphs: a few kB, against 5 MB for the whole font.
    expect(fontFile.data.length).toBeLessThan(60_000);
    expect(inflateSync(fontFile.data).length).toBe(fontFile.dict.get('Length1'));
    const form = streams.at(-1)!;
    expect(form.dict.get('BBox')).toEqual([0, 0, D, D]);
    const content = inflateSync(form.data).toString('latin1');
    expect(content).toMatch(/ Tj/);
  });

  it('re-emits a template without re-encoding: fresh references, shared stream data', async () => {
    const template = await buildSealAppearance(SPEC);
    const a: PdfValue[] = [];
    const b: PdfValue[] = [];
    const ra = template.emit({ add: (v) => (a.push(v), new PdfRef(100 + a.length)) });
    const rb = template.emit({ add: (v) => (b.push(v), new PdfRef(500 + b.length)) });
    expect(ra.num).toBe(100 + a.length);
    expect(rb.num).toBe(500 + b.length);
    expect(a.length).toBe(b.length);
    a.forEach((v, i) => {
      if (v instanceof PdfStream) expect((b[i] as PdfStream).data).toBe(v.data);
    });
    // Internal references point into the new numbering of each emission.
    const refsIn = (v: PdfValue, out: PdfRef[] = []): PdfRef[] => {
      if (v instanceof PdfRef) out.push(v);
      else if (Array.isArray(v)) v.forEach((x) => refsIn(x, out));
      else if (v instanceof PdfStream) refsIn(v.dict, out);
      else if (v instanceof PdfDict) for (const [, x] of v.entries()) refsIn(x, out);
      return out;
    };
    for (const r of refsIn(b.at(-1)!)) expect(r.num).toBeGreaterThan(500);
  });

  it('works as an annotation appearance and stamps twice with one emitted seal', async () => {
    const template = await buildSealAppearance(SPEC);
    const base = basePdf([{}, {}]);
    const pages = PdfReader.load(base).pages();
    const pdf = stamp(base, (s) => {
      const form = template.emit(s.writer);
      for (const page of [1, 2]) {
        const p = placeAt(pages, { page, x: 150, y: 100, unit: 'mm' }, template);
        s.annotate(page, p.rect, placedAppearance(s.writer, form, p));
      }
    });
    expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');
    expect(pdf.toString('latin1').match(/\/FontFile2/g)).toHaveLength(1);
    for (const page of [1, 2]) {
      const img = render(pdf, page);
      expect(isRed(img.at(150 * MM, 100 * MM))).toBe(true);
      expect(isRed(img.at(150 * MM + D / 2 - 1.5, 100 * MM))).toBe(true);
      expect(isWhite(img.at(150 * MM + D / 2 + 2, 100 * MM))).toBe(true);
    }
  });

  it('adapts the lettering to the name length and the diameter', () => {
    const long = sealContent({ organisation: '某某省某某市某某县人民政府政务服务管理办公室', title: TITLE, diameter: 40 * MM }, SubsetFont.load());
    const short = sealContent({ organisation: '某某县人民政府' }, SubsetFont.load());
    const sizes = (c: string): number[] => [...c.matchAll(/\/F1 ([\d.]+) Tf/g)].map((m) => Number(m[1]));
    const scales = (c: string): number[] => [...c.matchAll(/([\d.]+) Tz/g)].map((m) => Number(m[1]));
    // Long names are condensed first; short names keep full-width characters.
    expect(scales(long)[0]).toBeLessThan(80);
    expect(scales(short)[0]).toBe(100);
    expect(sizes(short)[0]).toBeGreaterThanOrEqual(sizes(long)[0]!);
    // Every glyph of the upper arc stays inside the ring: its origin lies within the inner circle.
    const R = (40 * MM) / 2;
    for (const m of long.matchAll(/(-?[\d.]+) (-?[\d.]+) Tm/g)) {
      expect(Math.hypot(Number(m[1]) - R, Number(m[2]) - R)).toBeLessThan(R - 1 * MM);
    }
  });

  it('names the characters the font lacks and rejects a bad spec', async () => {
    await expect(buildSealAppearance({ organisation: '某某局😀' })).rejects.toMatchObject({
      code: 'font-missing-glyphs',
      kind: 'unprocessable',
      message: expect.stringContaining('U+1F600'),
    });
    await expect(buildSealAppearance({ organisation: '  ' })).rejects.toMatchObject({ code: 'invalid-seal-spec', kind: 'bad-request' });
    await expect(buildSealAppearance({ organisation: '某某局', diameter: 5 })).rejects.toMatchObject({
      fields: [{ field: 'diameter', message: expect.any(String) }],
    });
  });

  it('leaves the template recorder refs out of the emitted document', () => {
    const rec = new TemplateRecorder();
    const child = rec.add(new PdfDict({ A: 1 }));
    const root = rec.add(new PdfDict({ Kid: child, Outside: new PdfRef(7) }));
    const out: PdfValue[] = [];
    const r = rec.finish(root, 1, 1).emit({ add: (v) => (out.push(v), new PdfRef(40 + out.length)) });
    expect(r.num).toBe(42);
    expect((out[1] as PdfDict).get('Kid')).toEqual(new PdfRef(41));
    expect((out[1] as PdfDict).get('Outside')).toEqual(new PdfRef(7));
  });
});
