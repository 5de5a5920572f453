/**
 * Two-person control: on a seal that requires it, rotation, revocation and key destruction are
 * proposed by one administrator and carried out only when a different one approves. On other seals
 * the same requests run at once.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import type { RevocationReason } from '../pki/revocation.js';
import { getProposal, insertProposal, transitionProposal, type ProposalAction, type ProposalRecord } from '../store/approvals.js';
import { getSealVersion, type SealVersionRecord } from '../store/seals.js';
import {
  checkDestroyable,
  checkRevocation,
  performKeyDestruction,
  performRevocation,
  requireSeal,
  type ChangeOptions,
} from './lifecycle.js';
import { performRotation, type RotationResult } from './rotation.js';
import type { SealDeps } from './service.js';

/** What each action needs; revokedAt is ISO-8601 (JSON-safe, it is stored with the proposal). */
export interface ParamsFor {
  rotate: { sealId: string };
  revoke: { sealId: string; version: number; reason: string; revokedAt?: string };
  'destroy-key': { sealId: string; version: number };
}

type ProposalParams = { [A in ProposalAction]: { action: A } & ParamsFor[A] }[ProposalAction];

export type ActionResult =
  | { action: 'rotate'; rotation: RotationResult }
  | { action: 'revoke' | 'destroy-key'; version: SealVersionRecord };

export type ProposalOutcome =
  | { executed: false; proposal: ProposalRecord }
  | { executed: true; proposal?: ProposalRecord; result: ActionResult };

const ACTIONS: readonly ProposalAction[] = ['rotate', 'revoke', 'destroy-key'];

function proposalNotFound(id: string): OneSealError {
  return new OneSealError('proposal-not-found', 'not-found', `There is no proposal "${id}".`);
}

/** Validates a request before anything is stored, so a proposal that could never run is refused at once. */
async function checkParams(deps: SealDeps, params: ProposalParams): Promise<void> {
  if (!ACTIONS.includes(params.action)) {
    throw new OneSealError('invalid-proposal-action', 'unprocessable', `"${String(params.action)}" is not an action; use one of: ${ACTIONS.join(', ')}.`);
  }
  if (params.action === 'rotate') return;
  if (!Number.isInteger(params.version) || params.version < 1) {
    throw new OneSealError('invalid-seal-version', 'unprocessable', 'The version must be a positive whole number.', { fields: [{ field: 'version', message: 'a positive integer' }] });
  }
  const v = await getSealVersion(deps.store.db, params.sealId, params.version);
  if (!v) throw new OneSealError('seal-version-not-found', 'not-found', `Seal "${params.sealId}" has no version ${params.version}.`);
  if (params.action === 'revoke') {
    checkRevocation(params.reason, params.revokedAt === undefined ? undefined : new Date(params.revokedAt), new Date());
    if (v.revokedAt) throw new OneSealError('seal-version-revoked', 'conflict', `Seal "${params.sealId}" version ${params.version} is already revoked.`);
  } else {
    checkDestroyable(v);
  }
}

function execute(deps: SealDeps, params: ProposalParams, actor: string, change: ChangeOptions): Promise<ActionResult> {
  switch (params.action) {
    case 'rotate':
      return performRotation(deps, params.sealId, actor, change).then((rotation) => ({ action: 'rotate', rotation }));
    case 'revoke':
      return performRevocation(
        deps,
        params.sealId,
        params.version,
        { reason: params.reason as RevocationReason, actor, ...(params.revokedAt ? { revokedAt: new Date(params.revokedAt) } : {}) },
        change,
      ).then((version) => ({ action: 'revoke', version }));
    case 'destroy-key':
      return performKeyDestruction(deps, params.sealId, params.version, actor, change).then((version) => ({ action: 'destroy-key', version }));
  }
}

function paramsOf(p: ProposalRecord): ProposalParams {
  return { ...p.params, action: p.action, sealId: p.sealId } as ProposalParams;
}

/**
 * Asks for a lifecycle action. Under two-person control it is stored as a pending proposal that
 * another administrator must approve; otherwise it runs now.
 */
export async function propose<A extends ProposalAction>(
  deps: SealDeps,
  action: A,
  actionParams: ParamsFor[A],
  actor: string,
  options: Pick<ChangeOptions, 'onStep'> = {},
): Promise<ProposalOutcome> {
  const params = { ...actionParams, action } as ProposalParams;
  const seal = await requireSeal(deps, params.sealId);
  await checkParams(deps, params);
  if (!seal.twoPersonControl) return { executed: true, result: await execute(deps, params, actor, options) };
  const { action: _action, sealId, ...rest } = params;
  return deps.store.db.transaction(async (trx) => {
    const proposal = await insertProposal(trx, { id: randomUUID(), sealId, action, params: rest, proposedBy: actor, proposedAt: new Date().toISOString() });
    await appendAudit(trx, { actor, action: 'proposal.create', subject: sealId, details: { proposalId: proposal.id, action, params: rest } });
    return { executed: false as const, proposal };
  });
}

function assertSecondPerson(p: ProposalRecord, actor: string, verb: string): void {
  if (p.proposedBy === actor) {
    throw new OneSealError(
      'same-person-approval',
      'forbidden',
      `${actor} proposed this ${p.action} of seal "${p.sealId}" and cannot ${verb} it too: two-person control needs a different administrator.`,
    );
  }
}

/**
 * Approves a proposal and carries it out. The approval is committed first; the action then marks the
 * proposal executed inside its own transaction, so a failed execution (HSM down) leaves it approved,
 * and approving again retries it without running it twice.
 */
export async function approve(
  deps: SealDeps,
  proposalId: string,
  actor: string,
  options: Pick<ChangeOptions, 'onStep'> = {},
): Promise<{ proposal: ProposalRecord; result: ActionResult }> {
  const p = await getProposal(deps.store.db, proposalId);
  if (!p) throw proposalNotFound(proposalId);
  assertSecondPerson(p, actor, 'approve');
  if (p.status === 'rejected' || p.status === 'executed') {
    throw new OneSealError('proposal-closed', 'conflict', `Proposal ${proposalId} is already ${p.status}.`);
  }
  if (p.status === 'pending') {
    await deps.store.db.transaction(async (trx) => {
      const approvedAt = new Date().toISOString();
      if (!(await transitionProposal(trx, proposalId, 'pending', { status: 'approved', approvedBy: actor, approvedAt }))) {
        throw new OneSealError('proposal-changed', 'conflict', `Proposal ${proposalId} was decided by someone else at the same time; look at it again.`);
      }
      await appendAudit(trx, { actor, action: 'proposal.approve', subject: p.sealId, details: { proposalId, action: p.action } });
    });
  }
  const markExecuted = async (trx: Knex.Transaction): Promise<void> => {
    // Only one execution can move it from approved to executed; a concurrent one rolls back here.
    if (!(await transitionProposal(trx, proposalId, 'approved', { status: 'executed', executedAt: new Date().toISOString() }))) {
      throw new OneSealError('proposal-changed', 'conflict', `Proposal ${proposalId} was executed by someone else at the same time.`);
    }
  };
  const result = await execute(deps, paramsOf(p), actor, { ...options, beforeChange: markExecuted, auditDetails: { proposalId, proposedBy: p.proposedBy } });
  return { proposal: (await getProposal(deps.store.db, proposalId))!, result };
}

export async function reject(deps: Pick<SealDeps, 'store'>, proposalId: string, actor: string): Promise<ProposalRecord> {
  return deps.store.db.transaction(async (trx) => {
    const p = await getProposal(trx, proposalId);
    if (!p) throw proposalNotFound(proposalId);
    // The proposer withdrawing their own proposal is allowed: rejecting never changes a seal.
    if (!(await transitionProposal(trx, proposalId, 'pending', { status: 'rejected', rejectedBy: actor, rejectedAt: new Date().toISOString() }))) {
      throw new OneSealError('proposal-closed', 'conflict', `Proposal ${proposalId} is ${p.status}; only a pending proposal can be rejected.`);
    }
    await appendAudit(trx, { actor, action: 'proposal.reject', subject: p.sealId, details: { proposalId, action: p.action } });
    return (await getProposal(trx, proposalId))!;
  });
}
