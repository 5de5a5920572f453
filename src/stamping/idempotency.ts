/**
 * Idempotency-Key handling: the first request with a key reserves it and does the work; a repeat
 * with the same request gets the recorded result (no second signature); a repeat with another
 * request is refused; a repeat while the first still works waits for it, for a bounded time.
 *
 * Exactly-once rests on the (client_id, idempotency_key) primary key, so it holds across instances;
 * the in-process map lets waiters here wake up as soon as the work ends instead of polling.
 *
 * On PostgreSQL (several instances) the first request inserts a pending row before the work. On
 * SQLite, where one server writes, that row was a write of its own on the one writer connection,
 * between group commits, and cost keyed requests a fifth to a quarter of their rate: there the
 * reservation is the in-process map, after a look for the key's row on the read connection, and the
 * row is inserted done in the transaction that records the result. Should another process have
 * inserted it meanwhile (a server being replaced, a CLI), that insert fails, nothing of this request
 * is recorded, and it answers as a repeat of the one that won.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Knex } from 'knex';
import { OneSealError } from '../errors.js';
import { isPostgres, isUniqueViolation, type Db } from '../store/db.js';
import { completeIdempotencies, insertDoneIdempotencies, getIdempotency, releaseIdempotency, reserveIdempotency, type CompletedReservation, type ReservationRef } from '../store/idempotency.js';
import { nowIso } from '../store/codec.js';
import { INSTANCE_ID, isInstanceAlive } from './instance.js';

export interface IdempotencyScope {
  db: Knex;
  /** Where a key's row is looked for without waiting for writes (Store.reads). */
  reads: Knex;
  clientId: string;
  key: string;
  /** SHA-256 of the document bytes and normalised options. */
  requestHash: string;
  /** How long a repeat waits for the first request before answering 409. */
  waitMs: number;
  /** A pending reservation older than this is taken to belong to a process that died, even if its lease looks alive. */
  staleMs: number;
}

/**
 * Marks reservations done inside the caller's transaction, so each commits with its result: one
 * statement for all of a group commit's, and one INSERT for those held in this process (which fails
 * with a unique violation if another process recorded the key first). Fails with
 * idempotency-reservation-lost when a pending one was released or taken over meanwhile (alone, that
 * one's; among several, the commit retries each alone).
 */
export async function completeReservations(trx: Db, all: readonly CompletedReservation[]): Promise<void> {
  const held = all.filter((d) => d.reservation.inProcess);
  if (held.length > 0) await insertDoneIdempotencies(trx, held);
  const done = all.filter((d) => !d.reservation.inProcess);
  if (done.length === 0 || (await completeIdempotencies(trx, done)) === done.length) return;
  const which = done.length === 1 ? `The Idempotency-Key "${done[0]!.reservation.key}" reservation was` : 'An Idempotency-Key reservation among these requests was';
  throw new OneSealError('idempotency-reservation-lost', 'conflict',
    `${which} taken over while this request worked; retry with the same key to get the result.`);
}

const running = new Map<string, Promise<unknown>>();

/** Awaits the work while holding its key in this process, so repeats here wait for it instead of polling. */
async function holding<T>(local: string, run: Promise<T>): Promise<T> {
  running.set(local, run);
  try {
    return await run;
  } finally {
    running.delete(local);
  }
}

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export async function idempotent<T>(
  scope: IdempotencyScope,
  /** Given the reservation, which the work marks done in the transaction that records its result (completeReservations). */
  work: (reservation: ReservationRef) => Promise<T>,
  replay: (resultId: string) => Promise<T>,
): Promise<{ value: T; replayed: boolean }> {
  const { db, clientId, key, requestHash } = scope;
  // The owner is this instance: one key has one reservation, so (client, key, instance) names it.
  const owner = INSTANCE_ID;
  const mine: ReservationRef = { clientId, key, owner };
  const local = `${clientId}\u0000${key}`;
  const deadline = Date.now() + scope.waitMs;
  /** Waits for the request holding the key: here, until it ends; elsewhere, one poll of a bounded backoff. */
  const waitTurn = async (attempt: number) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new OneSealError('idempotency-key-in-progress', 'conflict',
        `A request with the Idempotency-Key "${key}" is still being processed; retry with the same key shortly to get its result.`,
        { retryAfter: 1 });
    }
    const holder = running.get(local);
    if (holder) await Promise.race([holder.catch(() => undefined), delay(remaining)]);
    else await delay(Math.min(remaining, 20 * 2 ** Math.min(attempt, 4)));
  };
  const heldInProcess = !isPostgres(db);
  /** Why this request's own record failed: another process recorded the key first. */
  let lostTo: unknown;
  for (let attempt = 0; ; attempt++) {
    let existing;
    if (heldInProcess) {
      if (running.has(local)) {
        await waitTurn(attempt);
        continue;
      }
      existing = await getIdempotency(scope.reads, clientId, key);
      if (!existing) {
        // A record that failed on the key while no row can be found is no lost race: nothing to replay.
        if (lostTo) throw lostTo;
        if (running.has(local)) continue; // taken here while we looked
        try {
          return { value: await holding(local, work({ ...mine, inProcess: { requestHash, createdAt: nowIso() } })), replayed: false };
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
          lostTo = e;
          continue;
        }
      }
    } else {
      if (await reserveIdempotency(db, { clientId, key, requestHash, status: 'pending', resultId: null, owner, createdAt: nowIso() })) {
        const run = work(mine).catch(async (e: unknown) => {
          await releaseIdempotency(db, mine);
          throw e;
        });
        return { value: await holding(local, run), replayed: false };
      }
      existing = await getIdempotency(db, clientId, key);
      if (!existing) continue; // released since our insert failed: try to reserve it ourselves
    }
    if (existing.requestHash !== requestHash) {
      throw new OneSealError('idempotency-key-reused', 'unprocessable',
        `The Idempotency-Key "${key}" was already used for a different request (other document or options); use a new key for a new request.`,
        { fields: [{ field: 'Idempotency-Key', message: 'already used for a different request' }] });
    }
    if (existing.status === 'done') return { value: await replay(existing.resultId!), replayed: true };
    const orphaned = !(await isInstanceAlive(db, existing.owner));
    if (orphaned || Date.now() - Date.parse(existing.createdAt) > scope.staleMs) {
      await releaseIdempotency(db, { clientId, key, owner: existing.owner });
      continue;
    }
    await waitTurn(attempt);
  }
}
