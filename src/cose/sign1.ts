/**
 * COSE_Sign1 (RFC 9052 §4.2) with ES256 only: the protected header is {1: -7, 4: kid}, nothing is
 * unprotected, the signature is r‖s over Sig_structure ["Signature1", protected, h'', payload]. The
 * message is written with tag 18; reading accepts it with or without the tag.
 */
import { CborError, CborTag, decodeCbor, encodeCbor, type CborMap } from './cbor.js';

export const COSE_SIGN1_TAG = 18;
const ALG = 1;
const KID = 4;
export const ES256 = -7;
/** ES256 signatures are r‖s of 32 bytes each. */
const SIGNATURE_LENGTH = 64;

export interface Sign1 {
  kid: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
  /** The bytes the signature covers (the encoded Sig_structure). */
  toBeSigned: Uint8Array;
}

function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/** Signs `payload`; `sign` returns the raw r‖s ES256 signature over the bytes it is given. */
export async function createSign1(payload: Uint8Array, kid: Uint8Array, sign: (toBeSigned: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array> {
  const protectedBytes = encodeCbor(new Map<number, Uint8Array | number>([[ALG, ES256], [KID, kid]]));
  const signature = await sign(sigStructure(protectedBytes, payload));
  if (signature.length !== SIGNATURE_LENGTH) throw new CborError(`an ES256 signature is ${SIGNATURE_LENGTH} bytes, got ${signature.length}`);
  return encodeCbor(new CborTag(COSE_SIGN1_TAG, [protectedBytes, new Map(), payload, signature]));
}

/** Reads a COSE_Sign1 without checking its signature; throws CborError for anything but our exact shape. */
export function parseSign1(bytes: Uint8Array): Sign1 {
  let message = decodeCbor(bytes);
  if (message instanceof CborTag) {
    if (message.tag !== COSE_SIGN1_TAG) throw new CborError(`CBOR tag ${message.tag} is not COSE_Sign1`);
    message = message.value;
  }
  if (!Array.isArray(message) || message.length !== 4) throw new CborError('a COSE_Sign1 is an array of 4 items');
  const [protectedBytes, unprotected, payload, signature] = message;
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new CborError('COSE_Sign1 protected header, payload and signature must be byte strings');
  }
  if (!(unprotected instanceof Map) || unprotected.size !== 0) throw new CborError('COSE_Sign1 must have no unprotected header');
  const header = decodeCbor(protectedBytes);
  if (!(header instanceof Map) || header.size !== 2) throw new CborError('the protected header must hold exactly alg and kid');
  const kid = (header as CborMap).get(KID);
  if ((header as CborMap).get(ALG) !== ES256) throw new CborError('the protected header must say alg ES256 (-7)');
  if (!(kid instanceof Uint8Array)) throw new CborError('the protected header must carry a byte-string kid');
  if (signature.length !== SIGNATURE_LENGTH) throw new CborError(`an ES256 signature is ${SIGNATURE_LENGTH} bytes`);
  return { kid, payload, signature, toBeSigned: sigStructure(protectedBytes, payload) };
}
