/**
 * How a change request answers over HTTP: carried out → 200 (201 for something new) with the result;
 * proposed under two-person control → 202 with the pending proposal (Location names it) and, once,
 * anything the proposer must pass on (a generated password).
 */
import type { Context } from 'koa';
import { outcomeView, type ChangeOutcome } from '../access/two-person.js';
import { problemResponse } from './openapi.js';

export function sendChange(ctx: Context, outcome: ChangeOutcome, options: { created?: string; resultOnly?: boolean } = {}): void {
  if (!outcome.executed) {
    ctx.status = 202;
    ctx.set('Location', `/v1/admin/proposals/${outcome.proposal.id}`);
    ctx.body = outcomeView(outcome);
    return;
  }
  ctx.status = options.created ? 201 : 200;
  if (options.created) ctx.set('Location', options.created);
  ctx.body = options.resultOnly ? outcome.result : outcomeView(outcome);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The 202 answer of every change under two-person control, and the problems every admin route shares. */
export function changeResponses(executed: Record<string, unknown>) {
  return {
    ...executed,
    202: { description: 'Proposed (two-person control applies): `executed: false`, the pending proposal, and `disclosed` (e.g. a generated password) for the proposer, shown once. Location names the proposal.', content: { 'application/json': { schema: ref('PendingChange') } } },
    ...ADMIN_PROBLEMS,
  };
}

export const ADMIN_PROBLEMS = {
  401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
  403: problemResponse('The policy does not allow it: the problem names the missing role, scope or grant.'),
};
