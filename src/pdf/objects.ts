/**
 * OneSeal's own small PDF object model. We read and write PDFs ourselves (rather than through a
 * full document model) so that stamping touches only the handful of objects it needs: a 50 MB
 * input is never parsed whole, and the input bytes stay an exact prefix of the output.
 */

export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly name: string) {}
  /** Names are interned, so `a === b` compares them. `name` is without the slash, #xx decoded. */
  static of(name: string): PdfName {
    let n = PdfName.interned.get(name);
    if (!n) {
      n = new PdfName(name);
      if (PdfName.interned.size < 100_000) PdfName.interned.set(name, n);
    }
    return n;
  }
  toString(): string {
    return '/' + this.name;
  }
}

export class PdfString {
  /**
   * @param bytes the decoded bytes of the string
   * @param hex whether it was (or is to be) written as <hex>
   * @param start,end byte offsets of the token in the file it came from (end exclusive), when parsed
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
    readonly start = -1,
    readonly end = -1,
  ) {}
  static literal(text: string): PdfString {
    return new PdfString(Buffer.from(text, 'latin1'));
  }
  /** A text string (PDF "text string" type): PDFDocEncoding-compatible ASCII stays literal, anything else UTF-16BE with BOM. */
  static text(text: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(Buffer.from(text, 'latin1'));
    const utf16 = Buffer.from(text, 'utf16le').swap16();
    return new PdfString(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16]), true);
  }
  /** Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding ≈ latin1). */
  decodeText(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      // A damaged string may end in half a UTF-16 unit: drop it rather than fail (swap16 needs even lengths).
      return Buffer.from(b.subarray(2, b.length - (b.length % 2))).swap16().toString('utf16le');
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
      return Buffer.from(b.subarray(3)).toString('utf8');
    }
    let out = '';
    for (const c of b) out += PDF_DOC_ENCODING[c] ?? String.fromCharCode(c);
    return out;
  }
}

/** Where PDFDocEncoding differs from Latin-1 (ISO 32000-2, Annex D): signer names like "Petržela" use these. */
const PDF_DOC_ENCODING: Record<number, string> = {
  0x18: '\u02d8', 0x19: '\u02c7', 0x1a: '\u02c6', 0x1b: '\u02d9', 0x1c: '\u02dd', 0x1d: '\u02db', 0x1e: '\u02da', 0x1f: '\u02dc',
  0x80: '\u2022', 0x81: '\u2020', 0x82: '\u2021', 0x83: '\u2026', 0x84: '\u2014', 0x85: '\u2013', 0x86: '\u0192', 0x87: '\u2044',
  0x88: '\u2039', 0x89: '\u203a', 0x8a: '\u2212', 0x8b: '\u2030', 0x8c: '\u201e', 0x8d: '\u201c', 0x8e: '\u201d', 0x8f: '\u2018',
  0x90: '\u2019', 0x91: '\u201a', 0x92: '\u2122', 0x93: '\ufb01', 0x94: '\ufb02', 0x95: '\u0141', 0x96: '\u0152', 0x97: '\u0160',
  0x98: '\u0178', 0x99: '\u017d', 0x9a: '\u0131', 0x9b: '\u0142', 0x9c: '\u0153', 0x9d: '\u0161', 0x9e: '\u017e', 0xa0: '\u20ac',
};

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen = 0,
  ) {}
  get key(): string {
    return `${this.num} ${this.gen}`;
  }
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
}

export class PdfDict {
  readonly map: Map<string, PdfValue>;
  constructor(entries?: Iterable<[string, PdfValue]> | Record<string, PdfValue>) {
    if (!entries) this.map = new Map();
    else if (Symbol.iterator in Object(entries)) this.map = new Map(entries as Iterable<[string, PdfValue]>);
    else this.map = new Map(Object.entries(entries as Record<string, PdfValue>));
  }
  get(key: string): PdfValue | undefined {
    return this.map.get(key);
  }
  set(key: string, value: PdfValue): this {
    this.map.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  delete(key: string): boolean {
    return this.map.delete(key);
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  entries(): IterableIterator<[string, PdfValue]> {
    return this.map.entries();
  }
  /** The /Type name, if any. */
  get type(): string | undefined {
    const t = this.map.get('Type');
    return t instanceof PdfName ? t.name : undefined;
  }
  clone(): PdfDict {
    return new PdfDict(this.map);
  }
}

export class PdfStream {
  /**
   * @param dict the stream dictionary (its /Length is rewritten on serialisation)
   * @param data the stream's bytes as stored (still encoded with its /Filter)
   * @param dataStart offset of the data in the file it came from, when parsed
   */
  constructor(
    readonly dict: PdfDict,
    readonly data: Uint8Array,
    readonly dataStart = -1,
  ) {}
}

export type PdfArray = PdfValue[];
export type PdfValue = null | boolean | number | PdfName | PdfString | PdfRef | PdfDict | PdfStream | PdfArray;

export const name = (n: string): PdfName => PdfName.of(n);
export const ref = (num: number, gen = 0): PdfRef => new PdfRef(num, gen);
export const dict = (entries: Record<string, PdfValue>): PdfDict => new PdfDict(entries);

export function isName(v: PdfValue | undefined, n?: string): v is PdfName {
  return v instanceof PdfName && (n === undefined || v.name === n);
}
export function isArray(v: PdfValue | undefined): v is PdfArray {
  return Array.isArray(v);
}
export function isNumber(v: PdfValue | undefined): v is number {
  return typeof v === 'number';
}
export function isInteger(v: PdfValue | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
