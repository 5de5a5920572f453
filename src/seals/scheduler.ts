/**
 * Rotation by policy: a seal may rotate every N days and/or after N signatures. Every instance runs
 * the scheduler; a lease in the database makes sure only one of them rotates at a time.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { acquireLease, releaseLease } from '../store/leases.js';
import { activeSealVersion, getSeal, listSeals, updateSeal, type SealRecord, type SealVersionRecord } from '../store/seals.js';
import { lockSeal, requireSeal } from './lifecycle.js';
import { performRotation, type RotationResult } from './rotation.js';
import type { SealDeps } from './service.js';

export interface RotationPolicy {
  everyDays?: number;
  afterSignatures?: number;
}

export const ROTATION_LEASE = 'seal-rotation';
const SCHEDULER_ACTOR = 'system:scheduler';
const DAY_MS = 24 * 3600 * 1000;
/** Long enough for a run of HSM key generations; an instance that dies mid-run frees the lease after it. */
const LEASE_TTL_MS = 10 * 60 * 1000;

export function parseRotationPolicy(value: unknown): RotationPolicy | null {
  if (value === null || value === undefined) return null;
  const invalid = (message: string) =>
    new OneSealError('invalid-rotation-policy', 'unprocessable', `Invalid rotation policy: ${message}. Example: { "everyDays": 365, "afterSignatures": 100000 }.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('it must be an object');
  const { everyDays, afterSignatures, ...other } = value as Record<string, unknown>;
  if (Object.keys(other).length) throw invalid(`unknown field ${Object.keys(other).join(', ')}`);
  if (everyDays !== undefined && !(typeof everyDays === 'number' && Number.isFinite(everyDays) && everyDays > 0)) {
    throw invalid('everyDays must be a positive number');
  }
  if (afterSignatures !== undefined && !(Number.isInteger(afterSignatures) && (afterSignatures as number) > 0)) {
    throw invalid('afterSignatures must be a positive whole number');
  }
  if (everyDays === undefined && afterSignatures === undefined) throw invalid('give everyDays, afterSignatures or both (or null for none)');
  return { ...(everyDays !== undefined ? { everyDays } : {}), ...(afterSignatures !== undefined ? { afterSignatures: afterSignatures as number } : {}) };
}

/** Sets (or, with null, removes) a seal's rotation policy. */
export async function setRotationPolicy(deps: Pick<SealDeps, 'store'>, sealId: string, policy: unknown, actor: string): Promise<SealRecord> {
  const parsed = parseRotationPolicy(policy);
  await requireSeal(deps, sealId);
  return deps.store.db.transaction(async (trx) => {
    await lockSeal(trx, sealId);
    await updateSeal(trx, sealId, { rotationPolicy: parsed });
    await appendAudit(trx, { actor, action: 'seal.rotation-policy', subject: sealId, details: { policy: parsed } });
    return (await getSeal(trx, sealId))!;
  });
}

/** Why the active version is due for rotation under the policy, or undefined when it is not. */
export function rotationDue(policy: RotationPolicy | null, version: SealVersionRecord, now: Date): string | undefined {
  if (!policy) return undefined;
  if (policy.afterSignatures !== undefined && version.signatureCount >= policy.afterSignatures) {
    return `${version.signatureCount} signatures (policy: after ${policy.afterSignatures})`;
  }
  if (policy.everyDays !== undefined) {
    const since = Date.parse(version.activatedAt ?? version.createdAt);
    if (now.getTime() - since >= policy.everyDays * DAY_MS) return `active since ${new Date(since).toISOString()} (policy: every ${policy.everyDays} days)`;
  }
  return undefined;
}

export interface RotationRun {
  /** False when another instance holds the lease; nothing was looked at. */
  ran: boolean;
  rotated: { sealId: string; reason: string; rotation: RotationResult }[];
  failed: { sealId: string; error: Error }[];
}

/** An id for this process's runs, unique across hosts. */
export function newLeaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

/**
 * Rotates every seal whose policy says its active version is due. Policy rotations are authorised by
 * whoever set the policy, so they run without a second approval even on two-person-control seals.
 * A failure on one seal is reported and does not stop the others.
 */
export async function runDueRotations(deps: SealDeps, now: Date = new Date(), options: { holder?: string } = {}): Promise<RotationRun> {
  const holder = options.holder ?? newLeaseHolder();
  if (!(await acquireLease(deps.store.db, ROTATION_LEASE, holder, now, LEASE_TTL_MS))) return { ran: false, rotated: [], failed: [] };
  const run: RotationRun = { ran: true, rotated: [], failed: [] };
  try {
    for (const seal of await listSeals(deps.store.db)) {
      const active = await activeSealVersion(deps.store.db, seal.id);
      const reason = active && rotationDue(parseRotationPolicy(seal.rotationPolicy), active, now);
      if (!reason) continue;
      try {
        const rotation = await performRotation(deps, seal.id, SCHEDULER_ACTOR, { auditDetails: { trigger: 'policy', reason } });
        run.rotated.push({ sealId: seal.id, reason, rotation });
      } catch (e) {
        run.failed.push({ sealId: seal.id, error: e as Error });
      }
    }
  } finally {
    await releaseLease(deps.store.db, ROTATION_LEASE, holder);
  }
  return run;
}

export interface SchedulerOptions {
  intervalMs: number;
  /** Called after each run that held the lease (for logs and tests). */
  onRun?: (run: RotationRun) => void;
  /** Called when a run fails as a whole (database unavailable, …); the scheduler keeps going. */
  onError?: (error: unknown) => void;
}

/** Runs runDueRotations every intervalMs without keeping the process alive; the returned function stops it and waits for a run in progress. */
export function startRotationScheduler(deps: SealDeps, options: SchedulerOptions): () => Promise<void> {
  const holder = newLeaseHolder();
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return; // a slow run (many key generations) is not overlapped by the next tick
    running = runDueRotations(deps, new Date(), { holder })
      .then((run) => {
        if (run.ran) options.onRun?.(run);
      })
      .catch((e) => options.onError?.(e))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
