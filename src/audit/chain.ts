/**
 * The audit log as a hash chain: each entry's hash covers its content and the previous entry's hash,
 * so changing, removing or inserting an entry breaks the chain at that entry.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import {
  advanceAuditTip,
  auditRowsAfter,
  claimAuditSeqs,
  getAuditTip,
  insertAuditRows,
  listAuditHeads,
  setAuditTipHash,
  type AuditRow,
  type AuditTip,
} from '../store/audit.js';
import { canonicalJson } from './canonical-json.js';
import { together } from '../store/together.js';

export type { AuditTip };

/** The prev_hash of entry 1 (also the initial audit_tip hash written by the first migration). */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  /** Who (src/access/actors.ts): 'person:NAME', 'client:NAME', 'break-glass:OSUSER', 'system:…', or 'anonymous' for a failed login. */
  actor: string;
  /** What, as a dotted verb: 'seal.create', 'stamp.create', 'client.revoke'. */
  action: string;
  /** The thing acted on, e.g. a seal id or stamp id. */
  subject?: string | null;
  /** Plain JSON data; never secrets (PINs, API keys). */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, details, prevHash } = entry;
  const canonical = canonicalJson({ seq, at, actor, action, subject, details, prev_hash: prevHash });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Appends an entry inside the caller's transaction, so the entry commits or rolls back with the change
 * it records. Appends from concurrent transactions are serialised by the tip row lock (see claimAuditSeqs).
 */
export async function appendAudit(trx: Knex.Transaction, event: AuditEvent): Promise<AuditEntry> {
  return (await appendAudits(trx, [event]))[0]!;
}

/**
 * Appends entries in the order given, as appendAudit does one: one claim of the tip, one INSERT and
 * one tip update for all of them (a group commit of stamps records its entries so).
 */
export async function appendAudits(trx: Knex.Transaction, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
  if (events.length === 0) return [];
  const { first, prevHash } = await claimAuditSeqs(trx, events.length);
  const entries = chainEntries(events, first, prevHash);
  await together(trx, () => insertAuditRows(trx, auditRows(entries)), () => setAuditTipHash(trx, entries.at(-1)!.hash));
  return entries;
}

/** The tip `after` was not the chain's tip any more: someone else appended. The transaction must be rolled back. */
export class AuditTipMoved extends Error {
  constructor() {
    super('the audit chain grew since its tip was last seen');
  }
}

/**
 * Appends entries after `after`, a tip the caller saw at its last commit, without claiming the tip
 * first: the entries are chained from it and sent with one UPDATE of the tip that moves it only if it
 * is still `after` (sequence number and hash). Once that UPDATE matched, no one can append until the
 * transaction ends (SQLite's write lock, PostgreSQL's lock on the tip row), as after a claim. If the tip
 * had moved, it throws AuditTipMoved and the caller must roll back: the INSERT sent with it may have
 * gone in.
 */
export async function appendAuditsAfter(trx: Knex.Transaction, events: readonly AuditEvent[], after: AuditTip): Promise<AuditEntry[]> {
  if (events.length === 0) return [];
  const entries = chainEntries(events, after.seq + 1, after.hash);
  const last = entries.at(-1)!;
  // The tip first: a moved tip explains a failed INSERT too (its sequence numbers are taken), so it is the reason given.
  await together(
    trx,
    async () => {
      if (!(await advanceAuditTip(trx, after, last))) throw new AuditTipMoved();
    },
    () => insertAuditRows(trx, auditRows(entries)),
  );
  return entries;
}

function chainEntries(events: readonly AuditEvent[], first: number, tipHash: string): AuditEntry[] {
  const at = new Date().toISOString();
  let prevHash = tipHash;
  return events.map((event, i): AuditEntry => {
    // Through JSON once, so what we hash is exactly what reads back from the database (no Dates, no undefined).
    const details = JSON.parse(JSON.stringify(event.details ?? {})) as Record<string, unknown>;
    const unhashed = { seq: first + i, at, actor: event.actor, action: event.action, subject: event.subject ?? null, details, prevHash };
    const entry = { ...unhashed, hash: auditEntryHash(unhashed) };
    prevHash = entry.hash;
    return entry;
  });
}

const auditRows = (entries: readonly AuditEntry[]) => entries.map((e) => ({ ...e, detailsJson: JSON.stringify(e.details) }));

export type AuditProblem = 'altered' | 'removed' | 'inserted';

export type AuditVerification =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | { ok: false; seq: number; problem: AuditProblem; message: string };

/** The hash the row's own content gives, or undefined when its details are not JSON any more. */
function recomputedHash(row: AuditRow): string | undefined {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.detailsJson) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return auditEntryHash({ ...row, details });
}

function broken(seq: number, problem: AuditProblem, message: string): AuditVerification {
  return { ok: false, seq, problem, message };
}

/**
 * Walks the chain in sequence order (all of it, or from `after`, a point already trusted such as a
 * signed head) and names the first bad entry:
 * - removed: a sequence number is missing (a gap, or the log ends before the recorded tip);
 * - inserted: an entry sits between two entries that link to each other directly;
 * - altered: an entry's content no longer gives its hash, or it was re-hashed and its successor's link broke,
 *   or it differs from a recorded chain head (audit_heads), which catches a consistent rewrite of the whole
 *   chain from that entry on. The heads' signatures are checked by verifyAuditHeads (src/audit/heads.ts).
 */
export async function verifyAuditChain(
  db: Db,
  options: { pageSize?: number; after?: AuditTip } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 1000;
  let prev = options.after ? { seq: options.after.seq, hash: options.after.hash } : { seq: 0, hash: GENESIS_HASH };
  let prevPrevHash: string | undefined;
  let count = 0;
  const heads = new Map((await listAuditHeads(db)).map((h) => [h.seq, h]));
  for (;;) {
    const page = await auditRowsAfter(db, prev.seq, pageSize);
    if (page.length === 0) break;
    for (const row of page) {
      const selfOk = recomputedHash(row) === row.hash;
      const linkOk = row.prevHash === prev.hash;
      const seqOk = row.seq === prev.seq + 1;
      if (!(selfOk && linkOk && seqOk)) {
        if (row.seq > prev.seq + 1 && !linkOk) {
          const missing = row.seq - prev.seq - 1;
          return broken(prev.seq + 1, 'removed', `audit entry ${prev.seq + 1}${missing > 1 ? ` (and ${missing - 1} after it)` : ''} is missing: entry ${row.seq} follows entry ${prev.seq}`);
        }
        if (prevPrevHash !== undefined && row.prevHash === prevPrevHash) {
          return broken(prev.seq, 'inserted', `audit entry ${prev.seq} was inserted: entry ${row.seq} links past it to the entry before`);
        }
        if (seqOk && selfOk && !linkOk && prev.seq > 0) {
          return broken(prev.seq, 'altered', `audit entry ${prev.seq} was altered and re-hashed: entry ${row.seq} no longer links to it`);
        }
        return broken(row.seq, 'altered', `audit entry ${row.seq} was altered: its content does not give its recorded hash or link`);
      }
      const head = heads.get(row.seq);
      if (head && head.hash !== row.hash) {
        return broken(row.seq, 'altered', `audit entry ${row.seq} differs from the chain head signed at ${head.signedAt}: this or an earlier entry was rewritten along with every hash after it`);
      }
      prevPrevHash = prev.hash;
      prev = { seq: row.seq, hash: row.hash };
      count++;
    }
  }
  // The tip row records the last append, which catches removals and additions at the end of the log.
  const tip = await getAuditTip(db);
  if (tip.seq > prev.seq) {
    return broken(prev.seq + 1, 'removed', `audit entries ${prev.seq + 1}..${tip.seq} are missing from the end of the log`);
  }
  if (tip.seq < prev.seq) {
    return broken(tip.seq + 1, 'inserted', `audit entries ${tip.seq + 1}..${prev.seq} were added outside OneSeal (the recorded tip is ${tip.seq})`);
  }
  const lastHead = [...heads.values()].at(-1);
  if (lastHead && lastHead.seq > prev.seq) {
    return broken(prev.seq + 1, 'removed', `audit entries ${prev.seq + 1}..${lastHead.seq} are missing: a signed chain head covers them`);
  }
  if (tip.hash !== prev.hash) {
    return broken(prev.seq, 'altered', `audit entry ${prev.seq} was altered and re-hashed: the recorded tip hash differs`);
  }
  return { ok: true, count, lastSeq: prev.seq, lastHash: prev.hash };
}
