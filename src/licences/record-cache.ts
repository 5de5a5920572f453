/**
 * The public status page is the hottest read OneSeal serves (every QR scan). Records are kept for
 * one second: changes made in this process drop them at once, another instance's within the second.
 */
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { afterCommit } from '../store/after-commit.js';
import type { LicenceRecord } from '../store/licences.js';

export const LICENCE_RECORD_TTL_MS = 1000;
const MAX_ENTRIES = 10_000;

const changes = new EventEmitter();
changes.setMaxListeners(0);

/** Announces, once `trx` commits, that licence `id` changed (superseded, revoked). */
export function licenceChangedOnCommit(trx: Knex.Transaction, id: string): void {
  afterCommit(trx, () => changes.emit('changed', id));
}

export class LicenceRecordCache {
  private readonly entries = new Map<string, { record: Promise<LicenceRecord | undefined>; expires: number }>();

  constructor() {
    changes.on('changed', (id: string) => this.entries.delete(id));
  }

  get(id: string, load: (id: string) => Promise<LicenceRecord | undefined>): Promise<LicenceRecord | undefined> {
    const now = Date.now();
    const hit = this.entries.get(id);
    if (hit && hit.expires > now) return hit.record;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const record = load(id);
    this.entries.set(id, { record, expires: now + LICENCE_RECORD_TTL_MS });
    record.catch(() => this.entries.delete(id));
    return record;
  }
}
