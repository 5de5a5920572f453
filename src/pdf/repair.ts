import { PdfError } from '../errors.js';
import { decodeStreamData } from './filters.js';
import type { PdfLimits } from './limits.js';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from './objects.js';
import { isDelimiter, isWhitespace, PdfParser } from './parser.js';
import type { XrefEntry } from './xref.js';

export interface Reconstruction {
  /** Every object found: "N G obj" headers (the last one in the file wins) and members of object streams. */
  entries: Map<number, XrefEntry>;
  /** The last trailer naming a /Root, or one made up around a /Catalog object. */
  trailer: PdfDict;
  maxNum: number;
}

const isRegular = (c: number): boolean => !isWhitespace(c) && !isDelimiter(c);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Rebuilds the cross-reference information of a damaged file by scanning for "N G obj" headers,
 * the way other readers recover from wrong startxref or xref offsets. Only used after damage is found,
 * so it may look at the whole file.
 */
export function reconstructXref(bytes: Uint8Array, limits: PdfLimits): Reconstruction {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries = new Map<number, XrefEntry>();
  /** Every header's offset, ascending: an object found by scanning ends where the next one starts. */
  const headers: number[] = [];
  let maxNum = -1;
  for (let i = buf.indexOf('obj', 0, 'latin1'); i >= 0; i = buf.indexOf('obj', i + 3, 'latin1')) {
    if (i + 3 < buf.length && isRegular(buf[i + 3]!)) continue;
    let p = i - 1;
    if (p < 0 || !isWhitespace(buf[p]!)) continue;
    while (p >= 0 && isWhitespace(buf[p]!)) p--;
    let genEnd = p + 1;
    while (p >= 0 && isDigit(buf[p]!)) p--;
    if (p + 1 === genEnd || p < 0 || !isWhitespace(buf[p]!)) continue;
    const gen = Number(buf.toString('latin1', p + 1, genEnd));
    while (p >= 0 && isWhitespace(buf[p]!)) p--;
    genEnd = p + 1;
    while (p >= 0 && isDigit(buf[p]!)) p--;
    if (p + 1 === genEnd || genEnd - p > 11 || (p >= 0 && isRegular(buf[p]!))) continue;
    const num = Number(buf.toString('latin1', p + 1, genEnd));
    if (num > limits.maxObjects) continue;
    entries.set(num, { type: 'used', offset: p + 1, gen });
    headers.push(p + 1);
    if (num > maxNum) maxNum = num;
    if (entries.size > limits.maxObjects) {
      throw new PdfError('pdf-limit', `The PDF has more than ${limits.maxObjects} objects.`);
    }
  }

  let trailer: PdfDict | undefined;
  for (let i = buf.indexOf('trailer', 0, 'latin1'); i >= 0; ) {
    // Each candidate is parsed only up to the next one: thousands of "trailer(" must not each read
    // to the end of the file.
    const next = buf.indexOf('trailer', i + 7, 'latin1');
    try {
      const t = new PdfParser(bytes, i + 7, next < 0 ? bytes.length : next).parseObject();
      if (t instanceof PdfDict && t.get('Root') instanceof PdfRef) trailer = t;
    } catch {
      // a damaged trailer is just not a candidate
    }
    i = next;
  }

  const needObjStm = buf.indexOf('/ObjStm', 0, 'latin1') >= 0;
  if (needObjStm || !trailer) {
    const ends = new Map<number, number>(headers.map((h, k) => [h, headers[k + 1] ?? bytes.length]));
    // Bounded by the next header, so a file of unterminated objects costs a single pass, not one per object.
    const parser = (offset: number): PdfParser => new PdfParser(bytes, offset, ends.get(offset));
    const parse = (num: number): PdfValue | undefined => {
      const e = entries.get(num);
      if (e?.type !== 'used') return undefined;
      try {
        return parser(e.offset).parseIndirectObject(lengthOf).value;
      } catch {
        return undefined;
      }
    };
    const lengthOf = (r: PdfRef): number | undefined => {
      const e = entries.get(r.num);
      if (e?.type !== 'used') return undefined;
      try {
        const v = parser(e.offset).parseIndirectObject().value;
        return typeof v === 'number' ? v : undefined;
      } catch {
        return undefined;
      }
    };
    let catalog: number | undefined;
    let xrefTrailer: PdfDict | undefined;
    const compressed: [number, XrefEntry][] = [];
    for (const num of [...entries.keys()]) {
      const v = parse(num);
      const d = v instanceof PdfStream ? v.dict : v instanceof PdfDict ? v : undefined;
      if (!d) continue;
      if (d.type === 'Catalog') catalog = num;
      if (v instanceof PdfStream && d.type === 'XRef' && d.get('Root') instanceof PdfRef) xrefTrailer = d;
      if (v instanceof PdfStream && d.type === 'ObjStm') {
        try {
          const nums = objectStreamNumbers(v, limits);
          nums.forEach((n, index) => compressed.push([n, { type: 'compressed', stream: num, index, gen: 0 }]));
        } catch {
          // an unreadable object stream contributes nothing
        }
      }
    }
    for (const [n, e] of compressed) {
      if (entries.has(n) || n > limits.maxObjects) continue;
      entries.set(n, e);
      if (n > maxNum) maxNum = n;
    }
    trailer ??= xrefTrailer;
    if (!trailer && catalog !== undefined) trailer = new PdfDict({ Root: new PdfRef(catalog, 0) });
  }
  if (!trailer || entries.size === 0) {
    throw new PdfError('invalid-pdf', 'The PDF is damaged beyond repair: its document catalog cannot be found.');
  }
  return { entries, trailer, maxNum };
}

/** The object numbers listed in an object stream's header, in order. */
function objectStreamNumbers(s: PdfStream, limits: PdfLimits): number[] {
  return readObjectStreamHeader(decodeStreamData(s, limits, (v) => (v instanceof PdfRef ? undefined : v)), s.dict, limits).nums;
}

export interface ObjectStreamIndex {
  data: Uint8Array;
  nums: number[];
  /** Absolute offsets in `data` of each member object. */
  offsets: number[];
}

export function readObjectStreamHeader(data: Uint8Array, d: PdfDict, limits: PdfLimits): ObjectStreamIndex {
  const n = d.get('N');
  const first = d.get('First');
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > data.length) {
    throw new PdfError('invalid-pdf', 'The PDF is damaged: an object stream has an invalid /N or /First.');
  }
  if (n > limits.maxObjects || n * 4 > first + 4) {
    throw new PdfError('invalid-pdf', 'The PDF is damaged: an object stream declares more objects than it holds.');
  }
  const p = new PdfParser(data, 0, first);
  const nums: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    const num = p.parseObject();
    const off = p.parseObject();
    if (typeof num !== 'number' || typeof off !== 'number' || !Number.isInteger(num) || !Number.isInteger(off) || num < 0 || off < 0) {
      throw new PdfError('invalid-pdf', 'The PDF is damaged: an object stream has an invalid header.');
    }
    nums.push(num);
    offsets.push(first + off);
  }
  return { data, nums, offsets };
}
