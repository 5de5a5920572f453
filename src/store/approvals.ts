/** Two-person-control proposals: storage only; who may approve what lives in src/seals/approvals.ts. */
import { json, mapper, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';

export type ProposalAction = 'rotate' | 'revoke' | 'destroy-key';
export type ProposalStatus = 'pending' | 'approved' | 'rejected' | 'executed';

export interface ProposalRecord {
  id: string;
  sealId: string;
  action: ProposalAction;
  params: Record<string, unknown>;
  proposedBy: string;
  proposedAt: string;
  status: ProposalStatus;
  approvedBy: string | null;
  approvedAt: string | null;
  rejectedBy: string | null;
  rejectedAt: string | null;
  executedAt: string | null;
}

const nullableText = nullable(text);
const proposals = mapper<ProposalRecord>({
  id: ['id', text],
  sealId: ['seal_id', text],
  action: ['action', text as Codec<ProposalAction>],
  params: ['params', json<Record<string, unknown>>()],
  proposedBy: ['proposed_by', text],
  proposedAt: ['proposed_at', text],
  status: ['status', text as Codec<ProposalStatus>],
  approvedBy: ['approved_by', nullableText],
  approvedAt: ['approved_at', nullableText],
  rejectedBy: ['rejected_by', nullableText],
  rejectedAt: ['rejected_at', nullableText],
  executedAt: ['executed_at', nullableText],
});

export async function insertProposal(db: Db, p: Pick<ProposalRecord, 'id' | 'sealId' | 'action' | 'params' | 'proposedBy' | 'proposedAt'>): Promise<ProposalRecord> {
  const record: ProposalRecord = {
    ...p,
    status: 'pending',
    approvedBy: null,
    approvedAt: null,
    rejectedBy: null,
    rejectedAt: null,
    executedAt: null,
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
  patch: Partial<Pick<ProposalRecord, 'status' | 'approvedBy' | 'approvedAt' | 'rejectedBy' | 'rejectedAt' | 'executedAt'>>,
): Promise<boolean> {
  const n = await db('proposals').where({ id, status: from }).update(proposals.toRow(patch));
  return n > 0;
}
