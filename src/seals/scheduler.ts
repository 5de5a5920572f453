/**
 * Rotation by policy: a seal may rotate every N days and/or after N signatures. Every instance runs
 * the scheduler; a lease in the database makes sure only one of them rotates at a time.
 *
 * The scheduler carries out only a policy that was itself approved: setting a policy is a change under
 * two-person control, and the policy is stored with who approved it, sealed with a MAC under the server
 * secret. A policy without a valid approval (set in the database, set before approvals existed, or set
 * by one person on a seal that has come under two-person control since) is reported and not run.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/chain.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { OneSealError } from '../errors.js';
import { acquireLease, releaseLease } from '../store/leases.js';
import { activeSealVersion, getSeal, listSeals, updateSeal, type RotationPolicyApproval, type SealRecord, type SealVersionRecord } from '../store/seals.js';
import { lockSeal, type ChangeOptions } from './lifecycle.js';
import { performRotation, type RotationResult } from './rotation.js';
import type { GovernedDeps, SealDeps } from './service.js';
import type { AccessSecrets } from '../access/secrets.js';


export interface RotationPolicy {
  everyDays?: number;
  afterSignatures?: number;
}

export const ROTATION_LEASE = 'seal-rotation';
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

function approvalContent(sealId: string, policy: RotationPolicy | null, a: Omit<RotationPolicyApproval, 'mac'>): string {
  return canonicalJson({ sealId, policy, kind: a.kind, approvedBy: a.approvedBy, proposalId: a.proposalId, approvedAt: a.approvedAt });
}

/** The approval record of a policy, sealed so the scheduler can tell it was not written behind its back. */
export function approvePolicy(secrets: AccessSecrets, sealId: string, policy: RotationPolicy, a: Omit<RotationPolicyApproval, 'mac' | 'approvedAt'>): RotationPolicyApproval {
  const unsealed = { ...a, approvedAt: new Date().toISOString() };
  return { ...unsealed, mac: secrets.mac('rotation-policy', approvalContent(sealId, policy, unsealed)) };
}

/** Why the scheduler must not run a seal's policy, or undefined when its approval holds. */
export function unapprovedPolicy(deps: Pick<GovernedDeps, 'secrets' | 'config'>, seal: SealRecord, policy: RotationPolicy): string | undefined {
  const a = seal.rotationPolicyApproval;
  if (!a) return 'the policy carries no approval (set it again: `oneseal seal policy`)';
  if (!deps.secrets.macMatches('rotation-policy', approvalContent(seal.id, policy, a), a.mac)) {
    return 'the policy does not match its approval: it was changed outside OneSeal';
  }
  if (a.kind === 'one-person' && (deps.config.production || seal.twoPersonControl)) {
    return `the policy was set by ${a.approvedBy.join(', ')} alone, and the seal is now under two-person control`;
  }
  return undefined;
}

/** Sets (or, with null, removes) a seal's rotation policy with its approval, in the change's transaction. */
export async function applyRotationPolicy(
  deps: Pick<SealDeps, 'store'>,
  sealId: string,
  policy: RotationPolicy | null,
  approval: RotationPolicyApproval | null,
  actor: string,
  change: Pick<ChangeOptions, 'beforeChange' | 'auditDetails'> = {},
): Promise<SealRecord> {
  return deps.store.db.transaction(async (trx: Knex.Transaction) => {
    await lockSeal(trx, sealId);
    await change.beforeChange?.(trx);
    await updateSeal(trx, sealId, { rotationPolicy: policy, rotationPolicyApproval: approval });
    await appendAudit(trx, { actor, action: 'seal.rotation-policy', subject: sealId, details: { policy, approvedBy: approval?.approvedBy ?? [], ...change.auditDetails } });
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
  /** Due under a policy that is not approved: not rotated. */
  unapproved: { sealId: string; reason: string }[];
}

/** An id for this process's runs, unique across hosts. */
export function newLeaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

/**
 * Rotates every seal whose approved policy says its active version is due. The approval of the policy
 * is the authority for these rotations, so they need no proposal; the audit entry names the approvers.
 * A failure on one seal is reported and does not stop the others.
 */
export async function runDueRotations(deps: GovernedDeps, now: Date = new Date(), options: { holder?: string } = {}): Promise<RotationRun> {
  const holder = options.holder ?? newLeaseHolder();
  if (!(await acquireLease(deps.store.db, ROTATION_LEASE, holder, now, LEASE_TTL_MS))) return { ran: false, rotated: [], failed: [], unapproved: [] };
  const run: RotationRun = { ran: true, rotated: [], failed: [], unapproved: [] };
  try {
    for (const seal of await listSeals(deps.store.db)) {
      const active = await activeSealVersion(deps.store.db, seal.id);
      const policy = parseRotationPolicy(seal.rotationPolicy);
      const reason = active && rotationDue(policy, active, now);
      if (!reason || !policy) continue;
      const refused = unapprovedPolicy(deps, seal, policy);
      if (refused) {
        run.unapproved.push({ sealId: seal.id, reason: refused });
        continue;
      }
      const approvers = seal.rotationPolicyApproval!.approvedBy;
      try {
        const rotation = await performRotation(deps, seal.id, `system:scheduler (policy approved by ${approvers.join(', ')})`, {
          auditDetails: { trigger: 'policy', reason, policyApprovedBy: approvers, policyProposal: seal.rotationPolicyApproval!.proposalId },
        });
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
export function startRotationScheduler(deps: GovernedDeps, options: SchedulerOptions): () => Promise<void> {
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
