/**
 * Digest and signature primitives by OID, over node:crypto. Verification must work for other signers'
 * files too, so it accepts the algorithms found in real PAdES documents (RSA PKCS#1 v1.5 and PSS, ECDSA,
 * Ed25519, DSA) but never MD5/MD2.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesOf } from '../pki/der.js';
import type { Algorithm } from './cms.js';

export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const DIGEST_OIDS: Record<string, HashName> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms that name their digest. */
const SIG_OIDS: Record<string, { kind: 'rsa' | 'ecdsa' | 'dsa'; hash: HashName }> = {
  '1.2.840.113549.1.1.5': { kind: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { kind: 'rsa', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.1': { kind: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { kind: 'ecdsa', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.2.840.10040.4.3': { kind: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { kind: 'dsa', hash: 'sha256' },
};
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSA_PSS = '1.2.840.113549.1.1.10';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const ED25519 = '1.3.101.112';

export function hashForOid(oid: string): HashName | undefined {
  return DIGEST_OIDS[oid];
}

export function digest(hash: HashName, ...chunks: Uint8Array[]): Buffer {
  const h = createHash(hash);
  for (const c of chunks) h.update(c);
  return h.digest();
}

/** Certificates are shared between verifications (certs.ts), so each key is imported once. */
const keys = new WeakMap<pkijs.Certificate, KeyObject>();

export function publicKeyOf(cert: pkijs.Certificate): KeyObject {
  let key = keys.get(cert);
  if (!key) {
    const spki = cert.subjectPublicKeyInfo.toSchema().toBER(false);
    keys.set(cert, (key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })));
  }
  return key;
}

function pssParams(params: unknown): { hash: HashName; saltLength: number } | undefined {
  if (!(params instanceof asn1js.Sequence)) return undefined;
  const p = new pkijs.RSASSAPSSParams({ schema: params });
  const hash = hashForOid(p.hashAlgorithm.algorithmId);
  return hash ? { hash, saltLength: p.saltLength } : undefined;
}

/**
 * Verifies `signature` over `data` with `key`. `sigAlg` is the signature AlgorithmIdentifier; when it is
 * a bare key algorithm (rsaEncryption, ecPublicKey — common in CMS SignerInfos) the digest comes from
 * `digestHash`. Returns false for unsupported algorithms rather than throwing: an unverifiable signature
 * is not a valid one.
 */
export function verifySignature(
  key: KeyObject,
  sigAlg: Algorithm,
  data: Uint8Array,
  signature: Uint8Array,
  digestHash?: HashName,
): boolean {
  const oid = sigAlg.algorithmId;
  try {
    if (oid === ED25519) return cryptoVerify(null, data, key, signature);
    if (oid === RSA_PSS) {
      const p = pssParams(sigAlg.algorithmParams);
      if (!p) return false;
      return cryptoVerify(p.hash, data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: p.saltLength }, signature);
    }
    const known = SIG_OIDS[oid];
    let hash: HashName | undefined = known?.hash;
    if (!known) {
      if (oid !== RSA_ENCRYPTION && oid !== EC_PUBLIC_KEY) return false;
      hash = digestHash;
    }
    if (!hash) return false;
    const isEc = known ? known.kind !== 'rsa' : oid === EC_PUBLIC_KEY;
    if (isEc) return cryptoVerify(hash, data, { key, dsaEncoding: 'der' }, signature);
    return cryptoVerify(hash, data, { key, padding: 1 /* RSA_PKCS1_PADDING */ }, signature);
  } catch {
    return false;
  }
}

/** Verifies that `cert` was signed by `issuerKey`. */
export function verifyCertSignature(cert: pkijs.Certificate | pkijs.CertificateRevocationList, issuerKey: KeyObject): boolean {
  const tbs = bytesOf(cert.tbsView);
  return verifySignature(issuerKey, cert.signatureAlgorithm, tbs, bytesOf(cert.signatureValue.valueBlock.valueHexView));
}
