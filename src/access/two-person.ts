/**
 * Two-person control for every change to who may use a seal, and how (the actions marked twoPerson in
 * policy.ts). A change asked for by a person is carried out at once where two-person control does not
 * apply; where it does (always in production; otherwise when a seal concerned is under it), it is
 * stored as a proposal that a DIFFERENT person holding seal-admin approves, which carries it out.
 *
 * What makes it hard to get round alone:
 * - proposer and approver are compared by person id (a second session, the CLI or the API: same person);
 * - system clients and break-glass never approve (policy.ts); break-glass changes run at once instead,
 *   audited as the PIN holder;
 * - a proposal whose proposer has since been disabled or lost seal-admin cannot be approved;
 * - what was proposed is sealed with a MAC under the server secret, and so is the approval: a row
 *   altered in the database, or marked approved there, is refused and never executed;
 * - the approver may name the digest of what they reviewed; a different proposal is refused;
 * - the pending → approved and approved → executed steps are conditional updates: two approvals racing
 *   each other carry the change out once, and the executed mark commits with the change itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/chain.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { OneSealError } from '../errors.js';
import type { RotationStep } from '../seals/lifecycle.js';
import type { GovernedDeps } from '../seals/service.js';
import { getProposal, insertProposal, listProposals, transitionProposal, type ProposalRecord, type ProposalStatus } from '../store/approvals.js';
import { getPerson } from '../store/people.js';
import { actorIdentity, actorLabel, type Actor, type PersonActor } from './actors.js';
import { CHANGE_HANDLERS } from './changes.js';
import { authorize, POLICY, type Action } from './policy.js';

export type { GovernedDeps };

type TwoPersonAction = { [A in Action]: (typeof POLICY)[A] extends { twoPerson: true } ? A : never }[Action];
export type ChangeAction = TwoPersonAction;

/** A change request checked and ready to store or carry out. */
export interface Prepared<P extends object> {
  /** Stored with the proposal (JSON; hashes, never a secret in clear). */
  params: P;
  /** What the change is about: a seal id, client name, person name. */
  subject: string;
  sealId: string | null;
  /** Shown once to whoever asked (e.g. a password generated for a new person); never stored. */
  disclosed?: Record<string, unknown>;
}

/** How a change is being carried out. */
export interface Execution {
  /** Who carries it out: the approver, or the person who asked where it runs at once. */
  actor: Actor;
  label: string;
  /** Who asked for it (a person id, or the label of a break-glass actor). */
  proposerIdentity: string;
  proposerLabel: string;
  /** The proposal being executed, when there is one. */
  proposalId: string | null;
  /** Call inside the change's transaction before writing: marks the proposal executed (exactly once). No-op when it runs at once. */
  beforeChange(trx: Knex.Transaction): Promise<void>;
  /** Merged into the change's audit entry. */
  auditDetails: Record<string, unknown>;
  onStep?: (step: RotationStep) => void;
}

export interface ChangeHandler<P extends object = object> {
  action: ChangeAction;
  prepare(deps: GovernedDeps, input: unknown, actor: Actor): Promise<Prepared<P>>;
  /** Outside production: whether the change needs a second person (e.g. the seal is under two-person control). */
  needsSecondPerson(deps: GovernedDeps, params: P): Promise<boolean>;
  /** Where a second person must approve: refuses a proposer who must not ask for this (checked before it is stored). */
  checkProposer?(deps: GovernedDeps, params: P, proposer: Actor): Promise<void>;
  /** Refuses an executor who must not carry this change out (checked before an approval is recorded). */
  checkExecutor?(deps: GovernedDeps, params: P, proposerIdentity: string, executor: Actor): Promise<void>;
  /** Carries the change out; returns what the executor is shown (secrets such as a new key included, once). */
  execute(deps: GovernedDeps, params: P, run: Execution): Promise<Record<string, unknown>>;
  /** The params as proposal listings show them (without hashes). */
  publicParams?(params: P): Record<string, unknown>;
}

export type ChangeOutcome =
  | { executed: false; proposal: ProposalRecord; disclosed?: Record<string, unknown> }
  | { executed: true; proposal?: ProposalRecord; result: Record<string, unknown> };

export interface ChangeOptions {
  onStep?: (step: RotationStep) => void;
}

function handlerFor(action: string): ChangeHandler {
  const h = (CHANGE_HANDLERS as Partial<Record<string, ChangeHandler>>)[action];
  if (!h) throw new OneSealError('invalid-proposal-action', 'unprocessable', `"${action}" is not a change that can be proposed.`);
  return h;
}

const noChange = async (): Promise<void> => {};

/** Whether a change of this kind needs a second person: always in production. */
async function underTwoPersonControl(deps: GovernedDeps, handler: ChangeHandler, params: object): Promise<boolean> {
  return deps.config.production || handler.needsSecondPerson(deps, params);
}

function proposalContent(p: Pick<ProposalRecord, 'id' | 'action' | 'sealId' | 'subject' | 'params' | 'proposedById' | 'proposedAt'>): string {
  return canonicalJson({ id: p.id, action: p.action, sealId: p.sealId, subject: p.subject, params: p.params, proposedById: p.proposedById, proposedAt: p.proposedAt });
}

function approvalContent(p: Pick<ProposalRecord, 'id' | 'contentMac' | 'approvedById' | 'approvedAt'>): string {
  return canonicalJson({ id: p.id, contentMac: p.contentMac, approvedById: p.approvedById, approvedAt: p.approvedAt });
}

/** SHA-256 of what was proposed: what an approver reviews and may name when approving. */
export function proposalDigest(p: ProposalRecord): string {
  return createHash('sha256').update(proposalContent(p)).digest('hex');
}

/**
 * Asks for a change as `actor`: checks the policy, validates the request, then carries it out at once
 * or stores it as a proposal for a second person.
 */
export async function requestChange(deps: GovernedDeps, actor: Actor, action: ChangeAction, input: unknown, options: ChangeOptions = {}): Promise<ChangeOutcome> {
  authorize(actor, action);
  const handler = handlerFor(action);
  const prepared = await handler.prepare(deps, input, actor);
  const label = actorLabel(actor);
  // The PIN holder's break-glass changes run at once: whoever holds the PIN can use the keys anyway.
  if (actor.kind === 'break-glass' || !(await underTwoPersonControl(deps, handler, prepared.params))) {
    const result = await handler.execute(deps, prepared.params, {
      actor,
      label,
      proposerIdentity: actorIdentity(actor),
      proposerLabel: label,
      proposalId: null,
      beforeChange: noChange,
      auditDetails: {},
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    return { executed: true, result: { ...result, ...prepared.disclosed } };
  }
  if (actor.kind !== 'person') {
    throw new OneSealError('not-allowed', 'forbidden', `${label} cannot propose changes: only people can, and a second person approves them.`);
  }
  await handler.checkProposer?.(deps, prepared.params, actor);
  const unsealed = {
    id: randomUUID(),
    action,
    sealId: prepared.sealId,
    subject: prepared.subject,
    params: JSON.parse(JSON.stringify(prepared.params)) as Record<string, unknown>,
    proposedBy: label,
    proposedById: actor.id,
    proposedAt: new Date().toISOString(),
  };
  const proposal = await deps.store.db.transaction(async (trx) => {
    const stored = await insertProposal(trx, { ...unsealed, contentMac: deps.secrets.mac('proposal', proposalContent(unsealed)) });
    await appendAudit(trx, {
      actor: label,
      action: 'proposal.create',
      subject: prepared.subject,
      details: { proposalId: stored.id, action, params: (handler.publicParams ?? ((p) => p))(stored.params), digest: proposalDigest(stored) },
    });
    return stored;
  });
  return { executed: false, proposal, ...(prepared.disclosed ? { disclosed: prepared.disclosed } : {}) };
}

function proposalNotFound(id: string): OneSealError {
  return new OneSealError('proposal-not-found', 'not-found', `There is no proposal "${id}".`);
}

async function sealedProposal(deps: GovernedDeps, id: string): Promise<ProposalRecord> {
  const p = await getProposal(deps.store.db, id);
  if (!p) throw proposalNotFound(id);
  if (!p.contentMac || !deps.secrets.macMatches('proposal', proposalContent(p), p.contentMac)) {
    throw new OneSealError('proposal-tampered', 'conflict',
      `Proposal ${id} does not match its seal: it was changed after it was proposed (or made before people existed). It will not be carried out; propose the change again.`);
  }
  return p;
}

/** The proposer must still be someone who could propose it: an enabled seal-admin. */
async function assertProposerStillEntitled(deps: GovernedDeps, p: ProposalRecord): Promise<void> {
  const proposer = p.proposedById ? await getPerson(deps.store.db, p.proposedById) : undefined;
  if (!proposer || proposer.disabledAt || !proposer.roles.includes('seal-admin')) {
    throw new OneSealError('proposer-not-entitled', 'conflict',
      `Proposal ${p.id} was made by ${p.proposedBy}, who is no longer an enabled seal-admin; it cannot be approved. Reject it, and propose the change again if it is still wanted.`);
  }
}

export interface ApproveOptions extends ChangeOptions {
  /** The digest of the proposal as the approver reviewed it (GET …/proposals/{id}); refused if it differs. */
  digest?: string;
}

/**
 * Approves another person's proposal and carries it out. The approval commits first; the change then
 * marks the proposal executed inside its own transaction, so a failed execution (HSM down) leaves it
 * approved, and approving again (by anyone but the proposer) retries it without running it twice.
 */
export async function approveProposal(deps: GovernedDeps, actor: Actor, proposalId: string, options: ApproveOptions = {}): Promise<{ proposal: ProposalRecord; result: Record<string, unknown> }> {
  authorize(actor, 'proposal.approve');
  const approver = actor as PersonActor;
  const p = await sealedProposal(deps, proposalId);
  if (options.digest !== undefined && options.digest !== proposalDigest(p)) {
    throw new OneSealError('proposal-changed', 'conflict', `Proposal ${proposalId} is not the one you reviewed (its digest is ${proposalDigest(p)}); look at it again.`);
  }
  if (p.proposedById === approver.id) {
    throw new OneSealError('same-person-approval', 'forbidden',
      `${p.proposedBy} proposed this ${p.action} of ${p.subject} and cannot approve it too, from any session or tool: two-person control needs a different seal-admin.`);
  }
  if (p.status === 'rejected' || p.status === 'executed') {
    throw new OneSealError('proposal-closed', 'conflict', `Proposal ${proposalId} is already ${p.status}.`);
  }
  await assertProposerStillEntitled(deps, p);
  const handler = handlerFor(p.action);
  const label = actorLabel(actor);
  if (p.status === 'pending') {
    await handler.checkExecutor?.(deps, p.params, p.proposedById!, actor);
    await deps.store.db.transaction(async (trx) => {
      const approvedAt = new Date().toISOString();
      const approval = { id: p.id, contentMac: p.contentMac, approvedById: approver.id, approvedAt };
      const approved = await transitionProposal(trx, proposalId, 'pending', {
        status: 'approved', approvedBy: label, approvedById: approver.id, approvedAt, approvalMac: deps.secrets.mac('proposal', approvalContent(approval)),
      });
      if (!approved) {
        throw new OneSealError('proposal-changed', 'conflict', `Proposal ${proposalId} was decided by someone else at the same time; look at it again.`);
      }
      await appendAudit(trx, { actor: label, action: 'proposal.approve', subject: p.subject, details: { proposalId, action: p.action, digest: proposalDigest(p) } });
    });
  }
  const approved = (await getProposal(deps.store.db, proposalId))!;
  if (approved.status !== 'approved' || !approved.approvalMac || !deps.secrets.macMatches('proposal', approvalContent(approved), approved.approvalMac)) {
    throw new OneSealError('proposal-tampered', 'conflict', `The approval of proposal ${proposalId} does not match its seal; it will not be carried out.`);
  }
  // A retry by a third person is still checked against the proposer and the recorded approver.
  if (approver.id !== approved.approvedById) await handler.checkExecutor?.(deps, p.params, p.proposedById!, actor);
  const markExecuted = async (trx: Knex.Transaction): Promise<void> => {
    // Only one execution can move it from approved to executed; a concurrent one rolls back here.
    if (!(await transitionProposal(trx, proposalId, 'approved', { status: 'executed', executedAt: new Date().toISOString() }))) {
      throw new OneSealError('proposal-changed', 'conflict', `Proposal ${proposalId} was executed by someone else at the same time.`);
    }
  };
  const result = await handler.execute(deps, p.params, {
    actor,
    label,
    proposerIdentity: p.proposedById!,
    proposerLabel: p.proposedBy,
    proposalId,
    beforeChange: markExecuted,
    auditDetails: { proposalId, proposedBy: p.proposedBy, approvedBy: approved.approvedBy },
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  return { proposal: (await getProposal(deps.store.db, proposalId))!, result };
}

/** Rejects a pending proposal; the proposer may withdraw their own (rejecting never changes anything). */
export async function rejectProposal(deps: Pick<GovernedDeps, 'store'>, actor: Actor, proposalId: string): Promise<ProposalRecord> {
  authorize(actor, 'proposal.reject');
  const label = actorLabel(actor);
  return deps.store.db.transaction(async (trx) => {
    // The conditional update first: a write, and the decision, in one step.
    const rejected = await transitionProposal(trx, proposalId, 'pending', { status: 'rejected', rejectedBy: label, rejectedAt: new Date().toISOString() });
    const p = await getProposal(trx, proposalId);
    if (!p) throw proposalNotFound(proposalId);
    if (!rejected) throw new OneSealError('proposal-closed', 'conflict', `Proposal ${proposalId} is ${p.status}; only a pending proposal can be rejected.`);
    await appendAudit(trx, { actor: label, action: 'proposal.reject', subject: p.subject, details: { proposalId, action: p.action } });
    return (await getProposal(trx, proposalId))!;
  });
}

export const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

export async function readProposals(deps: Pick<GovernedDeps, 'store'>, actor: Actor, filter: { status?: ProposalStatus; sealId?: string }): Promise<ProposalRecord[]> {
  authorize(actor, 'proposal.read');
  return listProposals(deps.store.db, filter);
}

export async function readProposal(deps: Pick<GovernedDeps, 'store'>, actor: Actor, id: string): Promise<ProposalRecord> {
  authorize(actor, 'proposal.read');
  const p = await getProposal(deps.store.db, id);
  if (!p) throw proposalNotFound(id);
  return p;
}

/** A proposal as people see it (API and CLI): params without hashes, and the digest to approve against. */
export function proposalView(p: ProposalRecord) {
  const handler = (CHANGE_HANDLERS as Partial<Record<string, ChangeHandler>>)[p.action];
  return {
    id: p.id,
    action: p.action,
    sealId: p.sealId,
    subject: p.subject,
    params: handler?.publicParams ? handler.publicParams(p.params) : p.params,
    status: p.status,
    digest: proposalDigest(p),
    proposedBy: p.proposedBy,
    proposedAt: p.proposedAt,
    approvedBy: p.approvedBy,
    approvedAt: p.approvedAt,
    rejectedBy: p.rejectedBy,
    rejectedAt: p.rejectedAt,
    executedAt: p.executedAt,
  };
}

/** What a change request did: carried out (with its result), or waiting for a second person. */
export function outcomeView(outcome: ChangeOutcome) {
  return outcome.executed
    ? { executed: true as const, result: outcome.result }
    : { executed: false as const, proposal: proposalView(outcome.proposal), ...(outcome.disclosed ? { disclosed: outcome.disclosed } : {}) };
}
