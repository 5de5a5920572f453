/**
 * Named leases: a row per job that at most one holder owns until it expires, so that several OneSeal
 * instances sharing a database run a scheduled job once.
 */
import type { Db } from './db.js';

/**
 * Takes the lease if nobody holds it, it has expired, or `holder` already holds it (renewal).
 * One statement (insert … on conflict do update … where), so two instances racing for it cannot both win.
 */
export async function acquireLease(db: Db, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  const nowIso = now.toISOString();
  const rows = await db('leases')
    .insert({ name, holder, expires_at: new Date(now.getTime() + ttlMs).toISOString() })
    .onConflict('name')
    .merge(['holder', 'expires_at'])
    .where((q) => q.where('leases.expires_at', '<=', nowIso).orWhere('leases.holder', holder))
    .returning('holder');
  return rows.length > 0;
}

/** Gives the lease up early, only if `holder` still owns it. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db('leases').where({ name, holder }).delete();
}

export async function getLease(db: Db, name: string): Promise<{ holder: string; expiresAt: string } | undefined> {
  const row = await db('leases').where({ name }).first();
  return row ? { holder: String(row.holder), expiresAt: String(row.expires_at) } : undefined;
}
