/**
 * Seal key lifecycle for administrators: create seals, rotate keys, revoke versions, destroy keys,
 * set rotation policies, and decide two-person-control proposals. The actor recorded in the audit
 * log (and compared for two-person control) is the authenticated client's id.
 */
import type { Context, Middleware } from 'koa';
import { approve, propose, reject, type ProposalOutcome } from '../../seals/approvals.js';
import { requireSeal } from '../../seals/lifecycle.js';
import { parseCreateSeal, parseRevokeRequest, parseVersionNumber } from '../../seals/requests.js';
import { setRotationPolicy } from '../../seals/scheduler.js';
import { createSeal } from '../../seals/service.js';
import { actionResultView, outcomeView, proposalView, sealDetail, sealView } from '../../seals/views.js';
import { OneSealError } from '../../errors.js';
import { getProposal, listProposals, type ProposalStatus } from '../../store/approvals.js';
import { listSeals, listSealVersions } from '../../store/seals.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireAdmin } from '../auth.js';
import { readJson } from '../body.js';
import { problemResponse, type OpenApiRegistry } from '../openapi.js';

/** Seal requests are small; an image appearance (a scanned seal PNG) is the largest part. */
const JSON_LIMIT = 2 * 1024 * 1024;
const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

const adminOnly: Middleware = async (ctx, next) => {
  requireAdmin(ctx);
  await next();
};

/** 200 with the result when it ran, 202 with the proposal when a second administrator must approve it. */
function sendOutcome(ctx: Context, outcome: ProposalOutcome): void {
  ctx.status = outcome.executed ? 200 : 202;
  if (!outcome.executed) ctx.set('Location', `/v1/admin/proposals/${outcome.proposal.id}`);
  ctx.body = outcomeView(outcome);
}

export const registerAdminSealRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const guard = [authenticate(services), adminOnly];
  const actor = (ctx: Context) => requireAdmin(ctx).id;

  router.post('/v1/admin/seals', ...guard, async (ctx) => {
    const request = parseCreateSeal(await readJson(ctx, JSON_LIMIT));
    const who = actor(ctx);
    // Like the default seal `oneseal init` makes: outside production every seal is marked as a test seal in its certificate.
    const { seal } = await createSeal(services, { ...request.seal, isTest: !services.config.production }, who);
    const stored = request.rotationPolicy ? await setRotationPolicy(services, seal.id, request.rotationPolicy, who) : seal;
    ctx.status = 201;
    ctx.set('Location', `/v1/admin/seals/${seal.id}`);
    ctx.body = await sealDetail(services.store.db, stored);
  });

  router.get('/v1/admin/seals', ...guard, async (ctx) => {
    const db = services.store.db;
    const seals = await listSeals(db);
    ctx.body = { seals: await Promise.all(seals.map(async (s) => sealView(s, await listSealVersions(db, s.id)))) };
  });

  router.get('/v1/admin/seals/:id', ...guard, async (ctx) => {
    ctx.body = await sealDetail(services.store.db, await requireSeal(services, ctx.params.id!));
  });

  router.post('/v1/admin/seals/:id/rotate', ...guard, async (ctx) => {
    sendOutcome(ctx, await propose(services, 'rotate', { sealId: ctx.params.id! }, actor(ctx)));
  });

  router.post('/v1/admin/seals/:id/versions/:version/revoke', ...guard, async (ctx) => {
    const version = parseVersionNumber(ctx.params.version);
    const body = parseRevokeRequest(await readJson(ctx, JSON_LIMIT));
    sendOutcome(ctx, await propose(services, 'revoke', { sealId: ctx.params.id!, version, ...body }, actor(ctx)));
  });

  router.post('/v1/admin/seals/:id/versions/:version/destroy-key', ...guard, async (ctx) => {
    const version = parseVersionNumber(ctx.params.version);
    sendOutcome(ctx, await propose(services, 'destroy-key', { sealId: ctx.params.id!, version }, actor(ctx)));
  });

  router.put('/v1/admin/seals/:id/rotation-policy', ...guard, async (ctx) => {
    const body = (await readJson(ctx, JSON_LIMIT)) as { rotationPolicy?: unknown } | null;
    if (typeof body !== 'object' || body === null || !('rotationPolicy' in body)) {
      throw new OneSealError('invalid-rotation-policy', 'unprocessable', 'Send { "rotationPolicy": { "everyDays": 365, "afterSignatures": 100000 } }, or { "rotationPolicy": null } to remove it.');
    }
    const seal = await setRotationPolicy(services, ctx.params.id!, body.rotationPolicy, actor(ctx));
    ctx.body = await sealDetail(services.store.db, seal);
  });

  router.get('/v1/admin/proposals', ...guard, async (ctx) => {
    const status = ctx.query.status;
    if (status !== undefined && !PROPOSAL_STATUSES.includes(status as ProposalStatus)) {
      throw new OneSealError('invalid-query', 'bad-request', `status must be one of ${PROPOSAL_STATUSES.join(', ')}.`);
    }
    const sealId = typeof ctx.query.seal === 'string' ? ctx.query.seal : undefined;
    const proposals = await listProposals(services.store.db, { ...(status ? { status: status as ProposalStatus } : {}), ...(sealId ? { sealId } : {}) });
    ctx.body = { proposals: proposals.map(proposalView) };
  });

  router.get('/v1/admin/proposals/:id', ...guard, async (ctx) => {
    const p = await getProposal(services.store.db, ctx.params.id!);
    if (!p) throw new OneSealError('proposal-not-found', 'not-found', `There is no proposal "${ctx.params.id}".`);
    ctx.body = proposalView(p);
  });

  router.post('/v1/admin/proposals/:id/approve', ...guard, async (ctx) => {
    const { proposal, result } = await approve(services, ctx.params.id!, actor(ctx));
    ctx.body = { proposal: proposalView(proposal), result: actionResultView(result) };
  });

  router.post('/v1/admin/proposals/:id/reject', ...guard, async (ctx) => {
    ctx.body = { proposal: proposalView(await reject(services, ctx.params.id!, actor(ctx))) };
  });

  document(openapi);
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const sealIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Seal id' };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const proposalIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const common = {
  401: problemResponse('No API key, or a wrong or revoked one.'),
  403: problemResponse('The client is not an administrator (or, for approvals, proposed this change itself).'),
};
const lifecycleResponses = {
  200: json(ref('LifecycleOutcome'), 'Carried out (the seal is not under two-person control): `executed: true` and the result.'),
  202: json(ref('LifecycleOutcome'), 'Proposed (two-person control): `executed: false` and the pending proposal; Location names it.'),
  ...common,
  404: problemResponse('No such seal or version.'),
  409: problemResponse('The version’s state does not allow it (e.g. destroying the active key, revoking twice).'),
  422: problemResponse('Invalid reason or time; `errors` names the field.'),
  503: problemResponse('The HSM or database is unavailable.'),
};

function document(openapi: OpenApiRegistry): void {
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: seals'], security: [{ bearer: [] }], ...o });
  const versionSchema = {
    type: 'object',
    properties: {
      version: { type: 'integer' },
      status: { enum: ['pending', 'active', 'retired', 'revoked', 'destroyed'] },
      algorithm: { type: 'string' },
      keyId: { type: 'string', description: 'CKA_ID of the key on the HSM (hex)' },
      keyLabel: { type: 'string' },
      certSerial: { type: ['string', 'null'] },
      notBefore: { type: ['string', 'null'], format: 'date-time' },
      notAfter: { type: ['string', 'null'], format: 'date-time' },
      createdAt: { type: 'string', format: 'date-time' },
      activatedAt: { type: ['string', 'null'], format: 'date-time' },
      retiredAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
      revocationReason: { type: ['string', 'null'] },
      destroyedAt: { type: ['string', 'null'], format: 'date-time' },
      signatureCount: { type: 'integer' },
    },
  };
  const rotationPolicy = {
    type: ['object', 'null'],
    properties: { everyDays: { type: 'number', exclusiveMinimum: 0 }, afterSignatures: { type: 'integer', minimum: 1 } },
    additionalProperties: false,
  };
  const schemas = {
    SealVersion: versionSchema,
    RotationPolicy: rotationPolicy,
    AdminSeal: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        organisation: { type: 'string' },
        creditCode: { type: 'string' },
        name: { type: 'string' },
        sealType: { type: 'string' },
        keyAlgorithm: { enum: ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'] },
        certValidityDays: { type: 'integer' },
        twoPersonControl: { type: 'boolean' },
        rotationPolicy: ref('RotationPolicy'),
        isTest: { type: 'boolean' },
        appearance: { type: 'object', properties: { kind: { enum: ['generated', 'image'] }, diameterMm: { type: 'number' } } },
        activeVersion: { type: ['integer', 'null'] },
        versions: { type: 'array', items: ref('SealVersion') },
        certificate: { type: ['string', 'null'], description: 'PEM of the active version’s certificate (single-seal responses)' },
      },
    },
    NewSeal: {
      type: 'object',
      required: ['id', 'organisation', 'creditCode', 'name'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
        organisation: { type: 'string' },
        creditCode: { type: 'string', description: 'Unified social credit code (GB 32100), check character verified' },
        name: { type: 'string', description: 'e.g. 合同专用章' },
        sealType: { type: 'string', default: 'official' },
        keyAlgorithm: { enum: ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'], default: 'RSA-2048' },
        certValidityDays: { type: 'integer', minimum: 1, maximum: 3650, default: 730 },
        twoPersonControl: { type: 'boolean', default: false },
        rotationPolicy: ref('RotationPolicy'),
        appearance: {
          oneOf: [
            { type: 'object', required: ['kind'], properties: { kind: { const: 'generated' }, diameterMm: { type: 'number' } } },
            { type: 'object', required: ['kind', 'pngBase64'], properties: { kind: { const: 'image' }, pngBase64: { type: 'string' }, diameterMm: { type: 'number' } } },
          ],
        },
      },
    },
    Proposal: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        sealId: { type: 'string' },
        action: { enum: ['rotate', 'revoke', 'destroy-key'] },
        params: { type: 'object' },
        status: { enum: PROPOSAL_STATUSES },
        proposedBy: { type: 'string' },
        proposedAt: { type: 'string', format: 'date-time' },
        approvedBy: { type: ['string', 'null'] },
        approvedAt: { type: ['string', 'null'], format: 'date-time' },
        rejectedBy: { type: ['string', 'null'] },
        rejectedAt: { type: ['string', 'null'], format: 'date-time' },
        executedAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    ActionResult: {
      type: 'object',
      properties: {
        action: { enum: ['rotate', 'revoke', 'destroy-key'] },
        version: ref('SealVersion'),
        retired: { oneOf: [ref('SealVersion'), { type: 'null' }], description: 'rotate only: the version it retired' },
      },
    },
    LifecycleOutcome: {
      type: 'object',
      required: ['executed'],
      properties: { executed: { type: 'boolean' }, proposal: ref('Proposal'), result: ref('ActionResult') },
    },
  };
  openapi.add(
    {
      '/v1/admin/seals': {
        post: op({
          operationId: 'createSeal',
          summary: 'Create a seal: its first HSM key and certificate',
          requestBody: { required: true, content: { 'application/json': { schema: ref('NewSeal') } } },
          responses: {
            201: json(ref('AdminSeal'), 'Created; Location names the seal.'),
            ...common,
            409: problemResponse('A seal with this id exists.'),
            422: problemResponse('Invalid fields (credit code check character, algorithm, …); `errors` lists each.'),
            503: problemResponse('The HSM or database is unavailable.'),
          },
        }),
        get: op({
          operationId: 'adminListSeals',
          summary: 'Every seal with all its versions',
          responses: { 200: json({ type: 'object', properties: { seals: { type: 'array', items: ref('AdminSeal') } } }, 'The seals'), ...common },
        }),
      },
      '/v1/admin/seals/{id}': {
        get: op({
          operationId: 'adminGetSeal',
          summary: 'One seal: versions, statuses, certificate serials, the active certificate',
          parameters: [sealIdParam],
          responses: { 200: json(ref('AdminSeal'), 'The seal'), ...common, 404: problemResponse('No such seal.') },
        }),
      },
      '/v1/admin/seals/{id}/rotate': {
        post: op({
          operationId: 'rotateSeal',
          summary: 'New key and certificate become active; the previous version retires (still verifies, no longer signs)',
          parameters: [sealIdParam],
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/versions/{version}/revoke': {
        post: op({
          operationId: 'revokeSealVersion',
          summary: 'Revoke a version’s certificate (OCSP and the CRL report it at once)',
          parameters: [sealIdParam, versionParam],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['reason'],
                  properties: {
                    reason: { enum: ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn', 'aACompromise'] },
                    revokedAt: { type: 'string', format: 'date-time', description: 'Only keyCompromise may be dated in the past; default now' },
                  },
                },
              },
            },
          },
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/versions/{version}/destroy-key': {
        post: op({
          operationId: 'destroySealKey',
          summary: 'Delete a retired or revoked version’s private key from the HSM; documents it sealed keep verifying',
          parameters: [sealIdParam, versionParam],
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/rotation-policy': {
        put: op({
          operationId: 'setRotationPolicy',
          summary: 'Rotate automatically every N days and/or after N signatures (null removes the policy)',
          parameters: [sealIdParam],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['rotationPolicy'], properties: { rotationPolicy: ref('RotationPolicy') } } } } },
          responses: { 200: json(ref('AdminSeal'), 'The seal with its new policy'), ...common, 404: problemResponse('No such seal.'), 422: problemResponse('Invalid policy.') },
        }),
      },
      '/v1/admin/proposals': {
        get: op({
          operationId: 'listProposals',
          summary: 'Two-person-control proposals, oldest first',
          parameters: [
            { name: 'status', in: 'query', schema: { enum: PROPOSAL_STATUSES } },
            { name: 'seal', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: json({ type: 'object', properties: { proposals: { type: 'array', items: ref('Proposal') } } }, 'The proposals'), ...common },
        }),
      },
      '/v1/admin/proposals/{id}': {
        get: op({
          operationId: 'getProposal',
          summary: 'One proposal',
          parameters: [proposalIdParam],
          responses: { 200: json(ref('Proposal'), 'The proposal'), ...common, 404: problemResponse('No such proposal.') },
        }),
      },
      '/v1/admin/proposals/{id}/approve': {
        post: op({
          operationId: 'approveProposal',
          summary: 'Approve and carry out a proposal (a different administrator from the proposer)',
          parameters: [proposalIdParam],
          responses: {
            200: json({ type: 'object', properties: { proposal: ref('Proposal'), result: ref('ActionResult') } }, 'Approved and executed'),
            ...common,
            404: problemResponse('No such proposal.'),
            409: problemResponse('Already rejected or executed, or the seal changed so it cannot run.'),
            503: problemResponse('The HSM or database is unavailable; the proposal stays approved and approving again retries it.'),
          },
        }),
      },
      '/v1/admin/proposals/{id}/reject': {
        post: op({
          operationId: 'rejectProposal',
          summary: 'Reject a pending proposal (the proposer may withdraw their own)',
          parameters: [proposalIdParam],
          responses: { 200: json({ type: 'object', properties: { proposal: ref('Proposal') } }, 'Rejected'), ...common, 404: problemResponse('No such proposal.'), 409: problemResponse('Not pending.') },
        }),
      },
    },
    schemas,
  );
}
