/**
 * Certificate path building from a signer (or TSA) certificate to one of the configured trust anchors,
 * checked at a given time: each link's signature, each issuer being a CA, validity periods.
 */
import type { KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { certificateDer } from '../pki/der.js';
import { parseName } from '../pki/names.js';
import { publicKeyOf, verifyCertSignature } from './crypto.js';
import { bytesOf } from '../pki/der.js';
import { detail, reason, type Reason } from './reasons.js';

/** Real PKIs are a handful of levels deep; a longer path is a loop or an attack. */
const MAX_PATH = 8;

export interface TrustResult {
  /** True when a path to an anchor exists (whatever the validity periods say). */
  anchored: boolean;
  /** Leaf first, anchor last, when anchored. */
  chain: pkijs.Certificate[];
  reasons: Reason[];
}

const derCache = new WeakMap<pkijs.Certificate, string>();
const keyCache = new WeakMap<pkijs.Certificate, KeyObject | null>();
/**
 * Certificate signature checks already made, issuer by subject. Callers scope it to one verification
 * (certificates are shared between verifications, see certs.ts), so each verification checks its own chains.
 */
export type SignatureChecks = Map<pkijs.Certificate, Map<pkijs.Certificate, boolean>>;

export function certDer(cert: pkijs.Certificate): Uint8Array {
  return bytesOf(cert.toSchema().toBER(false));
}

/** Identity by encoding; cached because path search compares the same certificates many times. */
function derKey(cert: pkijs.Certificate): string {
  let k = derCache.get(cert);
  if (k === undefined) derCache.set(cert, (k = Buffer.from(certificateDer(cert)).toString('base64')));
  return k;
}

function keyOf(cert: pkijs.Certificate): KeyObject | null {
  let k = keyCache.get(cert);
  if (k === undefined) {
    try {
      k = publicKeyOf(cert);
    } catch {
      k = null;
    }
    keyCache.set(cert, k);
  }
  return k;
}

function isCa(cert: pkijs.Certificate): boolean {
  const bc = cert.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue;
  return bc instanceof pkijs.BasicConstraints && bc.cA === true;
}

function signedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate, checked: SignatureChecks): boolean {
  let memo = checked.get(cert);
  if (!memo) checked.set(cert, (memo = new Map()));
  let ok = memo.get(issuer);
  if (ok === undefined) {
    const key = cert.issuer.isEqual(issuer.subject) ? keyOf(issuer) : null;
    ok = key !== null && verifyCertSignature(cert, key);
    memo.set(issuer, ok);
  }
  return ok;
}

function validAt(cert: pkijs.Certificate, at: Date): boolean {
  return cert.notBefore.value.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.value.getTime();
}

/**
 * Depth-first search for a path; `pool` holds untrusted intermediates (CMS, DSS, caller extras).
 * `dead` remembers certificates from which no path exists, so cross-certified pools stay linear.
 */
function findPath(
  cert: pkijs.Certificate,
  pool: pkijs.Certificate[],
  anchors: pkijs.Certificate[],
  onPath: Set<string>,
  dead: Set<string>,
  checked: SignatureChecks,
): pkijs.Certificate[] | undefined {
  const id = derKey(cert);
  if (anchors.some((a) => derKey(a) === id)) return [cert];
  if (dead.has(id) || onPath.size >= MAX_PATH) return undefined;
  for (const anchor of anchors) {
    if (signedBy(cert, anchor, checked)) return [cert, anchor];
  }
  onPath.add(id);
  for (const candidate of pool) {
    const cid = derKey(candidate);
    if (onPath.has(cid) || dead.has(cid)) continue;
    if (!isCa(candidate) || !signedBy(cert, candidate, checked)) continue;
    const rest = findPath(candidate, pool, anchors, onPath, dead, checked);
    if (rest) return [cert, ...rest];
  }
  onPath.delete(id);
  dead.add(id);
  return undefined;
}

export function buildChain(
  leaf: pkijs.Certificate,
  pool: pkijs.Certificate[],
  anchors: pkijs.Certificate[],
  at: Date,
  checks: SignatureChecks = new Map(),
): TrustResult {
  const chain = anchors.length === 0 ? undefined : findPath(leaf, pool, anchors, new Set(), new Set(), checks);
  if (!chain) return { anchored: false, chain: [], reasons: [reason('NO_TRUST_ANCHOR')] };
  const reasons: Reason[] = [];
  const expired = chain.find((c) => !validAt(c, at));
  if (expired) {
    const subject = parseName(expired.subject).commonName ?? '';
    reasons.push(
      reason(
        'CERT_EXPIRED',
        detail(`证书“${subject}”在 ${at.toISOString()} 不在有效期内。`, `Certificate "${subject}" was not valid at ${at.toISOString()}.`),
      ),
    );
  }
  return { anchored: true, chain, reasons };
}
