import type { HashAlgorithm } from './types.js';

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1): CKM_RSA_PKCS signs DigestInfo, which we build. */
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, Buffer> = {
  'SHA-256': Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  'SHA-384': Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  'SHA-512': Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export const DIGEST_LENGTH: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

export function digestInfo(hash: HashAlgorithm, digest: Uint8Array): Buffer {
  if (digest.length !== DIGEST_LENGTH[hash]) {
    throw new RangeError(`a ${hash} digest is ${DIGEST_LENGTH[hash]} bytes, got ${digest.length}`);
  }
  return Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
}

/** A DER header's size for content of `n` bytes (a signature's parts stay below 64 KB). */
const headerSize = (n: number): number => (n < 0x80 ? 2 : n < 0x100 ? 3 : 4);

function writeHeader(out: Buffer, at: number, tag: number, n: number): number {
  out[at++] = tag;
  if (n >= 0x100) {
    out[at++] = 0x82;
    out[at++] = n >> 8;
  } else if (n >= 0x80) out[at++] = 0x81;
  out[at++] = n & 0xff;
  return at;
}

/** An unsigned big-endian integer without its leading zero bytes (one is kept for zero). */
function minimal(unsigned: Uint8Array): Uint8Array {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  return unsigned.subarray(i);
}

/**
 * CKM_ECDSA returns r‖s; CMS and X.509 want ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
 * Written in one allocation: it runs once per stamp on the signing thread.
 */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0) throw new RangeError('an ECDSA r‖s signature has even length');
  const half = raw.length / 2;
  const parts = [minimal(raw.subarray(0, half)), minimal(raw.subarray(half))];
  // A set top bit would make the INTEGER negative: a zero byte goes in front.
  const lengths = parts.map((p) => p.length + (p[0]! & 0x80 ? 1 : 0));
  const body = headerSize(lengths[0]!) + lengths[0]! + headerSize(lengths[1]!) + lengths[1]!;
  const out = Buffer.allocUnsafe(headerSize(body) + body);
  let at = writeHeader(out, 0, 0x30, body);
  parts.forEach((p, i) => {
    at = writeHeader(out, at, 0x02, lengths[i]!);
    if (lengths[i]! > p.length) out[at++] = 0;
    out.set(p, at);
    at += p.length;
  });
  return out;
}

/** The inverse, for formats that want r‖s (COSE, JWS): each integer left-padded to `size` bytes. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(2 * size);
  if (der[0] !== 0x30) throw new RangeError('not an ECDSA-Sig-Value');
  let at = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) throw new RangeError('not an ECDSA-Sig-Value');
    const len = der[at + 1]!;
    let body = der.subarray(at + 2, at + 2 + len);
    while (body.length > size && body[0] === 0) body = body.subarray(1);
    if (body.length > size) throw new RangeError(`an ECDSA integer longer than ${size} bytes`);
    out.set(body, (i + 1) * size - body.length);
    at += 2 + len;
  }
  return out;
}
