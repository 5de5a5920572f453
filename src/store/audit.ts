/** Storage for the hash-chained audit log; the chain rules (hashing, verification) live in src/audit. */
import { int, mapper, nullable, text } from './codec.js';
import type { Knex } from 'knex';
import { chunks } from './chunks.js';
import type { Db } from './db.js';
import { newestFirst, within } from './keyset.js';

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  /** The details as stored JSON text; src/audit parses it (a damaged row must not crash verification). */
  detailsJson: string;
  prevHash: string;
  hash: string;
}

export interface AuditHeadRecord {
  seq: number;
  hash: string;
  /** Base64 signature over the head, by the key of `keyRole`. */
  signature: string;
  signedAt: string;
  keyRole: string;
}

const rows = mapper<AuditRow>({
  seq: ['seq', int],
  at: ['at', text],
  actor: ['actor', text],
  action: ['action', text],
  subject: ['subject', nullable(text)],
  detailsJson: ['details', text],
  prevHash: ['prev_hash', text],
  hash: ['hash', text],
});

const heads = mapper<AuditHeadRecord>({
  seq: ['seq', int],
  hash: ['hash', text],
  signature: ['signature', text],
  signedAt: ['signed_at', text],
  keyRole: ['key_role', text],
});

/**
 * Claims the next `count` sequence numbers (first … first + count - 1). Its first act is a write to
 * the single tip row, which holds the SQLite write lock or the PostgreSQL row lock until the
 * transaction ends: appends serialise here.
 */
export async function claimAuditSeqs(trx: Db, count: number): Promise<{ first: number; prevHash: string }> {
  const [row] = await trx('audit_tip').where({ id: 1 }).increment('seq', count).returning(['seq', 'hash']);
  if (!row) throw new Error('audit_tip row missing: the audit schema is damaged');
  const { seq, hash } = row as { seq: number | string; hash: string };
  return { first: Number(seq) - count + 1, prevHash: hash };
}

/** The tip of the chain: its last entry's sequence number and hash. */
export interface AuditTip {
  seq: number;
  hash: string;
}

/** Moves the tip from `from` to `to` if it is still at `from` (both sequence number and hash); whether it was. */
export async function advanceAuditTip(trx: Db, from: AuditTip, to: AuditTip): Promise<boolean> {
  return Number(await trx('audit_tip').where({ id: 1, seq: from.seq, hash: from.hash }).update({ seq: to.seq, hash: to.hash })) === 1;
}

export async function setAuditTipHash(trx: Db, hash: string): Promise<void> {
  await trx('audit_tip').where({ id: 1 }).update({ hash });
}

export async function getAuditTip(db: Db): Promise<AuditTip> {
  const row = await db('audit_tip').where({ id: 1 }).first();
  return { seq: Number(row.seq), hash: String(row.hash) };
}

export async function insertAuditRows(trx: Db, list: readonly AuditRow[]): Promise<void> {
  for (const chunk of chunks(list)) await trx('audit_log').insert(chunk.map((r) => rows.toRow(r)));
}

/** Up to `limit` rows with seq > afterSeq, in order: verification pages through the log with it. */
export async function auditRowsAfter(db: Db, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return (await db('audit_log').where('seq', '>', afterSeq).orderBy('seq').limit(limit)).map(rows.fromRow);
}

/** False when a head for that seq exists already (another signer got there first); the stored one stands. */
export async function insertAuditHead(db: Db, head: AuditHeadRecord): Promise<boolean> {
  const inserted = await db('audit_heads').insert(heads.toRow(head)).onConflict('seq').ignore().returning('seq');
  return inserted.length > 0;
}

export async function latestAuditHead(db: Db): Promise<AuditHeadRecord | undefined> {
  const row = await db('audit_heads').orderBy('seq', 'desc').first();
  return row ? heads.fromRow(row) : undefined;
}

export async function listAuditHeads(db: Db): Promise<AuditHeadRecord[]> {
  return (await db('audit_heads').orderBy('seq')).map(heads.fromRow);
}

/** What GET /v1/audit filters on (all must hold): the actor's label, the action, and `at` in [from, to). */
export interface AuditFilters {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
}

/**
 * The query for one page of entries, newest first, below `after` (an [at, seq] key). Ordered by time
 * (then seq, the same order as entries are appended under the chain lock) so that an actor's or an
 * action's entries within a time range are one stretch of its index.
 */
export function auditSearchQuery(db: Db, f: AuditFilters, after: readonly (string | number)[] | undefined, limit: number): Knex.QueryBuilder {
  const query = db('audit_log');
  if (f.actor !== undefined) query.where('actor', f.actor);
  if (f.action !== undefined) query.where('action', f.action);
  within(query, 'at', f.from, f.to);
  return newestFirst(query, ['at', 'seq'], after, limit);
}

export async function searchAudit(db: Db, f: AuditFilters, after: readonly (string | number)[] | undefined, limit: number): Promise<AuditRow[]> {
  return ((await auditSearchQuery(db, f, after, limit)) as Record<string, unknown>[]).map(rows.fromRow);
}
