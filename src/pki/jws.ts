/**
 * Signed JSON documents for relying parties that are not X.509 tools (the trust list, the licence
 * status list): a JWS in the flattened JSON serialisation (RFC 7515 §7.2.2), RS256 by the root CA's key
 * in the HSM, with the root certificate in the protected header's x5c. Whoever mirrors the file passes
 * it on unchanged; readers check the signature against the root they already trust.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { OneSealError } from '../errors.js';
import type { KeyWithCertificate } from './authority.js';
import { sameBytes } from './der.js';

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

const b64u = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

export async function signJws(signer: KeyWithCertificate, typ: string, payload: unknown): Promise<FlattenedJws> {
  const header = b64u(JSON.stringify({ alg: 'RS256', typ, x5c: [Buffer.from(signer.certificate).toString('base64')] }));
  const body = b64u(JSON.stringify(payload));
  const digest = createHash('sha256').update(`${header}.${body}`, 'latin1').digest();
  return { protected: header, payload: body, signature: b64u(await signer.signer.signDigest('SHA-256', digest)) };
}

function invalid(detail: string): OneSealError {
  return new OneSealError('invalid-signed-document', 'unprocessable', detail);
}

/** The payload of a JWS of type `typ` signed by `root` (DER); throws OneSealError otherwise. */
export function verifyJws(text: string, typ: string, root: Uint8Array): unknown {
  let jws: Partial<FlattenedJws>;
  let header: { alg?: unknown; typ?: unknown; x5c?: unknown };
  try {
    jws = JSON.parse(text) as Partial<FlattenedJws>;
    header = JSON.parse(Buffer.from(String(jws.protected), 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw invalid('not a JWS in JSON serialisation');
  }
  if (header.alg !== 'RS256' || header.typ !== typ) throw invalid(`not a ${typ} signed with RS256`);
  const x5c = Array.isArray(header.x5c) && typeof header.x5c[0] === 'string' ? new Uint8Array(Buffer.from(header.x5c[0], 'base64')) : undefined;
  if (!x5c || !sameBytes(x5c, root)) throw invalid(`the ${typ} is not signed by the trusted root`);
  const ok = verify('sha256', Buffer.from(`${jws.protected}.${jws.payload}`, 'latin1'), new X509Certificate(root).publicKey, Buffer.from(String(jws.signature), 'base64url'));
  if (!ok) throw invalid(`the ${typ} signature does not verify`);
  try {
    return JSON.parse(Buffer.from(String(jws.payload), 'base64url').toString('utf8'));
  } catch {
    throw invalid(`the ${typ} payload is not JSON`);
  }
}
