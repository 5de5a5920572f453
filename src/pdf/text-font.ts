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
function verticalMetrics(src: PdfObjectSource, descriptor: PdfDict | undefined, fallback?: { ascent: number; descent: number }) {
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
  const scale = isName(fontDict.get('Subtype'), 'Type3') && isArray(fontMatrix) && isNumber(fontMatrix[0]) ? fontMatrix[0] : 0.001;
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
      if (std) return (std.width(unicode(code)) ?? 0) * 0.001;
      return (isNumber(missing) ? missing : 500) * scale;
    },
    ...verticalMetrics(src, descriptor, std),
  };
}

/** The 256 characters of a simple font's encoding: base encoding plus /Differences. */
function simpleEncoding(src: PdfObjectSource, fontDict: PdfDict): string[] {
  const enc = get(src, fontDict, 'Encoding');
  const isBase = (v: PdfValue | undefined): v is PdfName =>
    isName(v) && ['WinAnsiEncoding', 'MacRomanEncoding', 'StandardEncoding'].includes(v.name);
  const base = isBase(enc) ? enc : enc instanceof PdfDict && isBase(get(src, enc, 'BaseEncoding')) ? (get(src, enc, 'BaseEncoding') as PdfName) : undefined;
  // Without a named base, the font program's built-in encoding applies; we cannot read font
  // programs, and StandardEncoding is what most Latin Type 1 programs have built in.
  const table = [...baseEncoding((base?.name ?? 'StandardEncoding') as BaseEncoding)];
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

  const widths = cidWidths(src, cidDict);
  const dwValue = get(src, cidDict, 'DW');
  const dw = isNumber(dwValue) ? dwValue : 1000;

  return {
    nextCode: (data, pos) => (splitter ? splitter.nextCode(data, pos, 2) : twoBytes(data, pos)),
    unicode(code, bytes) {
      const t = toUnicode?.unicode(code, bytes);
      if (t !== undefined) return t;
      if (unicodeCodes && code < 0x10000) return String.fromCharCode(code);
      return UNKNOWN;
    },
    width(code, bytes) {
      const cid = identity ? code : embedded?.cid(code, bytes);
      return (cid === undefined ? dw : (widths(cid) ?? dw)) / 1000;
    },
    ...verticalMetrics(src, descriptor),
  };
}

function twoBytes(data: Uint8Array, pos: number): { code: number; bytes: number } {
  if (pos + 1 >= data.length) return { code: data[pos]!, bytes: 1 };
  return { code: (data[pos]! << 8) | data[pos + 1]!, bytes: 2 };
}

/** Reads a CIDFont's /W array ("c [w1 w2 …]" and "cFirst cLast w" entries) into a lookup. */
function cidWidths(src: PdfObjectSource, cidFont: PdfDict | undefined): (cid: number) => number | undefined {
  const single = new Map<number, number>();
  const ranges = new RangeTable<number>();
  const w = get(src, cidFont, 'W');
  if (!isArray(w)) return () => undefined;
  let budget = MAX_W_ITEMS;
  for (let i = 0; i < w.length && budget > 0; budget--) {
    const c = src.resolve(w[i]);
    const next = src.resolve(w[i + 1]);
    if (!isNumber(c)) {
      i++;
    } else if (isArray(next)) {
      for (let k = 0; k < next.length && budget > 0; k++, budget--) {
        const n = src.resolve(next[k]);
        if (isNumber(n)) single.set(c + k, n);
      }
      i += 2;
    } else {
      const width = src.resolve(w[i + 2]);
      if (isNumber(next) && isNumber(width)) ranges.add(c, next, width);
      i += 3;
    }
  }
  return (cid) => single.get(cid) ?? ranges.find(cid)?.value;
}
