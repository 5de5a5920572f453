import type { Knex } from 'knex';
import { isPostgres } from './db.js';

/** One statement of a transaction (or a few in a row), sent when called. */
export type Statement<T> = () => Promise<T>;

/**
 * Runs independent statements of one transaction and settles only once all of them have: after a
 * failure, the rollback must not overtake a statement still on its way, which would then run outside
 * the transaction. Resolves to their results, in the order given; of several failures, the first in
 * that order is the one thrown.
 *
 * On SQLite they are sent at once, none waiting for the answer before it (node-sqlite3 may run them in
 * any order): on its one connection every answer is a trip through libuv's pool and back to a busy
 * event loop. PostgreSQL's driver runs one query at a time per connection whatever is sent
 * (node-postgres queues the others, warns that this is deprecated, and refuses it from pg 9 on), so
 * there each is sent, in the order given, once the one before has answered: no extra round trip, and
 * none is sent after a failure.
 */
export async function together<T extends unknown[]>(trx: Knex.Transaction, ...statements: { [K in keyof T]: Statement<T[K]> }): Promise<T> {
  if (isPostgres(trx)) {
    const results: unknown[] = [];
    for (const statement of statements) results.push(await statement());
    return results as T;
  }
  const settled = await Promise.allSettled(statements.map((statement) => statement()));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}
