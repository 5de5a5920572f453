/**
 * Certificates parsed once per distinct DER: the same root, TSA and seal certificates appear in
 * thousands of documents, and asn1js schema parsing costs far more than the signature checks.
 * Cached objects are shared between verifications, so nothing in src/verify may mutate them.
 */
import * as pkijs from 'pkijs';
import { certificateDer, rememberDer } from '../pki/der.js';
import { TAG, children, contentOf, readTlv, tlvBytes } from '../signing/der.js';

/** Enough for every CA, TSA and seal certificate of a busy deployment; bounded against hostile input. */
const MAX_ENTRIES = 1_000;
const cache = new Map<string, pkijs.Certificate>();

/** Parses DER X.509 (throws like pkijs.Certificate.fromBER on malformed input). */
export function certificateFromDer(der: Uint8Array): pkijs.Certificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  let cert = cache.get(key);
  if (cert) {
    // Least recently used first in iteration order: refresh on every hit.
    cache.delete(key);
    cache.set(key, cert);
    return cert;
  }
  const own = der.slice();
  cert = pkijs.Certificate.fromBER(own);
  rememberDer(cert, own);
  cache.set(key, cert);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return cert;
}

const issuerAndSerial = new WeakMap<pkijs.Certificate, { issuer: Uint8Array; serial: Uint8Array }>();

/**
 * The issuer Name (DER) and serial number (INTEGER content) as encoded in the certificate, for
 * matching CMS signer identifiers without re-encoding names.
 */
export function issuerAndSerialOf(cert: pkijs.Certificate): { issuer: Uint8Array; serial: Uint8Array } {
  let found = issuerAndSerial.get(cert);
  if (!found) {
    const der = certificateDer(cert);
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, … }, … }
    const tbs = children(der, readTlv(der, 0))[0]!;
    const fields = children(der, tbs);
    const at = fields[0]!.tag === TAG.CTX0 ? 1 : 0;
    found = { serial: contentOf(der, fields[at]!), issuer: tlvBytes(der, fields[at + 2]!) };
    issuerAndSerial.set(cert, found);
  }
  return found;
}
