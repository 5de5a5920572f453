/**
 * The small part of CBOR (RFC 8949) that COSE_Sign1 and the licence QR payload need: unsigned and
 * negative integers, byte and text strings, arrays, maps and tags. Encoding is the core deterministic
 * form (§4.2.1: shortest heads, definite lengths, map keys sorted by their encoded bytes), so the same
 * value always signs to the same bytes. Decoding is strict: it refuses what the encoder never writes
 * (indefinite lengths, floats, simple values other than false/true/null, non-shortest heads, unsorted or
 * duplicate keys, trailing bytes), so one payload has exactly one reading.
 */

export type CborValue = number | bigint | string | Uint8Array | boolean | null | CborValue[] | CborMap | CborTag;
/** Keys are text or integers: the COSE header labels are integers, the licence payload's text. */
export type CborMap = Map<string | number, CborValue>;

export class CborTag {
  constructor(readonly tag: number, readonly value: CborValue) {}
}

export class CborError extends Error {
  override name = 'CborError';
}

const MAX_DEPTH = 16;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function head(major: number, n: number | bigint): Uint8Array {
  const v = BigInt(n);
  if (v < 0n || v > 0xffffffffffffffffn) throw new CborError(`${v} does not fit a CBOR head`);
  const m = major << 5;
  if (v < 24n) return Uint8Array.of(m | Number(v));
  const bytes = v <= 0xffn ? 1 : v <= 0xffffn ? 2 : v <= 0xffffffffn ? 4 : 8;
  const out = new Uint8Array(1 + bytes);
  out[0] = m | (24 + Math.log2(bytes));
  for (let i = 0, x = v; i < bytes; i++, x >>= 8n) out[bytes - i] = Number(x & 0xffn);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function encodeCbor(value: CborValue): Uint8Array {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new CborError(`only integers are encoded, not ${value}`);
    const v = BigInt(value);
    return v >= 0n ? head(0, v) : head(1, -1n - v);
  }
  if (typeof value === 'string') {
    const bytes = utf8.encode(value);
    return concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return concat([head(2, value.length), value]);
  if (value === false) return Uint8Array.of(0xf4);
  if (value === true) return Uint8Array.of(0xf5);
  if (value === null) return Uint8Array.of(0xf6);
  if (Array.isArray(value)) return concat([head(4, value.length), ...value.map(encodeCbor)]);
  if (value instanceof CborTag) return concat([head(6, value.tag), encodeCbor(value.value)]);
  const entries = [...value].map(([k, v]) => [encodeCbor(k), encodeCbor(v)] as const).sort((a, b) => compareBytes(a[0], b[0]));
  return concat([head(5, entries.length), ...entries.flat()]);
}

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new CborError('truncated CBOR');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** The major type and argument of the next item; refuses anything not in shortest form. */
  head(): { major: number; info: number; arg: bigint } {
    const first = this.take(1)[0]!;
    const major = first >> 5;
    const info = first & 0x1f;
    if (info < 24) return { major, info, arg: BigInt(info) };
    if (info > 27) throw new CborError(`CBOR additional information ${info} (indefinite length or reserved) is not accepted`);
    const size = 1 << (info - 24);
    let arg = 0n;
    for (const b of this.take(size)) arg = (arg << 8n) | BigInt(b);
    const min = size === 1 ? 24n : 1n << BigInt(4 * size);
    if (major !== 7 && arg < min) throw new CborError('CBOR head is not in its shortest form');
    return { major, info, arg };
  }
}

function length(arg: bigint, r: Reader): number {
  if (arg > BigInt(r.bytes.length - r.at)) throw new CborError('CBOR length runs past the end');
  return Number(arg);
}

function read(r: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
  const { major, info, arg } = r.head();
  switch (major) {
    case 0:
      return arg <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(arg) : arg;
    case 1: {
      const v = -1n - arg;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    case 2:
      return r.take(length(arg, r)).slice();
    case 3:
      try {
        return utf8Strict.decode(r.take(length(arg, r)));
      } catch {
        throw new CborError('CBOR text is not valid UTF-8');
      }
    case 4: {
      const n = length(arg, r);
      const out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(read(r, depth + 1));
      return out;
    }
    case 5: {
      const n = length(arg, r);
      const map: CborMap = new Map();
      let previous: Uint8Array | undefined;
      for (let i = 0; i < n; i++) {
        const start = r.at;
        const key = read(r, depth + 1);
        if (typeof key !== 'string' && typeof key !== 'number') throw new CborError('CBOR map keys must be text or integers');
        const encoded = r.bytes.subarray(start, r.at);
        if (previous && compareBytes(previous, encoded) >= 0) throw new CborError('CBOR map keys are duplicated or not in deterministic order');
        previous = encoded;
        map.set(key, read(r, depth + 1));
      }
      return map;
    }
    case 6:
      if (arg > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError('CBOR tag out of range');
      return new CborTag(Number(arg), read(r, depth + 1));
    default:
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new CborError('CBOR floats and simple values are not accepted');
  }
}

/** Decodes exactly one item filling all of `bytes`. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const r = new Reader(bytes);
  const value = read(r, 0);
  if (r.at !== bytes.length) throw new CborError('trailing bytes after the CBOR item');
  return value;
}
