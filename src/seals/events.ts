/**
 * In-process notice that a seal's versions changed (rotation, revocation, key destruction), so
 * caches of signing material drop it at once. Other instances see the change when their short
 * cache entries expire (see SIGNING_MATERIAL_TTL_MS).
 */
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { afterCommit } from '../store/after-commit.js';

const events = new EventEmitter();
events.setMaxListeners(0);

export function onSealChanged(listener: (sealId: string) => void): () => void {
  events.on('changed', listener);
  return () => events.off('changed', listener);
}

/** Announces the change once `trx` commits (a rolled-back change changes nothing). */
export function sealChangedOnCommit(trx: Knex.Transaction, sealId: string): void {
  afterCommit(trx, () => events.emit('changed', sealId));
}
