/**
 * Line breaking for licence values that mix Chinese and Latin text: a line may break after any CJK
 * character but only between Latin words, and the customary CJK rules (禁则) keep closing punctuation off
 * the start of a line and opening punctuation off its end. The lines concatenate back to the input exactly:
 * a space at a break stays at the end of its line.
 */

/** Width of a string in points at the size being laid out. */
export type MeasureText = (text: string) => number;

const WIDE = '\\u2E80-\\u303F\\u3040-\\u9FFF\\uF900-\\uFAFF\\uFE30-\\uFE4F\\uFF00-\\uFFEF\\u{20000}-\\u{3134F}';
/** A Latin word with its trailing spaces, one wide character with its trailing spaces, or leading spaces. */
const UNIT = new RegExp(`[^\\s${WIDE}]+\\s*|[${WIDE}]\\s*|\\s+`, 'gu');
const NO_START = new Set([...'，。、；：？！）》」』】〕〉…·％”’,.;:?!)]}%']);
const NO_END = new Set([...'（《「『【〔〈“‘([{']);

const first = (unit: string): string => [...unit][0]!;

/** Breaks `text` into lines no wider than `maxWidth` (a unit wider than a whole line is split by character). */
export function wrapText(text: string, maxWidth: number, measure: MeasureText): string[] {
  const units: string[] = [];
  for (const unit of text.match(UNIT) ?? []) {
    if (measure(unit.trimEnd()) <= maxWidth) units.push(unit);
    else units.push(...unit); // an over-long word: fall back to character breaks
  }
  const lines: string[][] = [];
  let line: string[] = [];
  const fits = (parts: string[]): boolean => measure(parts.join('').trimEnd()) <= maxWidth;
  for (const unit of units) {
    if (line.length === 0 || fits([...line, unit])) {
      line.push(unit);
      continue;
    }
    // Move units down while the new line would start with closing punctuation or this one ends with an
    // opener, as long as the moved units still fit on the new line.
    let carried = [unit];
    let keep = line.length;
    while (keep > 1 && (NO_START.has(first(carried[0]!)) || NO_END.has(first(line[keep - 1]!)))) {
      const next = [line[keep - 1]!, ...carried];
      if (!fits(next)) break;
      carried = next;
      keep--;
    }
    lines.push(line.slice(0, keep));
    line = carried;
  }
  if (line.length > 0) lines.push(line);
  return lines.map((l) => l.join(''));
}
