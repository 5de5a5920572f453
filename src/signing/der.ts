/**
 * Just enough DER to assemble and take apart the CMS structures PAdES needs. We build CMS from raw
 * DER pieces rather than through pkijs objects so that certificates, names and serial numbers are
 * copied byte for byte from the certificate (a re-encoded issuer name can stop matching), SET OF
 * ordering is under our control, and a signature costs no ASN.1 object trees.
 */

/** Universal and context tags used in CMS. */
export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** [0] constructed (EXPLICIT content, IMPLICIT certificates and signed attributes). */
  CTX0: 0xa0,
  /** [1] constructed (IMPLICIT unsigned attributes). */
  CTX1: 0xa1,
  /** [4] constructed: GeneralName directoryName. */
  CTX4: 0xa4,
} as const;

/** Bytes the DER length `n` takes (X.690 §8.1.3: short form below 128, else a count and big-endian bytes). */
function lengthSize(n: number): number {
  if (n < 0x80) return 1;
  let size = 1;
  for (let v = n; v > 0; v = Math.floor(v / 256)) size++;
  return size;
}

/**
 * One TLV in one allocation: a stamp's CMS is some thirty of them, and a header buffer plus a
 * concatenation for each was a tenth of the signing core's time on the event loop.
 */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  const size = lengthSize(len);
  const out = Buffer.allocUnsafe(1 + size + len);
  out[0] = tag;
  if (size === 1) out[1] = len;
  else {
    out[1] = 0x80 | (size - 1);
    for (let i = size, v = len; i >= 2; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  }
  let at = 1 + size;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sequence = (...content: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...content);
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, bytes);

/** DER orders the members of a SET OF by their encodings (X.690 §11.6). */
export function setOf(members: Uint8Array[], tag: number = TAG.SET): Buffer {
  const sorted = [...members].sort((a, b) => Buffer.compare(a, b));
  return tlv(tag, ...sorted);
}

export function integer(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`unsupported INTEGER ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const body: number[] = [];
  const push = (v: number): void => {
    const chunk = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    body.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Buffer.from(body));
}

/** One TLV found in a buffer: `start` is the tag byte, `contentStart`…`end` the content. */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Reads the TLV at `pos` (DER: definite lengths only). */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new RangeError(`DER: truncated at ${pos}`);
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError(`DER: multi-byte tags are not used here (at ${pos})`);
  let p = pos + 1;
  let len = buf[p++]!;
  if (len === 0x80) throw new RangeError(`DER: indefinite length at ${pos}`);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || p + n > limit) throw new RangeError(`DER: bad length at ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) throw new RangeError(`DER: content overruns its parent at ${pos}`);
  return { tag, start: pos, contentStart: p, end: p + len };
}

/** The direct children of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export const tlvBytes = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);
export const contentOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.contentStart, t.end);

/** A GeneralizedTime "YYYYMMDDhhmmss[.s…]Z" (the form RFC 3161 and RFC 5280 allow) as a Date, to the millisecond; undefined for any other form. */
export function generalizedTime(buf: Uint8Array, t: Tlv | undefined): Date | undefined {
  if (t?.tag !== 0x18) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(Buffer.from(contentOf(buf, t)).toString('latin1'));
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '0'] = m;
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Number(frac.slice(0, 3).padEnd(3, '0'))));
}
