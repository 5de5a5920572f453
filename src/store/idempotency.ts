/**
 * Idempotency-Key reservations: one row per (client, key). 'pending' while the first request works,
 * 'done' with the result's id once it committed. The primary key decides who does the work.
 */
import { mapper, nullable, text, type Codec } from './codec.js';
import { isUniqueViolation, type Db } from './db.js';

export interface IdempotencyRecord {
  clientId: string;
  key: string;
  requestHash: string;
  status: 'pending' | 'done';
  resultId: string | null;
  owner: string;
  createdAt: string;
}

const records = mapper<IdempotencyRecord>({
  clientId: ['client_id', text],
  key: ['idempotency_key', text],
  requestHash: ['request_hash', text],
  status: ['status', text as Codec<'pending' | 'done'>],
  resultId: ['result_id', nullable(text)],
  owner: ['owner', text],
  createdAt: ['created_at', text],
});

export async function getIdempotency(db: Db, clientId: string, key: string): Promise<IdempotencyRecord | undefined> {
  const row = await db('idempotency_keys').where({ client_id: clientId, idempotency_key: key }).first();
  return row ? records.fromRow(row) : undefined;
}

/** Inserts a pending reservation; false when the (client, key) row already exists. */
export async function reserveIdempotency(db: Db, record: IdempotencyRecord): Promise<boolean> {
  try {
    await db('idempotency_keys').insert(records.toRow(record));
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

/** One reservation: the client's key, and the instance that holds it. */
export interface ReservationRef {
  clientId: string;
  key: string;
  owner: string;
  /** Held in this process only, with no row yet: its row is inserted, done, with the result. */
  inProcess?: { requestHash: string; createdAt: string };
}

/** A reservation whose request recorded `resultId`. */
export interface CompletedReservation {
  reservation: ReservationRef;
  resultId: string;
}

/** The row of this owner's reservation, while it is pending. */
const pendingRow = (r: ReservationRef) => ({ client_id: r.clientId, idempotency_key: r.key, owner: r.owner, status: 'pending' });

/**
 * Marks these owners' pending reservations done, each with its result, in one statement; how many
 * were (fewer than given: one was released or taken over meanwhile).
 */
export async function completeIdempotencies(db: Db, list: readonly CompletedReservation[]): Promise<number> {
  const resultIds = db.raw(`CASE ${list.map(() => 'WHEN client_id = ? AND idempotency_key = ? THEN ?').join(' ')} END`,
    list.flatMap(({ reservation, resultId }) => [reservation.clientId, reservation.key, resultId]));
  const updated = await db('idempotency_keys')
    .where((q) => {
      for (const { reservation } of list) void q.orWhere(pendingRow(reservation));
    })
    .update({ status: 'done', result_id: resultIds });
  return Number(updated);
}

/** Frees a pending reservation (its request failed, or its owner died), so a retry can do the work. */
export async function releaseIdempotency(db: Db, rec: ReservationRef): Promise<void> {
  await db('idempotency_keys').where(pendingRow(rec)).del();
}

/** Rows for reservations held in this process only, inserted done with their results. */
export async function insertDoneIdempotencies(db: Db, list: readonly CompletedReservation[]): Promise<void> {
  await db('idempotency_keys').insert(list.map(({ reservation: r, resultId }) => records.toRow({
    clientId: r.clientId, key: r.key, requestHash: r.inProcess!.requestHash, status: 'done', resultId, owner: r.owner, createdAt: r.inProcess!.createdAt,
  })));
}
