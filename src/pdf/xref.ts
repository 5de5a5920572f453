import { PdfError } from '../errors.js';
import { decodeStreamData } from './filters.js';
import type { PdfLimits } from './limits.js';
import { PdfDict, PdfName, PdfRef, PdfStream, type PdfValue } from './objects.js';
import { isWhitespace, PdfParser } from './parser.js';

/** Where one object lives, as a cross-reference section says. */
export type XrefEntry =
  | { type: 'free'; gen: number }
  | { type: 'used'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number; gen: 0 };

export interface XrefSection {
  /** Offset of the section ("xref" keyword or the xref stream's "N G obj"). */
  offset: number;
  kind: 'table' | 'stream';
  entries: Map<number, XrefEntry>;
  trailer: PdfDict;
  /** Offset just past the section (after the trailer dictionary or the stream's endobj). */
  end: number;
  /** Highest object number with an entry, -1 when empty. */
  maxNum: number;
  /** A table whose /XRefStm stream's entries were merged in. */
  hybrid: boolean;
}

function damaged(message: string, pos: number): PdfError {
  return new PdfError('invalid-pdf', `The PDF is damaged: ${message} (at byte ${pos}).`);
}

function checkCount(n: number, limits: PdfLimits, pos: number): void {
  if (n > limits.maxObjects) {
    throw new PdfError('pdf-limit', `The PDF declares ${n} objects at byte ${pos}; at most ${limits.maxObjects} are accepted.`);
  }
}

/** Reads the cross-reference section (table or stream) that starts at `offset`. */
export function readXrefSection(bytes: Uint8Array, offset: number, limits: PdfLimits): XrefSection {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= bytes.length) {
    throw damaged('a cross-reference offset points outside the file', offset);
  }
  const p = new PdfParser(bytes, offset);
  if (p.acceptKeyword('xref')) return readTable(bytes, p, offset, limits);
  return readStream(p, offset, limits);
}

/** Scans an unsigned integer; returns -1 when there is none. Faster than the parser for big tables. */
function scanInt(bytes: Uint8Array, pos: number): [value: number, end: number] {
  let p = pos;
  let v = 0;
  while (p < bytes.length && bytes[p]! >= 0x30 && bytes[p]! <= 0x39 && p - pos < 16) v = v * 10 + bytes[p++]! - 0x30;
  return p === pos ? [-1, pos] : [v, p];
}

function skipWs(bytes: Uint8Array, pos: number): number {
  while (pos < bytes.length && isWhitespace(bytes[pos]!)) pos++;
  return pos;
}

function readTable(bytes: Uint8Array, p: PdfParser, offset: number, limits: PdfLimits): XrefSection {
  const entries = new Map<number, XrefEntry>();
  let maxNum = -1;
  let pos = p.pos;
  for (;;) {
    p.pos = pos;
    if (p.acceptKeyword('trailer')) break;
    let start: number, count: number;
    [start, pos] = scanInt(bytes, skipWs(bytes, pos));
    [count, pos] = scanInt(bytes, skipWs(bytes, pos));
    if (start < 0 || count < 0) throw damaged('a cross-reference table is malformed', pos);
    checkCount(start + count, limits, pos);
    checkCount(entries.size + count, limits, pos);
    for (let i = 0; i < count; i++) {
      let off: number, gen: number;
      [off, pos] = scanInt(bytes, skipWs(bytes, pos));
      [gen, pos] = scanInt(bytes, skipWs(bytes, pos));
      pos = skipWs(bytes, pos);
      const kind = bytes[pos++];
      if (off < 0 || gen < 0 || (kind !== 0x6e && kind !== 0x66)) {
        throw damaged('a cross-reference table entry is malformed', pos);
      }
      const num = start + i;
      if (entries.has(num)) continue;
      entries.set(num, kind === 0x6e ? { type: 'used', offset: off, gen } : { type: 'free', gen });
      if (num > maxNum) maxNum = num;
    }
  }
  const trailer = p.parseObject();
  if (!(trailer instanceof PdfDict)) throw damaged('the trailer is not a dictionary', p.pos);
  return { offset, kind: 'table', entries, trailer, end: p.pos, maxNum, hybrid: false };
}

function intOf(v: PdfValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function readStream(p: PdfParser, offset: number, limits: PdfLimits): XrefSection {
  const obj = p.parseIndirectObject();
  const s = obj.value;
  if (!(s instanceof PdfStream) || !(s.dict.get('Type') instanceof PdfName) || s.dict.type !== 'XRef') {
    throw damaged('a cross-reference offset does not point to a cross-reference table or stream', offset);
  }
  const d = s.dict;
  const size = intOf(d.get('Size'));
  if (size === undefined) throw damaged('a cross-reference stream has no valid /Size', offset);
  checkCount(size, limits, offset);
  const wv = d.get('W');
  const w = Array.isArray(wv) ? wv.map(intOf) : [];
  if (w.length !== 3 || w.some((x) => x === undefined || x > 8)) {
    throw damaged('a cross-reference stream has an invalid /W', offset);
  }
  const [w0, w1, w2] = w as [number, number, number];
  const rowLen = w0 + w1 + w2;
  if (rowLen === 0) throw damaged('a cross-reference stream has an invalid /W', offset);
  const iv = d.get('Index');
  const index = Array.isArray(iv) ? iv.map(intOf) : [0, size];
  if (index.length % 2 !== 0 || index.some((x) => x === undefined)) {
    throw damaged('a cross-reference stream has an invalid /Index', offset);
  }
  // Refs inside an xref stream's dictionary cannot be resolved yet; the spec requires direct values.
  const data = decodeStreamData(s, limits, (v) => (v instanceof PdfRef ? undefined : v));
  const entries = new Map<number, XrefEntry>();
  let maxNum = -1;
  let pos = 0;
  const field = (width: number, dflt: number): number => {
    if (width === 0) return dflt;
    let v = 0;
    for (let k = 0; k < width; k++) v = v * 256 + data[pos++]!;
    return v;
  };
  for (let k = 0; k < index.length; k += 2) {
    const start = index[k]!;
    const count = index[k + 1]!;
    checkCount(start + count, limits, offset);
    checkCount(entries.size + count, limits, offset);
    for (let i = 0; i < count; i++) {
      if (pos + rowLen > data.length) break; // truncated data: keep the complete rows, as other readers do
      const type = field(w0, 1);
      const f2 = field(w1, 0);
      const f3 = field(w2, 0);
      const num = start + i;
      if (entries.has(num)) continue;
      let e: XrefEntry;
      if (type === 0) e = { type: 'free', gen: f3 };
      else if (type === 1) e = { type: 'used', offset: f2, gen: f3 };
      else if (type === 2) e = { type: 'compressed', stream: f2, index: f3, gen: 0 };
      else continue; // unknown types are references to null (ISO 32000-2, 7.5.8.3)
      entries.set(num, e);
      if (num > maxNum) maxNum = num;
    }
  }
  return { offset, kind: 'stream', entries, trailer: d, end: p.pos, maxNum, hybrid: false };
}
