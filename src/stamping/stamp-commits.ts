/**
 * The commit point of API stamps, shared by the stamps in flight (group commit, ./group-commit.ts):
 * their outputs are written and fsynced together with one fsync of the directory, then ONE database
 * transaction records them all. A request is answered only after the commit that carried it, so
 * "answered" still means output and record on disk — fewer fsyncs, not weaker ones.
 *
 * Each stamp's records go in under a savepoint of their own: if one fails (a unique violation, an
 * Idempotency-Key reservation taken over), only that stamp is rolled back — its audit entry with it,
 * so the chain stays unbroken — and its output removed; the others commit.
 */
import type { Knex } from 'knex';
import { GroupCommit, type BatchOutcome } from './group-commit.js';
import { removeOutput, writeOutputs, type Output } from './outputs.js';

export interface PendingStamp {
  outputs: Output[];
  /** Inserts its records (stamp rows, audit entries, idempotency completion) in the transaction given. */
  record(trx: Knex.Transaction): Promise<void>;
}

/** What stamping sees of the commit point: hand a stamp over, learn when it is durable. */
export type StampCommits = Pick<GroupCommit<PendingStamp>, 'submit'>;

export function stampCommits(db: Knex, dataDir: string, onCommit?: (size: number) => void): StampCommits {
  return new GroupCommit<PendingStamp>((items) => commitStamps(db, dataDir, items), { onCommit });
}

export async function commitStamps(db: Knex, dataDir: string, items: readonly PendingStamp[]): Promise<BatchOutcome> {
  const outputs = items.flatMap((item, owner) => item.outputs.map((output) => ({ output, owner })));
  const written = await writeOutputs(dataDir, outputs.map((o) => o.output));
  const outcome: BatchOutcome = items.map(() => undefined);
  outputs.forEach((o, k) => {
    if (written[k] !== undefined && outcome[o.owner] === undefined) outcome[o.owner] = written[k];
  });
  const live = items.flatMap((_, i) => (outcome[i] === undefined ? [i] : []));
  if (live.length > 0) {
    try {
      await db.transaction(async (trx) => {
        // Alone in its commit, a stamp needs no savepoint: its failure rolls back the transaction.
        if (live.length === 1) return items[live[0]!]!.record(trx);
        for (const i of live) {
          try {
            await trx.transaction((savepoint) => items[i]!.record(savepoint));
          } catch (e) {
            outcome[i] = e;
          }
        }
      });
    } catch (e) {
      for (const i of live) if (outcome[i] === undefined) outcome[i] = e;
    }
  }
  // Only files this commit put in place: a write that failed left nothing of ours at its path.
  const orphans = outputs.filter((o, k) => outcome[o.owner] !== undefined && written[k] === undefined);
  await Promise.all(orphans.map((o) => removeOutput(dataDir, o.output.path)));
  return outcome;
}
