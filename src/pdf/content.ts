import { isInteger, isName, type PdfValue } from './objects.js';
import { DAMAGED, PdfKeyword, PdfParser, isDelimiter, isWhitespace } from './parser.js';

/** One operator of a content stream with the operands that preceded it. */
export interface ContentOp {
  op: string;
  operands: PdfValue[];
}

/** Real content streams never stack this many operands; hostile ones might, to grow memory. */
const MAX_OPERANDS = 64;

/**
 * Splits a decoded content stream into operators. Damaged content is skipped byte by byte rather
 * than rejected, as viewers do: a stamp must still find its anchor in a page that renders.
 * Inline images (BI … ID data EI) are skipped whole, so their binary data is never read as operators.
 */
export function* contentOps(data: Uint8Array): Generator<ContentOp> {
  const p = new PdfParser(data);
  let operands: PdfValue[] = [];
  while (!p.atEnd) {
    const at = p.pos;
    const c = data[at];
    if (c === 0x29 /* ) */ || c === 0x3e /* > */ || c === 0x5d /* ] */) {
      // A closing delimiter cannot start a token: skip it without the cost of an exception, as a
      // hostile stream may hold hundreds of thousands of them.
      p.pos++;
      operands = [];
      continue;
    }
    const v = p.parseTolerant();
    if (v === DAMAGED) {
      operands = [];
      continue;
    }
    if (!(v instanceof PdfKeyword)) {
      if (operands.length < MAX_OPERANDS) operands.push(v);
      continue;
    }
    if (v.word === 'BI') {
      skipInlineImage(p, data);
      operands = [];
      continue;
    }
    yield { op: v.word, operands };
    operands = [];
  }
}

/** Moves the parser past an inline image: its dictionary, "ID", the data and "EI". */
function skipInlineImage(p: PdfParser, data: Uint8Array): void {
  const entries: PdfValue[] = [];
  for (;;) {
    if (p.atEnd) return;
    const v = p.parseTolerant();
    if (v === DAMAGED) continue;
    if (v instanceof PdfKeyword) {
      if (v.word === 'ID') break;
      if (v.word === 'EI') return; // an image without data
      continue;
    }
    if (entries.length < MAX_OPERANDS) entries.push(v);
  }
  // PDF 2.0 lets writers give the data length (/L or /Length): the only unambiguous end.
  let length: number | undefined;
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const k = entries[i];
    if ((isName(k, 'L') || isName(k, 'Length')) && isInteger(entries[i + 1])) length = entries[i + 1] as number;
  }
  // One whitespace byte separates ID from the data.
  let pos = p.pos + 1;
  if (length !== undefined && length >= 0) {
    const after = pos + length;
    const q = new PdfParser(data, Math.min(after, data.length));
    if (q.acceptKeyword('EI')) {
      p.pos = q.pos;
      return;
    }
  }
  // Otherwise the data ends at the first "EI" standing alone between whitespace (or the end).
  for (; pos + 1 < data.length; pos++) {
    if (
      data[pos] === 0x45 /* E */ &&
      data[pos + 1] === 0x49 /* I */ &&
      isWhitespace(data[pos - 1]!) &&
      (pos + 2 >= data.length || isWhitespace(data[pos + 2]!) || isDelimiter(data[pos + 2]!))
    ) {
      p.pos = pos + 2;
      return;
    }
  }
  p.pos = data.length;
}
