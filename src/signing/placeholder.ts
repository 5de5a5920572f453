import type { Hash } from 'node:crypto';
import { OneSealError } from '../errors.js';
import type { KeyAlgorithm } from '../hsm/types.js';
import type { PdfString } from '../pdf/objects.js';
import { zeroFilledHexString } from '../pdf/serialize.js';
import { certificateParts, uniqueCertificates } from './cms.js';

/**
 * The signature's place in the new revision: /Contents is reserved as a hex string of zeros and
 * /ByteRange as fixed-width numbers, so both can be filled in afterwards without moving a byte.
 */

/** Largest signature value per key algorithm (RSA: the modulus size; ECDSA: DER SEQUENCE of r, s at worst). */
const MAX_SIGNATURE_SIZE: Record<KeyAlgorithm, number> = {
  'RSA-2048': 256,
  'RSA-3072': 384,
  'EC-P256': 72,
  'EC-P384': 104,
};

/**
 * Everything in a PAdES SignedData besides certificates, issuer names, serials and the signature
 * value: TLV headers, OIDs, algorithm identifiers, the message digest and the ESS certificate hash
 * (≈ 250 bytes measured; the rest is margin for SHA-512 digests and longer length fields).
 */
const CMS_FIXED_OVERHEAD = 384;
/** The unsigned-attribute wrapping around a signature time-stamp token. */
const TIMESTAMP_ATTRIBUTE_OVERHEAD = 64;
/**
 * An RFC 3161 token besides its certificates: TSTInfo (policy, imprint, serial, time, nonce, TSA
 * name), the TSA's signed attributes with its issuer and serial, an RSA-4096 signature at most.
 */
const TIMESTAMP_TOKEN_OVERHEAD = 2048;

export interface ContentsSizeInput {
  algorithm: KeyAlgorithm;
  certificate: Uint8Array;
  chain: readonly Uint8Array[];
  /** Upper bound of the signature time-stamp token's size, when one will be added (B-T and up). */
  timestampTokenSize?: number;
}

/** Bytes to reserve for the CMS in /Contents: never less than the CMS will need, and close to it. */
export function signatureContentsSize(input: ContentsSizeInput): number {
  const { issuer, serial } = certificateParts(input.certificate);
  let certs = 0;
  for (const c of uniqueCertificates(input.certificate, input.chain)) certs += c.length;
  const tst = input.timestampTokenSize === undefined ? 0 : input.timestampTokenSize + TIMESTAMP_ATTRIBUTE_OVERHEAD;
  // The issuer and serial appear twice: in the SignerIdentifier and in the ESS IssuerSerial.
  return CMS_FIXED_OVERHEAD + certs + 2 * (issuer.length + serial.length) + MAX_SIGNATURE_SIZE[input.algorithm] + tst;
}

/** Upper bound of a time-stamp token from a TSA that embeds these certificates in its tokens. */
export function timestampTokenSizeBound(tsaCertificates: readonly Uint8Array[]): number {
  let certs = 0;
  for (const c of tsaCertificates) certs += c.length;
  return certs + TIMESTAMP_TOKEN_OVERHEAD;
}

/** Ten digits cover any offset below 10 GB; the real numbers are written over them, padded with spaces. */
const WIDE = 9_999_999_999;

/** /ByteRange value to serialise before the offsets are known. */
export const byteRangePlaceholder = (): number[] => [0, WIDE, WIDE, WIDE];

/** /Contents value reserving `size` bytes (2 × size hex digits). */
export const contentsPlaceholder = (size: number): PdfString => zeroFilledHexString(size);

/** Where the reserved values sit in a built tail, and the byte range they resolve to in the whole file. */
export interface SignatureSlot {
  /** Offset of /Contents' `<` in the tail. */
  contentsStart: number;
  /** Offset just past /Contents' `>` in the tail. */
  contentsEnd: number;
  /** Bytes available for the CMS / token. */
  capacity: number;
  /** The ByteRange as written: [0, a, b, c] in whole-file offsets. */
  byteRange: [number, number, number, number];
}

const BYTE_RANGE_KEY = Buffer.from('/ByteRange [');
const CONTENTS_KEY = Buffer.from('/Contents <');
const ENDOBJ = Buffer.from('endobj');

/**
 * Finds the placeholders of the signature dictionary written at `objectOffset` in `tail` and writes
 * the final /ByteRange in place. `base` is the length of everything before the tail.
 */
export function prepareSlot(tail: Buffer, objectOffset: number, base: number): SignatureSlot {
  // Only inside this object: a later object may carry a /Contents of its own.
  const end = tail.indexOf(ENDOBJ, objectOffset);
  const within = (i: number): number => (i >= 0 && i < end ? i : -1);
  const br = within(tail.indexOf(BYTE_RANGE_KEY, objectOffset));
  const brEnd = br < 0 ? -1 : within(tail.indexOf(0x5d /* ] */, br));
  const ct = within(tail.indexOf(CONTENTS_KEY, objectOffset));
  const ctEnd = ct < 0 ? -1 : within(tail.indexOf(0x3e /* > */, ct + CONTENTS_KEY.length));
  if (brEnd < 0 || ctEnd < 0) {
    throw new OneSealError('internal-error', 'internal', 'The signature dictionary placeholders were not found in the new revision.');
  }
  const contentsStart = ct + CONTENTS_KEY.length - 1;
  const contentsEnd = ctEnd + 1;
  const a = base + contentsStart;
  const b = base + contentsEnd;
  const byteRange: [number, number, number, number] = [0, a, b, base + tail.length - b];
  const open = br + BYTE_RANGE_KEY.length - 1;
  const text = `[${byteRange.join(' ')}`;
  if (text.length > brEnd - open) {
    throw new OneSealError('pdf-too-large', 'too-large', 'The signed document would be larger than 10 GB.');
  }
  tail.write(text.padEnd(brEnd - open, ' '), open, 'latin1');
  return { contentsStart, contentsEnd, capacity: (contentsEnd - contentsStart - 2) / 2, byteRange };
}

/** Feeds the signed bytes of the tail (all of it but the /Contents string) to a hash already holding the prefix. */
export function updateWithTail(hash: Hash, tail: Buffer, slot: SignatureSlot): Hash {
  return hash.update(tail.subarray(0, slot.contentsStart)).update(tail.subarray(slot.contentsEnd));
}

/** Writes the CMS (or token) as hex into the reserved /Contents; the rest stays zero padding. */
export function fillContents(tail: Buffer, slot: SignatureSlot, der: Uint8Array): void {
  if (der.length > slot.capacity) {
    throw new OneSealError(
      'internal-error',
      'internal',
      `The signature (${der.length} bytes) is larger than the space reserved for it (${slot.capacity} bytes).`,
    );
  }
  tail.write(Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('hex'), slot.contentsStart + 1, 'latin1');
}
