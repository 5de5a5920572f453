import { CMap, RangeTable } from './cmap.js';
import { baseEncoding, glyphToUnicode, standardFontMetrics, type BaseEncoding } from './font-tables.js';
import { PdfDict, PdfName, PdfStream, isArray, isName, isNumber, type PdfValue } from './objects.js';

/** What text extraction needs from a PDF: following references and decoding streams. */
export interface PdfObjectSource {
  resolve(v: PdfValue | undefined): PdfValue | undefined;
  decodeStream(stream: PdfStream): Uint8Array;
}

/** A font as far as reading text goes: how bytes split into codes, what each code says and how wide it is. */
export interface TextFont {
  nextCode(data: Uint8Array, pos: number): { code: number; bytes: number };
  /** The code's text; U+FFFD when the font gives no way to know it. */
  unicode(code: number, bytes: number): string;
  /** Horizontal advance in text space units at font size 1. */
  width(code: number, bytes: number): number;
  /** Glyph box top and bottom at font size 1 (descent negative). */
  ascent: number;
  descent: number;
  /** For fonts in vertical writing mode (WMode 1): the code's vertical metrics. */
  vertical?: (code: number, bytes: number) => VerticalMetrics;
}

/**
 * A vertical-mode glyph at font size 1: its advance (w1, negative is down) and its origin (vx, vy)
 * measured in the horizontal glyph's space.
 */
export interface VerticalMetrics {
  w1: number;
  vx: number;
  vy: number;
}

const UNKNOWN = '\ufffd';
/** Poppler's defaults when a font gives no usable ascent/descent; matching them keeps our boxes comparable. */
const DEFAULT_ASCENT = 0.95;
const DEFAULT_DESCENT = -0.35;
/** Widths read from one /W array; more is hostile, and the part read still gives widths. */
const MAX_W_ITEMS = 100_000;

export function loadFont(src: PdfObjectSource, fontDict: PdfDict): TextFont {
  return isName(fontDict.get('Subtype'), 'Type0') ? loadCompositeFont(src, fontDict) : loadSimpleFont(src, fontDict);
}

/** A font to read with when the named font is missing: one byte per code, no text. */
export const MISSING_FONT: TextFont = {
  nextCode: (data, pos) => ({ code: data[pos]!, bytes: 1 }),
  unicode: () => UNKNOWN,
  width: () => 0.5,
  ascent: DEFAULT_ASCENT,
  descent: DEFAULT_DESCENT,
};

function get(src: PdfObjectSource, d: PdfDict | undefined, key: string): PdfValue | undefined {
  return src.resolve(d?.get(key));
}

function getDict(src: PdfObjectSource, d: PdfDict | undefined, key: string): PdfDict | undefined {
  const v = get(src, d, key);
  if (v instanceof PdfDict) return v;
  return v instanceof PdfStream ? v.dict : undefined;
}

function toUnicodeMap(src: PdfObjectSource, fontDict: PdfDict): CMap | undefined {
  const s = get(src, fontDict, 'ToUnicode');
  return s instanceof PdfStream ? CMap.parse(src.decodeStream(s)) : undefined;
}

/** Ascent/descent from a font descriptor, with poppler's sanity checks against broken values. */
function glyphHeights(src: PdfObjectSource, descriptor: PdfDict | undefined, fallback?: { ascent: number; descent: number }) {
  let ascent = fallback ? fallback.ascent / 1000 : DEFAULT_ASCENT;
  let descent = fallback ? fallback.descent / 1000 : DEFAULT_DESCENT;
  const a = get(src, descriptor, 'Ascent');
  if (isNumber(a)) {
    const t = Math.abs(a) / 1000;
    if (t !== 0 && t < 3) ascent = t;
  }
  const d = get(src, descriptor, 'Descent');
  if (isNumber(d)) {
    const t = -Math.abs(d) / 1000;
    if (t !== 0 && t > -3) descent = t;
  }
  return { ascent, descent };
}

function loadSimpleFont(src: PdfObjectSource, fontDict: PdfDict): TextFont {
  const toUnicode = toUnicodeMap(src, fontDict);
  const baseFont = get(src, fontDict, 'BaseFont');
  const std = baseFont instanceof PdfName ? standardFontMetrics(baseFont.name.replace(/^[A-Z]{6}\+/, '')) : undefined;
  const descriptor = getDict(src, fontDict, 'FontDescriptor');
  const encoding = simpleEncoding(src, fontDict);

  // Type 3 glyphs live in their own glyph space; everything else is in 1/1000 em.
  const fontMatrix = get(src, fontDict, 'FontMatrix');
  const type3 = isName(fontDict.get('Subtype'), 'Type3');
  const scale = type3 && isArray(fontMatrix) && isNumber(fontMatrix[0]) ? fontMatrix[0] : 0.001;
  const widths = get(src, fontDict, 'Widths');
  const firstChar = get(src, fontDict, 'FirstChar');
  const missing = get(src, descriptor, 'MissingWidth');
  const first = isNumber(firstChar) ? firstChar : 0;

  const unicode = (code: number): string => toUnicode?.unicode(code, 1) ?? (encoding[code] || UNKNOWN);
  return {
    nextCode: (data, pos) => ({ code: data[pos]!, bytes: 1 }),
    unicode,
    width(code) {
      if (isArray(widths)) {
        const w = src.resolve(widths[code - first]);
        if (isNumber(w)) return w * scale;
      }
      // A standard 14 font may omit /Widths; its AFM widths stand in (an average for unknown glyphs).
      if (std) return (std.width(unicode(code)) ?? 500) * 0.001;
      return (isNumber(missing) ? missing : 500) * scale;
    },
    ...glyphHeights(src, descriptor, std),
  };
}

const BASE_ENCODINGS: string[] = ['WinAnsiEncoding', 'MacRomanEncoding', 'StandardEncoding'] satisfies BaseEncoding[];

/** The 256 characters of a simple font's encoding: base encoding plus /Differences. */
function simpleEncoding(src: PdfObjectSource, fontDict: PdfDict): string[] {
  const enc = get(src, fontDict, 'Encoding');
  const named = enc instanceof PdfDict ? get(src, enc, 'BaseEncoding') : enc;
  // Without a named base, the font program's built-in encoding applies; we cannot read font
  // programs, and StandardEncoding is what most Latin Type 1 programs have built in.
  const base = isName(named) && BASE_ENCODINGS.includes(named.name) ? (named.name as BaseEncoding) : 'StandardEncoding';
  const table = [...baseEncoding(base)];
  const diffs = enc instanceof PdfDict ? get(src, enc, 'Differences') : undefined;
  if (isArray(diffs)) {
    let code = 0;
    for (const item of diffs) {
      const v = src.resolve(item);
      if (isNumber(v)) code = v;
      else if (isName(v)) {
        if (code >= 0 && code < 256) table[code] = glyphToUnicode(v.name) ?? '';
        code++;
      }
    }
  }
  return table;
}

function loadCompositeFont(src: PdfObjectSource, fontDict: PdfDict): TextFont {
  const toUnicode = toUnicodeMap(src, fontDict);
  const descendants = get(src, fontDict, 'DescendantFonts');
  const cidFont = isArray(descendants) ? src.resolve(descendants[0]) : undefined;
  const cidDict = cidFont instanceof PdfDict ? cidFont : undefined;
  const descriptor = getDict(src, cidDict, 'FontDescriptor');

  const enc = get(src, fontDict, 'Encoding');
  const encName = isName(enc) ? enc.name : undefined;
  const embedded = enc instanceof PdfStream ? CMap.parse(src.decodeStream(enc)) : undefined;
  const identity = encName === undefined ? false : /^Identity-[HV]$/.test(encName);
  // Predefined Unicode CMaps use the UTF-16 code itself as the text.
  const unicodeCodes = encName !== undefined && /^Uni.*-(UCS2|UTF16)-[HV]$/.test(encName);
  const splitter = embedded?.codespaces.length ? embedded : !identity && toUnicode?.codespaces.length ? toUnicode : undefined;

  const widths = cidMetrics(src, get(src, cidDict, 'W'), 1);
  const dwValue = get(src, cidDict, 'DW');
  const dw = isNumber(dwValue) ? dwValue : 1000;
  const cidOf = (code: number, bytes: number) => (identity ? code : embedded?.cid(code, bytes));
  const width = (code: number, bytes: number): number => {
    const cid = cidOf(code, bytes);
    return ((cid === undefined ? undefined : widths(cid)?.[0]) ?? dw) / 1000;
  };

  const vertical =
    encName !== undefined
      ? encName.endsWith('-V')
      : embedded?.wmode === 1 || (enc instanceof PdfStream && enc.dict.get('WMode') === 1);
  let verticalOf: TextFont['vertical'];
  if (vertical) {
    const w2 = cidMetrics(src, get(src, cidDict, 'W2'), 3);
    const dw2 = get(src, cidDict, 'DW2');
    const [vy0, w10] = isArray(dw2) && isNumber(dw2[0]) && isNumber(dw2[1]) ? [dw2[0], dw2[1]] : [880, -1000];
    verticalOf = (code, bytes) => {
      const cid = cidOf(code, bytes);
      const m = cid === undefined ? undefined : w2(cid);
      // Without a /W2 entry the vertical origin is centred on the horizontal advance (§9.7.4.3).
      if (!m) return { w1: w10 / 1000, vx: width(code, bytes) / 2, vy: vy0 / 1000 };
      return { w1: m[0]! / 1000, vx: m[1]! / 1000, vy: m[2]! / 1000 };
    };
  }

  return {
    nextCode: (data, pos) => (splitter ? splitter.nextCode(data, pos, 2) : twoBytes(data, pos)),
    unicode(code, bytes) {
      const t = toUnicode?.unicode(code, bytes);
      if (t !== undefined) return t;
      if (unicodeCodes && code < 0x10000) return String.fromCharCode(code);
      return UNKNOWN;
    },
    width,
    vertical: verticalOf,
    ...glyphHeights(src, descriptor),
  };
}

function twoBytes(data: Uint8Array, pos: number): { code: number; bytes: number } {
  if (pos + 1 >= data.length) return { code: data[pos]!, bytes: 1 };
  return { code: (data[pos]! << 8) | data[pos + 1]!, bytes: 2 };
}

/**
 * Reads a CIDFont's /W (group 1: a width) or /W2 (group 3: w1y vx vy) array, made of
 * "c [values…]" and "cFirst cLast values" entries, into a lookup by CID.
 */
function cidMetrics(src: PdfObjectSource, array: PdfValue | undefined, group: number): (cid: number) => number[] | undefined {
  if (!isArray(array)) return () => undefined;
  const single = new Map<number, number[]>();
  const ranges = new RangeTable<number[]>();
  const numbers = (from: PdfValue[], at: number): number[] | undefined => {
    const v = from.slice(at, at + group).map((x) => src.resolve(x));
    return v.length === group && v.every(isNumber) ? (v as number[]) : undefined;
  };
  let budget = MAX_W_ITEMS;
  for (let i = 0; i < array.length && budget > 0; budget--) {
    const c = src.resolve(array[i]);
    const next = src.resolve(array[i + 1]);
    if (!isNumber(c)) {
      i++;
    } else if (isArray(next)) {
      for (let k = 0; k * group < next.length && budget > 0; k++, budget--) {
        const v = numbers(next, k * group);
        if (v) single.set(c + k, v);
      }
      i += 2;
    } else {
      const v = numbers(array, i + 2);
      if (isNumber(next) && v) ranges.add(c, next, v);
      i += 2 + group;
    }
  }
  return (cid) => single.get(cid) ?? ranges.find(cid)?.value;
}
