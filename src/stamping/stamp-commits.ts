/**
 * The commit point of API stamps, shared by the stamps in flight (group commit, ./group-commit.ts).
 * ONE database transaction records all of them, their rows written together (./stamp-rows.ts),
 * outputs small enough for the database among them (./outputs.ts). Output files, the larger ones, are
 * first put in place (in the server, already written, synced and renamed by the worker that signed
 * them; otherwise here, concurrently with the others), and one directory fsync makes the renames of
 * all the stamps waiting for it durable before their transaction.
 * The two stages are group commits of their own, so the directory fsync of the next stamps overlaps
 * the transaction of the previous ones (together, in one stage, they took ~13 ms per commit under
 * load, a third of it the fsync, and bounded the rate). A request is answered only after the
 * transaction that carried it, so "answered" still means output and record on disk — fewer fsyncs,
 * not weaker ones.
 *
 * One failing stamp must not take the others with it: if the transaction fails, it is rolled back
 * whole (audit entries included, so the chain stays unbroken) and each stamp is then recorded in a
 * transaction of its own, so only the one at fault fails; its output is removed. Failures are rare
 * (a lost Idempotency-Key reservation), so the common case pays for no savepoints.
 */
import type { Knex } from 'knex';
import { GroupCommit, type BatchOutcome } from './group-commit.js';
import { OutputDirectories, placeOutputs, removeOutput, type Output } from './outputs.js';
import { StampRows } from './stamp-rows.js';
import { isPostgres } from '../store/db.js';
import { WRITES_SENT_TOGETHER } from '../store/sqlite-client.js';
import { AuditTipMoved, type AuditTip } from '../audit/chain.js';

export interface PendingStamp {
  outputs: Output[];
  /**
   * Records the stamp in the transaction given: its stamp rows and audit entries handed to `rows`
   * (written with the other stamps' once every item ran), anything else (an Idempotency-Key
   * completion) directly. May run twice (a retry alone).
   */
  record(trx: Knex.Transaction, rows: StampRows): Promise<void>;
}

/** What stamping sees of the commit point: hand a stamp over, learn when it is durable. */
export interface StampCommits {
  submit(item: PendingStamp): Promise<void>;
}

/** The commit point as its owner holds it: it keeps the outputs' directory open until closed. */
export interface OwnedStampCommits extends StampCommits {
  close(): Promise<void>;
}

export function stampCommits(db: Knex, dataDir: string, onCommit?: (size: number) => void): OwnedStampCommits {
  const lastTip = isPostgres(db) ? undefined : new LastAuditTip();
  return outputsFirst(dataDir, new GroupCommit<PendingStamp>((items) => commitStamps(db, items, lastTip), { onCommit }));
}

/**
 * The audit tip the last stamp commit left, so the next one need not claim it first (a trip in a row
 * less per commit; see StampRows.write). Kept on SQLite only, where this process is in practice the
 * one that appends: another appender (an administrator's change, a CLI command) moves the tip, the
 * next commit finds out, and that commit is made again claiming the tip. On PostgreSQL the instances
 * share the chain, and a remembered tip would be wrong as often as right.
 */
export class LastAuditTip {
  value?: AuditTip;
}

/**
 * Each stamp puts its outputs in place and has their directory synced before it joins `commits`,
 * outside the transaction: the file fsyncs of one stamp overlap the others', and a directory fsync
 * (one for every stamp renamed before it started) overlaps the running transaction. A stamp that
 * fails to commit loses its outputs again.
 */
export function outputsFirst(dataDir: string, commits: StampCommits): OwnedStampCommits {
  const directories = new OutputDirectories(dataDir);
  const directorySyncs = new GroupCommit<readonly Output[]>(async (outputs) => {
    await directories.sync(outputs.flat());
    return outputs.map(() => undefined);
  });
  return {
    close: () => directories.close(),
    async submit(item) {
      // Outputs kept in the database are rows of the transaction: nothing to place or sync first.
      if (item.outputs.length === 0) return commits.submit(item);
      await placeOutputs(dataDir, item.outputs);
      try {
        await directorySyncs.submit(item.outputs);
        await commits.submit(item);
      } catch (e) {
        await Promise.all(item.outputs.map((o) => removeOutput(dataDir, o.path)));
        throw e;
      }
    },
  };
}

/** Records stamps whose outputs are in place and durable: one transaction for all. */
export async function commitStamps(db: Knex, items: readonly PendingStamp[], lastTip?: LastAuditTip): Promise<BatchOutcome> {
  try {
    await recordAll(db, items, lastTip);
    return items.map(() => undefined);
  } catch (e) {
    if (items.length === 1) return [e];
  }
  const outcome: BatchOutcome = [];
  for (const item of items) outcome.push(await recordAll(db, [item], lastTip).then(() => undefined, (e: unknown) => e));
  return outcome;
}

/** One transaction; made again, claiming the audit tip, if the tip remembered had moved. */
async function recordAll(db: Knex, items: readonly PendingStamp[], lastTip?: LastAuditTip): Promise<void> {
  const after = lastTip?.value;
  if (lastTip) lastTip.value = undefined; // until this commit is known to have left the tip it returns
  try {
    const tip = await db.transaction(async (trx) => {
      const rows = new StampRows();
      for (const item of items) await item.record(trx, rows);
      return rows.write(trx, after);
    }, WRITES_SENT_TOGETHER);
    if (lastTip) lastTip.value = tip;
  } catch (e) {
    if (after && e instanceof AuditTipMoved) return recordAll(db, items, lastTip);
    throw e;
  }
}
