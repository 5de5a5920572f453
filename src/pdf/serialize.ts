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
 * Appends the serialised form of `value` to `out` as latin1 text chunks and raw byte chunks.
 * Stream data is passed through as bytes, never re-encoded.
 */
export function serializeValue(value: PdfValue, out: (string | Uint8Array)[]): void {
  if (value === null) out.push('null');
  else if (typeof value === 'boolean') out.push(value ? 'true' : 'false');
  else if (typeof value === 'number') out.push(formatNumber(value));
  else if (value instanceof PdfName) out.push(encodeName(value.name));
  else if (value instanceof PdfRef) out.push(`${value.num} ${value.gen} R`);
  else if (value instanceof PdfString) {
    out.push(value.hex ? '<' + Buffer.from(value.bytes).toString('hex') + '>' : encodeLiteralString(value.bytes));
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => {
      if (i > 0) out.push(' ');
      serializeValue(v, out);
    });
    out.push(']');
  } else if (value instanceof PdfStream) {
    const d = value.dict.clone();
    d.set('Length', value.data.length);
    serializeValue(d, out);
    out.push('\nstream\n');
    out.push(value.data);
    out.push('\nendstream');
  } else if (value instanceof PdfDict) {
    out.push('<<');
    for (const [k, v] of value.entries()) {
      out.push(encodeName(k));
      out.push(' ');
      serializeValue(v, out);
    }
    out.push('>>');
  } else {
    throw new TypeError('not a PDF value');
  }
}

/**
 * Joins chunks produced by serializeValue into one buffer: one allocation, strings written in place
 * (they are latin1, so a string's length is its byte length). This is on every stamp's path.
 */
export function joinChunks(chunks: (string | Uint8Array)[]): Buffer {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const c of chunks) {
    if (typeof c === 'string') at += out.write(c, at, 'latin1');
    else {
      out.set(c, at);
      at += c.length;
    }
  }
  return out;
}

export function serialize(value: PdfValue): Buffer {
  const out: (string | Uint8Array)[] = [];
  serializeValue(value, out);
  return joinChunks(out);
}

/** "N G obj\n…\nendobj\n" */
export function serializeIndirect(num: number, gen: number, value: PdfValue): Buffer {
  const out: (string | Uint8Array)[] = [`${num} ${gen} obj\n`];
  serializeValue(value, out);
  out.push('\nendobj\n');
  return joinChunks(out);
}
