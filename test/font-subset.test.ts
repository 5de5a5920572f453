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
});
