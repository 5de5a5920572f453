/**
 * This process's identity among OneSeal instances sharing a database, kept alive by a short lease.
 * Work that a process reserves (an Idempotency-Key being stamped) names the instance, so when the
 * process dies — SIGKILL, power loss — others see its lease lapse within seconds and take the work
 * over, instead of waiting out a time-out.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../store/db.js';
import { acquireLease, getLease, releaseLease } from '../store/leases.js';

export const INSTANCE_ID = randomUUID();
export const INSTANCE_LEASE_TTL_MS = 10_000;
const RENEW_EVERY_MS = 3_000;

const leaseName = (instance: string) => `instance:${instance}`;

/** Takes this instance's lease and renews it until `stop()` (which gives it up). */
export async function startInstanceLease(db: Db): Promise<{ stop(): Promise<void> }> {
  const renew = () => acquireLease(db, leaseName(INSTANCE_ID), INSTANCE_ID, new Date(), INSTANCE_LEASE_TTL_MS);
  await renew();
  const timer = setInterval(() => {
    // A missed renewal is retried 3 s later; the 10 s lease outlives two misses.
    renew().catch(() => undefined);
  }, RENEW_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await releaseLease(db, leaseName(INSTANCE_ID), INSTANCE_ID).catch(() => undefined);
    },
  };
}

/** True while the instance's lease is held and unexpired. */
export async function isInstanceAlive(db: Db, instance: string): Promise<boolean> {
  if (instance === INSTANCE_ID) return true;
  const lease = await getLease(db, leaseName(instance));
  return lease !== undefined && lease.holder === instance && Date.parse(lease.expiresAt) > Date.now();
}
