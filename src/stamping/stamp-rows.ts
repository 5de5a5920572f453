/**
 * The rows of the stamps in one group commit, gathered while each stamp's `record` runs and then
 * written together: one INSERT per table (outputs kept in the database included, a few to a
 * statement), one signature-count UPDATE per seal version and one audit
 * chain append for all of them, instead of five statements per stamp, sent together (see `write`). In
 * the same transaction as before, so nothing of it is less durable or less atomic.
 */
import type { Knex } from 'knex';
import { appendAudits, appendAuditsAfter, type AuditEntry, type AuditEvent, type AuditTip } from '../audit/chain.js';
import { incrementSignatureCount } from '../store/seals.js';
import { together, type Statement } from '../store/together.js';
import type { CompletedReservation, ReservationRef } from '../store/idempotency.js';
import { completeReservations } from './idempotency.js';
import { insertStampBatches, insertStampOutputs, insertStamps, type StampBatchRecord, type StampOutputRow, type StampRecord } from '../store/stamps.js';

export class StampRows {
  private readonly batches: StampBatchRecord[] = [];
  private readonly stamps: StampRecord[] = [];
  private readonly outputs: StampOutputRow[] = [];
  private readonly signatures = new Map<number, number>();
  private readonly audit: AuditEvent[] = [];
  private readonly reservationsDone: CompletedReservation[] = [];

  batch(batch: StampBatchRecord): void {
    this.batches.push(batch);
  }

  /** A stamp made with seal version `versionId`, which counts one signature more. */
  stamp(record: StampRecord, versionId: number): void {
    this.stamps.push(record);
    this.signatures.set(versionId, (this.signatures.get(versionId) ?? 0) + 1);
  }

  /** The output of a stamp given to `stamp`, kept in the database (OUTPUT_IN_DATABASE). */
  output(row: StampOutputRow): void {
    this.outputs.push(row);
  }

  /** Audit entries join the chain in the order they are given. */
  auditEntry(event: AuditEvent): void {
    this.audit.push(event);
  }

  /** An Idempotency-Key reservation to mark done with its result (completeReservations). */
  reservationDone(reservation: ReservationRef, resultId: string): void {
    this.reservationsDone.push({ reservation, resultId });
  }

  /**
   * In a transaction begun with WRITES_SENT_TOGETHER (../store/sqlite-client.ts): on SQLite the lock is
   * held already and foreign keys are checked at COMMIT, so nothing here waits for another process's
   * lock and every write is sent at once: with BEGIN and COMMIT, three trips in a row through libuv's
   * pool and back to the event loop per commit. `after`, the audit tip the last commit left, spares the
   * claim of the tip that would otherwise come first (appendAuditsAfter); the tip this commit leaves is
   * returned. On PostgreSQL, where they run one after another in the order given, rows come after the
   * rows they reference, and the audit tip is written after the signature counts: a seal's rotation or
   * revocation locks its versions and then the tip, and the other order could deadlock with it.
   */
  async write(trx: Knex.Transaction, after?: AuditTip): Promise<AuditTip | undefined> {
    // In id order, so two instances committing at once lock the versions in the same order.
    const counts = [...this.signatures].sort((a, b) => a[0] - b[0]).map(([versionId, count]) => () => incrementSignatureCount(trx, versionId, count));
    let entries: AuditEntry[] = [];
    const audit = async () => {
      entries = await (after ? appendAuditsAfter(trx, this.audit, after) : appendAudits(trx, this.audit));
    };
    // Rows of their own, which nothing here references.
    const reservations = () => completeReservations(trx, this.reservationsDone);
    await together(trx, ...this.writeStamps(trx), ...counts, audit, reservations);
    const last = entries.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : after;
  }

  /** Batches, then the stamps that name them, then the outputs that name those. */
  private writeStamps(trx: Knex.Transaction): Statement<void>[] {
    return [
      ...(this.batches.length > 0 ? [() => insertStampBatches(trx, this.batches)] : []),
      ...(this.stamps.length > 0 ? [() => insertStamps(trx, this.stamps)] : []),
      ...(this.outputs.length > 0 ? [() => insertStampOutputs(trx, this.outputs)] : []),
    ];
  }
}
