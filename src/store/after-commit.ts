import type { Knex } from 'knex';

/**
 * Runs `fn` once `trx` has committed (never after a rollback): for telling in-process caches that
 * what they hold changed, without telling them about changes that did not happen.
 */
export function afterCommit(trx: Knex.Transaction, fn: () => void): void {
  trx.executionPromise.then(fn, () => undefined);
}
