import { existsSync, readFileSync } from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CJK_FONT } from '../src/pdf/font.js';
import { TrueTypeTables } from '../src/pdf/font-subset.js';

/** A font with composite glyphs (accented Latin letters built from a base letter and an accent). */
const COMPOSITE_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** Each subset glyph (by its new id) has the outline and advance of the original glyph it was copied from. */
function expectSameGlyphs(path: string, text: string): void {
  const bytes = readFileSync(path);
  const original = fontkit.create(bytes);
  const gids = [0, ...new Set([...text].map((ch) => original.glyphForCodePoint(ch.codePointAt(0)!).id))];
  const subset = fontkit.create(new TrueTypeTables(bytes).subset(gids));
  gids.forEach((gid, cid) => {
    const [from, to] = [original.getGlyph(gid), subset.getGlyph(cid)];
    expect(to.path.toSVG(), `glyph ${gid}`).toBe(from.path.toSVG());
    expect(to.advanceWidth).toBe(from.advanceWidth);
  });
  expect(subset.unitsPerEm).toBe(original.unitsPerEm);
}

describe('TrueType subset', () => {
  it('copies the outlines and advances of the glyphs asked for, in the order given', () => {
    expectSameGlyphs(DEFAULT_CJK_FONT, '营业执照统一社会信用代码北京星河数字科技有限公司0123456789（）ABC');
  });

  it.skipIf(!existsSync(COMPOSITE_FONT))('adds the components of composite glyphs and renumbers the references', () => {
    expectSameGlyphs(COMPOSITE_FONT, 'éàüÅçñ Zoë');
    const bytes = readFileSync(COMPOSITE_FONT);
    const original = fontkit.create(bytes);
    const e = original.glyphForCodePoint('é'.codePointAt(0)!).id;
    // Only .notdef and é asked for: its base letter and accent come after them.
    expect(fontkit.create(new TrueTypeTables(bytes).subset([0, e])).numGlyphs).toBeGreaterThan(2);
  });

  it('sets head.checkSumAdjustment so that the whole file sums to 0xB1B0AFBA, and each table record to its table', () => {
    const bytes = readFileSync(DEFAULT_CJK_FONT);
    const original = fontkit.create(bytes);
    const gids = [0, ...new Set([...'营业执照统一社会信用代码'].map((ch) => original.glyphForCodePoint(ch.codePointAt(0)!).id))];
    const file = new TrueTypeTables(bytes).subset(gids);
    const sum = (from: number, to: number): number => {
      let total = 0;
      for (let i = from; i < to; i += 4) total = (total + (i + 4 <= file.length ? file.readUInt32BE(i) : Buffer.concat([file.subarray(i), Buffer.alloc(4)]).readUInt32BE(0))) >>> 0;
      return total;
    };
    expect(sum(0, file.length)).toBe(0xb1b0afba);
    for (let i = 0; i < file.readUInt16BE(4); i++) {
      const [tag, checksum, offset, length] = [file.toString('latin1', 12 + i * 16, 16 + i * 16), file.readUInt32BE(16 + i * 16), file.readUInt32BE(20 + i * 16), file.readUInt32BE(24 + i * 16)];
      const adjustment = tag === 'head' ? file.readUInt32BE(offset + 8) : 0;
      expect((sum(offset, offset + length) - adjustment) >>> 0, tag).toBe(checksum);
    }
  });
});
