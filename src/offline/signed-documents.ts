/**
 * The trust list and the status list as served: signed by the root on demand and reused while their
 * content is unchanged and under an hour old, so a revocation or a new licence version shows in the very
 * next answer while repeated fetches cost no HSM signature. Each promises fresh data within a day
 * (nextUpdate); a verifier holding an older one calls its status stale.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { KeyWithCertificate } from '../pki/authority.js';
import { signJws, type FlattenedJws } from '../pki/jws.js';

const HOUR_MS = 3600 * 1000;
const REUSE_MS = HOUR_MS;
export const VALIDITY_MS = 24 * HOUR_MS;

export interface SignedDocument {
  jws: FlattenedJws;
  issuedAt: Date;
  nextUpdate: Date;
}

// Per database and document type: tests and tools may open several stores in one process.
const cache = new WeakMap<Knex, Map<string, { contentHash: string; doc: SignedDocument }>>();

export async function signedDocument(db: Knex, root: KeyWithCertificate, typ: string, content: object, now: Date = new Date()): Promise<SignedDocument> {
  const contentHash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  const byType = cache.get(db) ?? new Map();
  cache.set(db, byType);
  const cached = byType.get(typ);
  if (cached && cached.contentHash === contentHash && now.getTime() - cached.doc.issuedAt.getTime() < REUSE_MS) return cached.doc;
  const issuedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(issuedAt.getTime() + VALIDITY_MS);
  const jws = await signJws(root, typ, { ...content, issuedAt: issuedAt.toISOString(), nextUpdate: nextUpdate.toISOString() });
  const doc = { jws, issuedAt, nextUpdate };
  byType.set(typ, { contentHash, doc });
  return doc;
}
