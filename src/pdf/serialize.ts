import { BoundedMemo } from '../bounded-memo.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';

/** Formats a number the way PDF expects: integers plain, reals without exponent, at most 6 decimals. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  if (Number.isInteger(n)) return String(n);
  let s = n.toFixed(6);
  s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

const NAME_PLAIN = /^[!-~]$/;
/** Documents reuse a few hundred names; encoding each once keeps serialisation off the profile. */
const encodedNames = new Map<string, string>();
function encodeName(n: string): string {
  let e = encodedNames.get(n);
  if (e === undefined) {
    e = encodeNameUncached(n);
    if (encodedNames.size < 10_000) encodedNames.set(n, e);
  }
  return e;
}
function encodeNameUncached(n: string): string {
  let out = '/';
  for (const byte of Buffer.from(n, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (NAME_PLAIN.test(ch) && !'()<>[]{}/%#'.includes(ch)) out += ch;
    else out += '#' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

function encodeLiteralString(bytes: Uint8Array): string {
  let out = '(';
  for (const c of bytes) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c > 0x7e) out += '\\' + c.toString(8).padStart(3, '0');
    else out += String.fromCharCode(c);
  }
  return out + ')';
}

/**
 * Serialised PDF being built: text between stream data is gathered into one string, so a revision
 * becomes a handful of native writes instead of one per token (that was a tenth of a one-page stamp).
 * Text is latin1, so a string's length is its byte length.
 */
export class PdfOutput {
  private readonly parts: (string | Uint8Array)[] = [];
  private pending = '';
  private flushed = 0;

  /** Bytes so far. */
  get length(): number {
    return this.flushed + this.pending.length;
  }

  text(s: string): void {
    this.pending += s;
  }

  bytes(b: Uint8Array): void {
    this.flush();
    this.parts.push(b);
    this.flushed += b.length;
  }

  /** One allocation for all of it. */
  toBuffer(): Buffer {
    this.flush();
    const out = Buffer.allocUnsafe(this.flushed);
    let at = 0;
    for (const p of this.parts) {
      if (typeof p === 'string') at += out.write(p, at, 'latin1');
      else {
        out.set(p, at);
        at += p.length;
      }
    }
    return out;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(this.pending);
    this.flushed += this.pending.length;
    this.pending = '';
  }
}

/**
 * A signature's /Contents placeholder is kilobytes of zeros, written as hex in every stamp. One such
 * string per length (a few: one per signer's chain and level) is made once, with its serialised form,
 * so neither its bytes nor their hex are allocated, zeroed or encoded again for each stamp. It is never
 * changed: the signature is written over its copy in the serialised output.
 */
class ZeroFilledHexString extends PdfString {
  readonly serialised: Buffer;
  constructor(length: number) {
    super(new Uint8Array(length), true);
    this.serialised = Buffer.from(`<${'0'.repeat(2 * length)}>`, 'latin1');
  }
}
const zeroRuns = new BoundedMemo<number, ZeroFilledHexString>(64);

/** A hex string of `length` zero bytes, to be overwritten in the serialised output. */
export const zeroFilledHexString = (length: number): PdfString => zeroRuns.get(length, () => new ZeroFilledHexString(length));

/** Appends the serialised form of `value` to `out`. Stream data is passed through as bytes, never re-encoded. */
export function serializeValue(value: PdfValue, out: PdfOutput): void {
  if (value === null) out.text('null');
  else if (typeof value === 'boolean') out.text(value ? 'true' : 'false');
  else if (typeof value === 'number') out.text(formatNumber(value));
  else if (value instanceof PdfName) out.text(encodeName(value.name));
  else if (value instanceof PdfRef) out.text(`${value.num} ${value.gen} R`);
  else if (value instanceof ZeroFilledHexString) out.bytes(value.serialised);
  else if (value instanceof PdfString) {
    out.text(value.hex ? '<' + Buffer.from(value.bytes).toString('hex') + '>' : encodeLiteralString(value.bytes));
  } else if (Array.isArray(value)) {
    out.text('[');
    value.forEach((v, i) => {
      if (i > 0) out.text(' ');
      serializeValue(v, out);
    });
    out.text(']');
  } else if (value instanceof PdfStream) {
    const d = value.dict.clone();
    d.set('Length', value.data.length);
    serializeValue(d, out);
    out.text('\nstream\n');
    out.bytes(value.data);
    out.text('\nendstream');
  } else if (value instanceof PdfDict) {
    out.text('<<');
    for (const [k, v] of value.entries()) {
      out.text(encodeName(k));
      out.text(' ');
      serializeValue(v, out);
    }
    out.text('>>');
  } else {
    throw new TypeError('not a PDF value');
  }
}

export function serialize(value: PdfValue): Buffer {
  const out = new PdfOutput();
  serializeValue(value, out);
  return out.toBuffer();
}

/** Appends "N G obj\n…\nendobj\n" to `out`. */
export function serializeIndirect(num: number, gen: number, value: PdfValue, out: PdfOutput): void {
  out.text(`${num} ${gen} obj\n`);
  serializeValue(value, out);
  out.text('\nendobj\n');
}
