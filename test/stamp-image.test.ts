import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PdfRef, PdfStream, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { buildImageSealAppearance, decodePng } from '../src/stamp/image.js';
import { placeAt, placedAppearance } from '../src/stamp/placement.js';
import { MM } from '../src/stamp/units.js';
import { basePdf, encodePng, isRed, isWhite, qpdfCheck, render, stamp } from './stamp-support.js';

/** A 64×64 RGBA impression: an opaque red disc of radius 24 px, fully transparent around it. */
function discPng(filters: number[] = [0, 1, 2, 3, 4]): Buffer {
  const n = 64;
  const px = new Uint8Array(n * n * 4);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const inside = Math.hypot(x + 0.5 - 32, y + 0.5 - 32) < 24;
      px.set(inside ? [220, 20, 30, 255] : [0, 0, 0, 0], (y * n + x) * 4);
    }
  }
  return encodePng(n, n, 6, px, { filters });
}

describe('PNG impression', () => {
  it('decodes every filter type to the same pixels', () => {
    const plain = decodePng(discPng([0]));
    for (const f of [1, 2, 3, 4]) {
      const d = decodePng(discPng([f]));
      expect(Buffer.from(d.pixels).equals(Buffer.from(plain.pixels)), `filter ${f}`).toBe(true);
      expect(Buffer.from(d.alpha!).equals(Buffer.from(plain.alpha!))).toBe(true);
    }
    expect(plain.colors).toBe(3);
    expect([...plain.pixels.subarray((32 * 64 + 32) * 3, (32 * 64 + 32) * 3 + 3)]).toEqual([220, 20, 30]);
    expect(plain.alpha![0]).toBe(0);
    expect(plain.alpha![32 * 64 + 32]).toBe(255);
    // Gray+alpha and gray are taken too.
    const ga = decodePng(encodePng(2, 1, 4, new Uint8Array([10, 255, 200, 0]), { filters: [1] }));
    expect(ga).toMatchObject({ width: 2, height: 1, colors: 1 });
    expect([...ga.pixels, ...ga.alpha!]).toEqual([10, 200, 255, 0]);
  });

  it('rejects PNG variants it does not handle, saying what to do', () => {
    const cases: [Buffer, RegExp][] = [
      [encodePng(1, 1, 3, new Uint8Array([0])), /palette.*8-bit RGBA/],
      [encodePng(1, 1, 6, new Uint8Array(8), { bitDepth: 16 }), /16-bit/],
      [encodePng(1, 1, 6, new Uint8Array(4), { interlace: 1 }), /interlaced/],
      [Buffer.from('GIF89a....'), /not a PNG/],
      [discPng().subarray(0, 60), /truncated|no image/],
    ];
    for (const [png, msg] of cases) {
      expect(() => decodePng(png)).toThrow(msg);
      try {
        decodePng(png);
      } catch (e) {
        expect(e).toMatchObject({ code: 'invalid-seal-image', kind: 'unprocessable' });
      }
    }
  });

  it('builds Image + SMask + Form objects of the requested size', () => {
    const t = buildImageSealAppearance(discPng(), { width: 40 * MM });
    expect(t.width).toBeCloseTo(40 * MM);
    expect(t.height).toBeCloseTo(40 * MM);
    const objs: PdfValue[] = [];
    t.emit({ add: (v) => (objs.push(v), new PdfRef(objs.length)) });
    const [mask, image] = objs as PdfStream[];
    expect(mask!.dict.get('ColorSpace')).toMatchObject({ name: 'DeviceGray' });
    expect(image!.dict.get('SMask')).toEqual(new PdfRef(1));
    expect(image!.dict.get('ColorSpace')).toMatchObject({ name: 'DeviceRGB' });
    expect(inflateSync(image!.data).length).toBe(64 * 64 * 3);
  });

  it('renders opaque areas red and lets the page show through transparent ones', () => {
    const t = buildImageSealAppearance(discPng(), { width: 64, height: 64 });
    // A black square under the impression's transparent corner: it must stay visible.
    const base = basePdf([{ content: '0 g 200 300 12 12 re f\n' }]);
    const pages = PdfReader.load(base).pages();
    const pdf = stamp(base, (s) => {
      const form = t.emit(s.writer);
      const p = placeAt(pages, { page: 1, x: 232, y: 332, unit: 'pt' }, t);
      s.annotate(1, p.rect, placedAppearance(s.writer, form, p));
    });
    expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');
    const img = render(pdf);
    expect(isRed(img.at(232, 332))).toBe(true); // the disc's centre
    expect(isRed(img.at(232 + 20, 332))).toBe(true);
    expect(img.at(204, 304)).toEqual([0, 0, 0]); // the black square under the transparent corner
    expect(isWhite(img.at(232 + 30, 332 + 30))).toBe(true); // transparent corner over paper
    expect(isWhite(img.at(232 + 40, 332))).toBe(true); // outside the impression
  });

  it('rejects a non-positive size', () => {
    expect(() => buildImageSealAppearance(discPng(), { width: 0 })).toThrow(expect.objectContaining({ code: 'invalid-seal-spec' }));
  });
});
