/** Key algorithms OneSeal generates in the HSM. */
export type KeyAlgorithm = 'RSA-2048' | 'RSA-3072' | 'EC-P256' | 'EC-P384';

export type HashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

/**
 * The one thing PKI and PAdES code needs from a key: sign a digest that was computed elsewhere.
 * The HSM implements it (src/hsm/hsm.ts); nothing else holds private keys.
 *
 * For RSA the result is a PKCS#1 v1.5 signature (the DigestInfo is built by the implementation);
 * for EC it is a DER-encoded ECDSA-Sig-Value (SEQUENCE { r, s }), as CMS and X.509 expect.
 */
export interface DigestSigner {
  readonly algorithm: KeyAlgorithm;
  /** The public key as DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  signDigest(hash: HashAlgorithm, digest: Uint8Array): Promise<Uint8Array>;
}
