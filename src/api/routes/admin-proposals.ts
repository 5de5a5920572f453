/**
 * Two-person-control proposals of every kind (seals, system clients, people): list and read them
 * (seal-admin, auditor), approve one someone else made (seal-admin; it is carried out at once) or
 * reject one. The rules are in src/access/two-person.ts.
 */
import { PROPOSAL_STATUSES, approveProposal, proposalView, readProposal, readProposals, rejectProposal } from '../../access/two-person.js';
import { OneSealError } from '../../errors.js';
import type { ProposalStatus } from '../../store/approvals.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJsonObject } from '../body.js';
import { ADMIN_PROBLEMS } from '../change-response.js';
import { problemResponse } from '../openapi.js';

export const registerAdminProposalRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/admin/proposals', auth, async (ctx) => {
    const status = ctx.query.status;
    if (status !== undefined && !PROPOSAL_STATUSES.includes(status as ProposalStatus)) {
      throw new OneSealError('invalid-query', 'bad-request', `status must be one of ${PROPOSAL_STATUSES.join(', ')}.`);
    }
    const sealId = typeof ctx.query.seal === 'string' ? ctx.query.seal : undefined;
    const proposals = await readProposals(services, requireActor(ctx), { ...(status ? { status: status as ProposalStatus } : {}), ...(sealId ? { sealId } : {}) });
    ctx.body = { proposals: proposals.map(proposalView) };
  });

  router.get('/v1/admin/proposals/:id', auth, async (ctx) => {
    ctx.body = proposalView(await readProposal(services, requireActor(ctx), ctx.params.id!));
  });

  router.post('/v1/admin/proposals/:id/approve', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const { digest } = await readJsonObject(ctx, 16 * 1024, { optional: true });
    const { proposal, result } = await approveProposal(services, actor, ctx.params.id!, digest === undefined ? {} : { digest: String(digest) });
    ctx.body = { proposal: proposalView(proposal), result };
  });

  router.post('/v1/admin/proposals/:id/reject', auth, async (ctx) => {
    ctx.body = { proposal: proposalView(await rejectProposal(services, requireActor(ctx), ctx.params.id!)) };
  });

  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: proposals'], security: [{ bearer: [] }], ...o });
  openapi.add(
    {
      '/v1/admin/proposals': {
        get: op({
          operationId: 'listProposals',
          summary: 'Two-person-control proposals, oldest first (seal-admin, auditor)',
          parameters: [{ name: 'status', in: 'query', schema: { enum: PROPOSAL_STATUSES } }, { name: 'seal', in: 'query', schema: { type: 'string' } }],
          responses: {
            200: json({ type: 'object', properties: { proposals: { type: 'array', items: ref('Proposal') } } }, 'The proposals'),
            400: problemResponse('`status` is not a proposal status (`invalid-query`).'),
            ...ADMIN_PROBLEMS,
          },
        }),
      },
      '/v1/admin/proposals/{id}': {
        get: op({
          operationId: 'getProposal',
          summary: 'One proposal, with the digest to approve against',
          parameters: [idParam],
          responses: { 200: json(ref('Proposal'), 'The proposal'), ...ADMIN_PROBLEMS, 404: problemResponse('No such proposal.') },
        }),
      },
      '/v1/admin/proposals/{id}/approve': {
        post: op({
          operationId: 'approveProposal',
          summary: 'Approve and carry out a proposal made by another person (seal-admin; never a system client)',
          description: 'Optionally send { "digest": … } as read from GET: a proposal that differs from what was reviewed is refused. A proposal altered in storage, or whose proposer is no longer an enabled seal-admin, is refused too. The result carries, once, anything the change made for its executor (a new API key, a TOTP secret).',
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { digest: { type: 'string' } } }, example: { digest: '(the digest GET /v1/admin/proposals/{id} showed)' } } } },
          responses: {
            200: json({ type: 'object', properties: { proposal: ref('Proposal'), result: { type: 'object' } } }, 'Approved and carried out'),
            ...ADMIN_PROBLEMS,
            404: problemResponse('No such proposal.'),
            409: problemResponse('Already rejected or executed, decided concurrently, altered, or the state no longer allows it.'),
            503: problemResponse('The HSM or database is unavailable; the proposal stays approved and approving again retries it.'),
          },
        }),
      },
      '/v1/admin/proposals/{id}/reject': {
        post: op({
          operationId: 'rejectProposal',
          summary: 'Reject a pending proposal (the proposer may withdraw their own)',
          parameters: [idParam],
          responses: { 200: json({ type: 'object', properties: { proposal: ref('Proposal') } }, 'Rejected'), ...ADMIN_PROBLEMS, 404: problemResponse('No such proposal.'), 409: problemResponse('Not pending.') },
        }),
      },
    },
    {
      Proposal: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          action: { type: 'string', description: 'A twoPerson action of the policy table, e.g. seal.rotate, client.create, person.add' },
          sealId: { type: ['string', 'null'] },
          subject: { type: 'string' },
          params: { type: 'object' },
          status: { enum: PROPOSAL_STATUSES },
          digest: { type: 'string', description: 'SHA-256 of what was proposed' },
          proposedBy: { type: 'string', description: 'person:NAME' },
          proposedAt: { type: 'string', format: 'date-time' },
          approvedBy: { type: ['string', 'null'] },
          approvedAt: { type: ['string', 'null'], format: 'date-time' },
          rejectedBy: { type: ['string', 'null'] },
          rejectedAt: { type: ['string', 'null'], format: 'date-time' },
          executedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      PendingChange: {
        type: 'object',
        required: ['executed', 'proposal'],
        properties: { executed: { const: false }, proposal: ref('Proposal'), disclosed: { type: 'object', description: 'For the proposer, once (e.g. a generated password)' } },
      },
    },
  );
};
