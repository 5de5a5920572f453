import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wrapText } from '../src/licences/wrap.js';

/** Monospace-ish measure: CJK and full-width characters are 1 em, everything else half an em (10 pt text). */
const measure = (s: string): number => [...s].reduce((w, c) => w + (/[\u2E80-\uFFEF]/.test(c) ? 10 : 5), 0);

describe('line wrapping', () => {
  it('breaks CJK text between any characters, and Latin text between words', () => {
    expect(wrapText('一般项目技术服务', 40, measure)).toEqual(['一般项目', '技术服务']);
    expect(wrapText('Room 1201 Tower A', 50, measure)).toEqual(['Room 1201 ', 'Tower A']);
  });

  it('keeps closing punctuation off the start of a line and opening brackets off its end', () => {
    expect(wrapText('技术服务；软件开发', 40, measure)).toEqual(['技术服', '务；软件', '开发']);
    expect(wrapText('技术（开发）', 30, measure)).toEqual(['技术', '（开', '发）']);
  });

  it('splits a word longer than a line by character', () => {
    expect(wrapText('91110000802100433B', 50, measure)).toEqual(['9111000080', '2100433B']);
  });

  it('always joins back to the input, with no line wider than the limit unless a single character is', () => {
    const text = fc.array(fc.constantFrom(...'技术服务；，。（）、ABC xyz 123'), { maxLength: 200 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 30, max: 300 }), (t, max) => {
        const lines = wrapText(t, max, measure);
        return lines.join('') === t && lines.every((l) => measure(l.trimEnd()) <= max || [...l.trimEnd()].length === 1);
      }),
      { numRuns: 1000 },
    );
  });
});
