import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { BoundedMemo } from '../bounded-memo.js';
import { OneSealError } from '../errors.js';
import type { DigestSigner, HashAlgorithm, KeyAlgorithm } from '../hsm/types.js';

/** OIDs of the digest algorithms OneSeal computes and accepts. */
export const HASH_OIDS: Record<HashAlgorithm, string> = {
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};

const NODE_HASH: Record<HashAlgorithm | 'SHA-1', string> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** Node's name for a hash algorithm. */
export const nodeHash = (hash: HashAlgorithm | 'SHA-1'): string => NODE_HASH[hash];

export function digest(hash: HashAlgorithm | 'SHA-1', data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(NODE_HASH[hash]).update(data).digest());
}

export function hashAlgorithmFromOid(oid: string): HashAlgorithm | undefined {
  return (Object.keys(HASH_OIDS) as HashAlgorithm[]).find((h) => HASH_OIDS[h] === oid);
}

/** Digest AlgorithmIdentifier with NULL parameters, the form RFC 5754 says receivers must accept and OpenSSL emits. */
export function hashAlgorithmIdentifier(hash: HashAlgorithm): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash], algorithmParams: new asn1js.Null() });
}

interface SignatureScheme {
  hash: HashAlgorithm;
  oid: string;
  /** RSA signature AlgorithmIdentifiers carry NULL parameters; ECDSA ones must omit them (RFC 5758). */
  nullParams: boolean;
}

/** The hash is tied to the key so that security levels match (P-384 is paired with SHA-384). */
const SCHEMES: Record<KeyAlgorithm, SignatureScheme> = {
  'RSA-2048': { hash: 'SHA-256', oid: '1.2.840.113549.1.1.11', nullParams: true },
  'RSA-3072': { hash: 'SHA-256', oid: '1.2.840.113549.1.1.11', nullParams: true },
  'EC-P256': { hash: 'SHA-256', oid: '1.2.840.10045.4.3.2', nullParams: false },
  'EC-P384': { hash: 'SHA-384', oid: '1.2.840.10045.4.3.3', nullParams: false },
};

function schemeFor(signer: DigestSigner): SignatureScheme {
  const scheme = SCHEMES[signer.algorithm];
  if (!scheme) {
    throw new OneSealError('unsupported-key-algorithm', 'internal', `Key algorithm ${String(signer.algorithm)} cannot sign certificates or tokens.`);
  }
  return scheme;
}

/** The digest algorithm a signer's signatures use. */
export function signerHash(signer: DigestSigner): HashAlgorithm {
  return schemeFor(signer).hash;
}

/** A fresh signatureAlgorithm value for this signer (fresh because pkijs objects are mutable). */
export function signatureAlgorithmIdentifier(signer: DigestSigner): pkijs.AlgorithmIdentifier {
  const scheme = schemeFor(signer);
  return scheme.nullParams
    ? new pkijs.AlgorithmIdentifier({ algorithmId: scheme.oid, algorithmParams: new asn1js.Null() })
    : new pkijs.AlgorithmIdentifier({ algorithmId: scheme.oid });
}

/** The AlgorithmIdentifiers every stamp and time-stamp token carries, DER-encoded once per algorithm. */
const encodedIdentifiers = new Map<string, Buffer>();

function encodedOnce(key: string, identifier: () => pkijs.AlgorithmIdentifier): Buffer {
  let der = encodedIdentifiers.get(key);
  if (!der) encodedIdentifiers.set(key, (der = Buffer.from(identifier().toSchema().toBER())));
  return der;
}

export const signatureAlgorithmDer = (signer: DigestSigner): Buffer =>
  encodedOnce(`signature ${signer.algorithm}`, () => signatureAlgorithmIdentifier(signer));

export const hashAlgorithmDer = (hash: HashAlgorithm): Buffer => encodedOnce(`digest ${hash}`, () => hashAlgorithmIdentifier(hash));

/**
 * Importing a key costs several times its verification. Keyed by the key's bytes, not its array: a
 * worker thread receives a fresh copy of the signer's spki with every task. Seals in use at once are
 * few; the bound only keeps a stream of rotations from growing the memo.
 */
const publicKeys = new BoundedMemo<string, KeyObject>(256);

function publicKeyOf(signer: DigestSigner): KeyObject {
  const id = Buffer.from(signer.spki.buffer, signer.spki.byteOffset, signer.spki.byteLength).toString('base64');
  return publicKeys.get(id, () => createPublicKey({ key: Buffer.from(signer.spki), format: 'der', type: 'spki' }));
}

/**
 * Signs DER "to-be-signed" bytes (a TBSCertificate, TBSCertList, ResponseData or CMS signed attributes):
 * the digest is computed here and only the digest goes to the signer, so the key never has to leave the HSM.
 * `hash` defaults to the one paired with the key; a format that fixes its own (audit heads) passes it.
 *
 * The signer's answer is verified with its public key before anyone sees it: a signature by another
 * key (an object handle that went stale with a token reset and now names a different key) or a
 * corrupted one would otherwise go out as a stamp, certificate or response no validator accepts.
 */
export async function signTbs(signer: DigestSigner, tbs: Uint8Array, hash = signerHash(signer)): Promise<Uint8Array> {
  const signature = await signer.signDigest(hash, digest(hash, tbs));
  const key = publicKeyOf(signer);
  // RSA signers answer PKCS#1 v1.5 (node's default padding), EC signers DER (hsm/types.ts).
  const check = { key, dsaEncoding: 'der' as const };
  // An ECDSA check costs more than the HSM's signing call; on the event loop, with a callback, node runs
  // it on its thread pool instead. A PDF worker has nothing else to do meanwhile, and there the hop to the
  // pool and back only adds two thread wake-ups: in-process P-256 stamps through the worker pool ran
  // 29–47% faster checking on the worker itself. An RSA check costs less than queuing such a job anywhere.
  const valid = signer.algorithm.startsWith('EC') && isMainThread
    ? await new Promise<boolean>((resolve, reject) => verify(NODE_HASH[hash], tbs, check, signature, (e, ok) => (e ? reject(e) : resolve(ok))))
    : verify(NODE_HASH[hash], tbs, check, signature);
  if (valid) return signature;
  throw new OneSealError(
    'signature-check-failed',
    'unavailable',
    "The HSM returned a signature that does not verify with the signing key's public key, so nothing was signed. Retry shortly; if it persists, check the HSM and the key behind the seal.",
    { retryAfter: 5, extra: { component: 'hsm' } },
  );
}
