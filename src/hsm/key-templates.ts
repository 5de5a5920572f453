import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import pkcs11 from 'pkcs11js';
import { digestInfo, ecdsaRawToDer } from './signature-encoding.js';
import type { HashAlgorithm, KeyAlgorithm } from './types.js';

/** DER-encoded OIDs of the named curves, as CKA_EC_PARAMS wants them. */
const CURVE_PARAMS: Record<'EC-P256' | 'EC-P384', Buffer> = {
  'EC-P256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'EC-P384': Buffer.from('06052b81040022', 'hex'),
};
const JWK_CURVE: Record<'EC-P256' | 'EC-P384', string> = { 'EC-P256': 'P-256', 'EC-P384': 'P-384' };

export const isRsa = (a: KeyAlgorithm): a is 'RSA-2048' | 'RSA-3072' => a.startsWith('RSA');

/**
 * Attributes every OneSeal private key carries: on the token, behind the PIN, and never readable
 * or exportable, whether generated or imported.
 */
function protectedPrivate(label: string, id: Buffer): pkcs11.Template {
  return [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_ID, value: id },
  ];
}

function publicCommon(label: string, id: Buffer): pkcs11.Template {
  return [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: false },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_ID, value: id },
  ];
}

/**
 * A 256-bit generic secret for HMAC-SHA-256 (CKM_SHA256_HMAC): on the token, behind the PIN, never
 * readable or exportable, usable only to compute MACs.
 */
export function secretKeyTemplate(label: string, id: Buffer): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_GENERIC_SECRET },
    { type: pkcs11.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_ENCRYPT, value: false },
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_WRAP, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_ID, value: id },
  ];
}

export function generationTemplates(algorithm: KeyAlgorithm, label: string, id: Buffer) {
  if (isRsa(algorithm)) {
    return {
      mechanism: { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
      publicKey: [
        ...publicCommon(label, id),
        { type: pkcs11.CKA_MODULUS_BITS, value: algorithm === 'RSA-2048' ? 2048 : 3072 },
        { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      ],
      privateKey: protectedPrivate(label, id),
    };
  }
  return {
    mechanism: { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN },
    publicKey: [...publicCommon(label, id), { type: pkcs11.CKA_EC_PARAMS, value: CURVE_PARAMS[algorithm] }],
    privateKey: protectedPrivate(label, id),
  };
}

const b64u = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

/**
 * Templates to import a PKCS#8 private key (the dev root, or a customer's existing CA key) as a
 * sensitive, non-extractable token object, plus its public half for look-ups.
 */
export function importTemplates(pkcs8: Uint8Array, label: string, id: Buffer) {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const jwk = key.export({ format: 'jwk' }) as JsonWebKey;
  const algorithm = algorithmOfJwk(jwk);
  if (isRsa(algorithm)) {
    return {
      algorithm,
      privateKey: [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
        { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
        ...protectedPrivate(label, id),
        { type: pkcs11.CKA_MODULUS, value: b64u(jwk.n) },
        { type: pkcs11.CKA_PUBLIC_EXPONENT, value: b64u(jwk.e) },
        { type: pkcs11.CKA_PRIVATE_EXPONENT, value: b64u(jwk.d) },
        { type: pkcs11.CKA_PRIME_1, value: b64u(jwk.p) },
        { type: pkcs11.CKA_PRIME_2, value: b64u(jwk.q) },
        { type: pkcs11.CKA_EXPONENT_1, value: b64u(jwk.dp) },
        { type: pkcs11.CKA_EXPONENT_2, value: b64u(jwk.dq) },
        { type: pkcs11.CKA_COEFFICIENT, value: b64u(jwk.qi) },
      ] as pkcs11.Template,
      publicKey: [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
        { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
        ...publicCommon(label, id),
        { type: pkcs11.CKA_MODULUS, value: b64u(jwk.n) },
        { type: pkcs11.CKA_PUBLIC_EXPONENT, value: b64u(jwk.e) },
      ] as pkcs11.Template,
    };
  }
  const point = Buffer.concat([Buffer.from([0x04]), b64u(jwk.x), b64u(jwk.y)]);
  return {
    algorithm,
    privateKey: [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
      ...protectedPrivate(label, id),
      { type: pkcs11.CKA_EC_PARAMS, value: CURVE_PARAMS[algorithm] },
      { type: pkcs11.CKA_VALUE, value: b64u(jwk.d) },
    ] as pkcs11.Template,
    publicKey: [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
      ...publicCommon(label, id),
      { type: pkcs11.CKA_EC_PARAMS, value: CURVE_PARAMS[algorithm] },
      { type: pkcs11.CKA_EC_POINT, value: derOctetString(point) },
    ] as pkcs11.Template,
  };
}

function algorithmOfJwk(jwk: JsonWebKey): KeyAlgorithm {
  if (jwk.kty === 'RSA') {
    const bits = b64u(jwk.n).length * 8;
    if (bits === 2048) return 'RSA-2048';
    if (bits === 3072) return 'RSA-3072';
    throw new RangeError(`RSA keys of ${bits} bits are not supported (2048 or 3072)`);
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'EC-P256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'EC-P384';
  throw new RangeError(`unsupported key type ${jwk.kty} ${jwk.crv ?? ''}`);
}

function derOctetString(b: Buffer): Buffer {
  const len = b.length < 0x80 ? Buffer.from([b.length]) : Buffer.from([0x81, b.length]);
  return Buffer.concat([Buffer.from([0x04]), len, b]);
}

/** SubjectPublicKeyInfo (DER) from the public attributes read off the token. */
export function spkiFromAttributes(
  algorithm: KeyAlgorithm,
  attrs: { modulus?: Buffer; exponent?: Buffer; ecPoint?: Buffer },
): Buffer {
  let jwk: JsonWebKey;
  if (isRsa(algorithm)) {
    jwk = { kty: 'RSA', n: attrs.modulus!.toString('base64url'), e: attrs.exponent!.toString('base64url') };
  } else {
    // CKA_EC_POINT is a DER OCTET STRING wrapping 04‖x‖y (some modules return the bare point)
    const coord = algorithm === 'EC-P256' ? 32 : 48;
    const p = attrs.ecPoint!.subarray(attrs.ecPoint!.length - (1 + 2 * coord));
    jwk = {
      kty: 'EC',
      crv: JWK_CURVE[algorithm],
      x: p.subarray(1, 1 + coord).toString('base64url'),
      y: p.subarray(1 + coord).toString('base64url'),
    };
  }
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

export function algorithmOfEcParams(params: Buffer): KeyAlgorithm {
  if (params.equals(CURVE_PARAMS['EC-P256'])) return 'EC-P256';
  if (params.equals(CURVE_PARAMS['EC-P384'])) return 'EC-P384';
  throw new RangeError('unsupported EC curve on the token');
}

/**
 * One signature of a digest with a key of this algorithm, wherever it is made (the event loop's
 * sessions, a worker's lane): the mechanism, the module's input and room for its output, and the
 * module's answer as CMS and X.509 want it (RSA PKCS#1 v1.5 over a DigestInfo; ECDSA as DER).
 */
export function signingCall(algorithm: KeyAlgorithm, hash: HashAlgorithm, digest: Uint8Array) {
  const rsa = isRsa(algorithm);
  return {
    mechanism: { mechanism: rsa ? pkcs11.CKM_RSA_PKCS : pkcs11.CKM_ECDSA },
    input: rsa ? digestInfo(hash, digest) : Buffer.from(digest),
    output: Buffer.alloc(rsa ? 512 : 132),
    finish: (raw: Uint8Array): Uint8Array => (rsa ? Buffer.from(raw) : ecdsaRawToDer(raw)),
  };
}

/** How errors and time-outs name a signature. */
export const signingContext = (keyId: string) => `signing with key ${keyId}`;
