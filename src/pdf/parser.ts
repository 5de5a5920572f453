import { PdfError } from '../errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';

/** Hostile files nest arrays and dictionaries deeply to exhaust the stack; real ones stay far below this. */
export const MAX_NESTING = 200;
/** The largest real number readers support (a 32-bit float's), ISO 32000-1 Annex C. */
const MAX_REAL = 3.403e38;

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

export const isWhitespace = (c: number): boolean => WS[c] === 1;
export const isDelimiter = (c: number): boolean => DELIM[c] === 1;
const isRegular = (c: number): boolean => WS[c] === 0 && DELIM[c] === 0;

/** Short tokens only: building a string by hand is much cheaper than a Buffer view per token. */
function latin1(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** The value of an unsigned decimal integer token, or -1 when the token is not one (or too long to be exact). */
function digitsValue(b: Uint8Array, start: number, end: number): number {
  if (end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

const HEX_DIGIT = /^[0-9a-fA-F]{2}$/;

/** A keyword token (obj, endobj, stream, R, true, an operator in a content stream…). */
export class PdfKeyword {
  constructor(readonly word: string) {}
}

/** What `parseTolerant` returns where the bytes do not parse. */
export const DAMAGED: unique symbol = Symbol('damaged');

export type StreamLengthResolver = (ref: PdfRef) => number | undefined;

function syntaxError(message: string, pos: number): PdfError {
  return new PdfError('invalid-pdf', `The PDF is damaged: ${message} (at byte ${pos}).`);
}

/**
 * A tokenizer and object parser over a byte buffer. It parses one value at a time from a position,
 * never the whole file, and records where strings sit (signature /Contents checks need that).
 */
export class PdfParser {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    private readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get atEnd(): boolean {
    this.skipWhitespace();
    return this.pos >= this.end;
  }

  skipWhitespace(): void {
    const b = this.buf;
    let p = this.pos;
    while (p < this.end) {
      const c = b[p]!;
      if (WS[c]) p++;
      else if (c === 0x25 /* % */) {
        while (p < this.end && b[p] !== 0x0a && b[p] !== 0x0d) p++;
      } else break;
    }
    this.pos = p;
  }

  /** Reads a value, or a keyword when `allowKeyword` (content streams, `obj`/`endobj` framing). */
  parseValue(depth = 0, allowKeyword = false): PdfValue | PdfKeyword {
    if (depth > MAX_NESTING) throw syntaxError(`objects nested more than ${MAX_NESTING} deep`, this.pos);
    this.skipWhitespace();
    const b = this.buf;
    const start = this.pos;
    if (start >= this.end) throw syntaxError('unexpected end of data', start);
    const c = b[start]!;
    switch (c) {
      case 0x2f /* / */:
        return this.parseName();
      case 0x28 /* ( */:
        return this.parseLiteralString();
      case 0x3c /* < */:
        if (b[start + 1] === 0x3c) return this.parseDictOrStream(depth);
        return this.parseHexString();
      case 0x5b /* [ */: {
        this.pos++;
        const arr: PdfValue[] = [];
        for (;;) {
          this.skipWhitespace();
          if (this.pos >= this.end) throw syntaxError('unterminated array', start);
          if (b[this.pos] === 0x5d /* ] */) {
            this.pos++;
            return arr;
          }
          const v = this.parseValue(depth + 1, allowKeyword);
          if (v instanceof PdfKeyword) {
            if (allowKeyword) continue; // tolerate stray operators inside arrays in content streams
            throw syntaxError(`unexpected keyword "${v.word}" in an array`, this.pos);
          }
          arr.push(v);
        }
      }
      case 0x7b /* { */:
      case 0x7d /* } */:
        this.pos++;
        return new PdfKeyword(String.fromCharCode(c));
      case 0x29 /* ) */:
      case 0x3e /* > */:
      case 0x5d /* ] */:
        throw syntaxError(`unexpected "${String.fromCharCode(c)}"`, start);
    }
    // number, ref or keyword
    let p = start;
    while (p < this.end && isRegular(b[p]!)) p++;
    if (p === start) throw syntaxError('unexpected character', start);
    this.pos = p;
    const int = digitsValue(b, start, p);
    if (int >= 0) {
      // "N G R" lookahead for an indirect reference
      const save = this.pos;
      const gen = this.tryInteger();
      if (gen !== undefined) {
        this.skipWhitespace();
        if (b[this.pos] === 0x52 /* R */ && (this.pos + 1 >= this.end || !isRegular(b[this.pos + 1]!))) {
          this.pos++;
          return new PdfRef(int, gen);
        }
      }
      this.pos = save;
      return int;
    }
    const token = latin1(b, start, p);
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(token)) {
      // Hundreds of digits overflow to Infinity, which nothing downstream (nor serialize) accepts: clamp
      // to the largest real PDF readers use, as they do.
      const n = Number(token);
      return Number.isFinite(n) ? n : n > 0 ? MAX_REAL : -MAX_REAL;
    }
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token === 'null') return null;
    if (allowKeyword) return new PdfKeyword(token);
    throw syntaxError(`unexpected token "${token.slice(0, 32)}"`, start);
  }

  /**
   * The next value or keyword of a stream that may be damaged (content streams, CMaps), or DAMAGED
   * where the bytes do not parse. The position then moves past what the parser gave up on (at least
   * one byte on): restarting right after the token's start would rescan a 100,000-deep array or an
   * unterminated string once per byte, quadratic in the stream.
   */
  parseTolerant(): PdfValue | PdfKeyword | typeof DAMAGED {
    this.skipWhitespace();
    const at = this.pos;
    try {
      return this.parseValue(0, true);
    } catch (e) {
      if (!(e instanceof PdfError)) throw e;
      this.pos = Math.max(at + 1, this.pos);
      return DAMAGED;
    }
  }

  /** Parses a value that must not be a keyword. */
  parseObject(depth = 0): PdfValue {
    const v = this.parseValue(depth, false);
    return v as PdfValue;
  }

  private tryInteger(): number | undefined {
    this.skipWhitespace();
    const b = this.buf;
    let p = this.pos;
    const s = p;
    while (p < this.end && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
    if (p === s || (p < this.end && isRegular(b[p]!))) return undefined;
    const v = digitsValue(b, s, p);
    if (v < 0) return undefined;
    this.pos = p;
    return v;
  }

  /** Reads a keyword such as `obj` and checks it. */
  expectKeyword(word: string): void {
    this.skipWhitespace();
    const b = this.buf;
    const s = this.pos;
    let p = s;
    while (p < this.end && isRegular(b[p]!)) p++;
    const token = latin1(b, s, Math.min(p, s + 32));
    if (p - s !== word.length || token !== word) throw syntaxError(`expected "${word}" but found "${token}"`, s);
    this.pos = p;
  }

  /** True and consumes it when the next token is `word`. */
  acceptKeyword(word: string): boolean {
    this.skipWhitespace();
    const b = this.buf;
    const s = this.pos;
    if (s + word.length > this.end) return false;
    for (let i = 0; i < word.length; i++) if (b[s + i] !== word.charCodeAt(i)) return false;
    const after = s + word.length;
    if (after < this.end && isRegular(b[after]!)) return false;
    this.pos = after;
    return true;
  }

  private parseName(): PdfName {
    const b = this.buf;
    const s = ++this.pos;
    let p = s;
    let plain = true; // no #xx escapes and ASCII only: the common case, read without a byte copy
    while (p < this.end && isRegular(b[p]!)) {
      if (b[p] === 0x23 || b[p]! > 0x7e) plain = false;
      p++;
    }
    this.pos = p;
    if (plain) return PdfName.of(latin1(b, s, p));
    const out: number[] = [];
    for (let i = s; i < p; ) {
      const c = b[i]!;
      if (c === 0x23 /* # */ && i + 2 < p && HEX_DIGIT.test(String.fromCharCode(b[i + 1]!, b[i + 2]!))) {
        out.push(parseInt(String.fromCharCode(b[i + 1]!, b[i + 2]!), 16));
        i += 3;
        continue;
      }
      out.push(c);
      i++;
    }
    return PdfName.of(Buffer.from(out).toString('utf8'));
  }

  private parseLiteralString(): PdfString {
    const b = this.buf;
    const start = this.pos;
    let p = start + 1;
    let depth = 1;
    const out: number[] = [];
    while (p < this.end) {
      const c = b[p++]!;
      if (c === 0x5c /* \ */) {
        if (p >= this.end) break;
        const e = b[p++]!;
        switch (e) {
          case 0x6e: out.push(0x0a); break; // n
          case 0x72: out.push(0x0d); break; // r
          case 0x74: out.push(0x09); break; // t
          case 0x62: out.push(0x08); break; // b
          case 0x66: out.push(0x0c); break; // f
          case 0x0d: if (b[p] === 0x0a) p++; break; // line continuation
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let i = 0; i < 2 && p < this.end && b[p]! >= 0x30 && b[p]! <= 0x37; i++) v = v * 8 + (b[p++]! - 0x30);
              out.push(v & 0xff);
            } else out.push(e);
        }
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) {
          this.pos = p;
          return new PdfString(Uint8Array.from(out), false, start, p);
        }
        out.push(c);
      } else out.push(c);
    }
    this.pos = this.end; // see parseHexString
    throw syntaxError('unterminated string', start);
  }

  private parseHexString(): PdfString {
    const b = this.buf;
    const start = this.pos;
    let p = start + 1;
    // Scan only as far as hex digits and whitespace go: a stray "<" must cost its own length, not a
    // search through the rest of the buffer (content streams resync after errors, once per "<").
    let close = p;
    while (close < this.end && (HEX[b[close]!] || WS[b[close]!])) close++;
    if (close >= this.end) {
      // Callers that resync after an error (content streams) resume from pos: past what was scanned.
      this.pos = this.end;
      throw syntaxError('unterminated hex string', start);
    }
    if (b[close] !== 0x3e) {
      this.pos = close;
      throw syntaxError('invalid character in a hex string', close);
    }
    const out = new Uint8Array((close - p + 1) >> 1);
    let n = 0;
    let hi = -1;
    for (; p < close; p++) {
      const c = b[p]!;
      let v: number;
      if (c >= 0x30 && c <= 0x39) v = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
      else continue; // whitespace
      if (hi < 0) hi = v;
      else {
        out[n++] = (hi << 4) | v;
        hi = -1;
      }
    }
    if (hi >= 0) out[n++] = hi << 4;
    this.pos = close + 1;
    return new PdfString(out.subarray(0, n), true, start, close + 1);
  }

  private parseDictOrStream(depth: number): PdfDict {
    const start = this.pos;
    this.pos += 2;
    const d = new PdfDict();
    const b = this.buf;
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.end) throw syntaxError('unterminated dictionary', start);
      if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return d;
      }
      const key = this.parseValue(depth + 1);
      if (!(key instanceof PdfName)) throw syntaxError('a dictionary key is not a name', this.pos);
      this.skipWhitespace();
      if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
        // "/Key >>": a key without a value; treat as null like other readers do
        this.pos += 2;
        return d;
      }
      const v = this.parseValue(depth + 1);
      if (v instanceof PdfKeyword) throw syntaxError(`unexpected keyword "${v.word}" in a dictionary`, this.pos);
      d.set(key.name, v);
    }
  }

  /**
   * Parses "N G obj <value> [stream … endstream] endobj" at the current position.
   * The stream's /Length may be indirect; `resolveLength` resolves it, and when it is missing or
   * wrong the data runs to the next "endstream".
   */
  parseIndirectObject(resolveLength?: StreamLengthResolver): { num: number; gen: number; value: PdfValue } {
    const start = this.pos;
    const num = this.tryInteger();
    const gen = num === undefined ? undefined : this.tryInteger();
    if (num === undefined || gen === undefined) throw syntaxError('expected an object header "N G obj"', start);
    this.expectKeyword('obj');
    let value = this.parseObject();
    if (value instanceof PdfDict && this.acceptKeyword('stream')) {
      value = this.readStreamData(value, resolveLength);
    }
    // Some writers omit endobj; tolerate it as other readers do.
    this.acceptKeyword('endobj');
    return { num, gen, value };
  }

  private readStreamData(d: PdfDict, resolveLength?: StreamLengthResolver): PdfStream {
    const b = this.buf;
    let p = this.pos;
    if (b[p] === 0x0d) p++;
    if (b[p] === 0x0a) p++;
    const dataStart = p;
    let len = d.get('Length');
    if (len instanceof PdfRef) len = resolveLength?.(len);
    let dataEnd = -1;
    if (typeof len === 'number' && Number.isInteger(len) && len >= 0 && dataStart + len <= this.end) {
      const after = new PdfParser(b, dataStart + len, this.end);
      if (after.acceptKeyword('endstream')) {
        dataEnd = dataStart + len;
        this.pos = after.pos;
      }
    }
    if (dataEnd < 0) {
      const idx = Buffer.from(b.buffer, b.byteOffset, this.end).indexOf('endstream', dataStart, 'latin1');
      if (idx < 0) throw syntaxError('a stream has no "endstream"', dataStart);
      dataEnd = idx;
      if (dataEnd > dataStart && b[dataEnd - 1] === 0x0a) dataEnd--;
      if (dataEnd > dataStart && b[dataEnd - 1] === 0x0d) dataEnd--;
      this.pos = idx + 'endstream'.length;
    }
    return new PdfStream(d, b.subarray(dataStart, dataEnd), dataStart);
  }
}
