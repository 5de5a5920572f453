/** Two-person-control proposals: storage only; who may approve what lives in src/access/two-person.ts. */
import { json, mapper, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';

export type ProposalStatus = 'pending' | 'approved' | 'rejected' | 'executed';

export interface ProposalRecord {
  id: string;
  /** What is asked, e.g. 'seal.rotate', 'client.create', 'person.add' (src/access/policy.ts). */
  action: string;
  /** The seal concerned, when there is one (a seal action, or a seal being created). */
  sealId: string | null;
  /** What the action is about: a seal id, client name, person name. */
  subject: string;
  params: Record<string, unknown>;
  /** Audit names (person:NAME) and person ids: the ids are what two-person control compares. */
  proposedBy: string;
  proposedById: string | null;
  proposedAt: string;
  status: ProposalStatus;
  approvedBy: string | null;
  approvedById: string | null;
  approvedAt: string | null;
  rejectedBy: string | null;
  rejectedAt: string | null;
  executedAt: string | null;
  /** MAC under the server secret of what was proposed, and of the approval. */
  contentMac: string | null;
  approvalMac: string | null;
}

const nullableText = nullable(text);
const proposals = mapper<ProposalRecord>({
  id: ['id', text],
  action: ['action', text],
  sealId: ['seal_id', nullableText],
  subject: ['subject', text],
  params: ['params', json<Record<string, unknown>>()],
  proposedBy: ['proposed_by', text],
  proposedById: ['proposed_by_id', nullableText],
  proposedAt: ['proposed_at', text],
  status: ['status', text as Codec<ProposalStatus>],
  approvedBy: ['approved_by', nullableText],
  approvedById: ['approved_by_id', nullableText],
  approvedAt: ['approved_at', nullableText],
  rejectedBy: ['rejected_by', nullableText],
  rejectedAt: ['rejected_at', nullableText],
  executedAt: ['executed_at', nullableText],
  contentMac: ['content_mac', nullableText],
  approvalMac: ['approval_mac', nullableText],
});

export type NewProposal = Pick<ProposalRecord, 'id' | 'action' | 'sealId' | 'subject' | 'params' | 'proposedBy' | 'proposedById' | 'proposedAt' | 'contentMac'>;

export async function insertProposal(db: Db, p: NewProposal): Promise<ProposalRecord> {
  const record: ProposalRecord = {
    ...p,
    status: 'pending',
    approvedBy: null,
    approvedById: null,
    approvedAt: null,
    rejectedBy: null,
    rejectedAt: null,
    executedAt: null,
    approvalMac: null,
  };
  await db('proposals').insert(proposals.toRow(record));
  return record;
}

export async function getProposal(db: Db, id: string): Promise<ProposalRecord | undefined> {
  const row = await db('proposals').where({ id }).first();
  return row ? proposals.fromRow(row) : undefined;
}

export async function listProposals(db: Db, filter: { sealId?: string; status?: ProposalStatus } = {}): Promise<ProposalRecord[]> {
  const q = db('proposals').orderBy('proposed_at');
  if (filter.sealId) q.where({ seal_id: filter.sealId });
  if (filter.status) q.where({ status: filter.status });
  return (await q).map(proposals.fromRow);
}

/**
 * Moves a proposal from one status to the next only if it is still in `from`: the row count tells
 * the caller whether it won against a concurrent decision on the same proposal.
 */
export async function transitionProposal(
  db: Db,
  id: string,
  from: ProposalStatus,
  patch: Partial<Pick<ProposalRecord, 'status' | 'approvedBy' | 'approvedById' | 'approvedAt' | 'approvalMac' | 'rejectedBy' | 'rejectedAt' | 'executedAt'>>,
): Promise<boolean> {
  const n = await db('proposals').where({ id, status: from }).update(proposals.toRow(patch));
  return n > 0;
}
