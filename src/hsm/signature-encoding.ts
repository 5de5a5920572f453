import { TAG, sequence, tlv } from '../signing/der.js';
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

const ZERO = Uint8Array.of(0);

/** An unsigned big-endian integer as DER INTEGER content: leading zero bytes dropped (one kept for zero), one put back where the top bit is set. */
function integerContent(unsigned: Uint8Array): Uint8Array[] {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const minimal = unsigned.subarray(i);
  return minimal[0]! & 0x80 ? [ZERO, minimal] : [minimal];
}

/** CKM_ECDSA returns r‖s; CMS and X.509 want ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0) throw new RangeError('an ECDSA r‖s signature has even length');
  const half = raw.length / 2;
  return sequence(tlv(TAG.INTEGER, ...integerContent(raw.subarray(0, half))), tlv(TAG.INTEGER, ...integerContent(raw.subarray(half))));
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
