/**
 * System clients for seal-admins (auditors read): add one (its API key is shown once, to whoever
 * carries the change out), grant and take away seals, scopes and licence types, rotate its key, revoke it.
 */
import { readClients, revokeClient, ungrantClient } from '../../access/clients.js';
import { requestChange } from '../../access/two-person.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJsonObject } from '../body.js';
import { ADMIN_PROBLEMS, changeResponses, sendChange } from '../change-response.js';
import { problemResponse } from '../openapi.js';

export const registerAdminClientRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/admin/clients', auth, async (ctx) => {
    ctx.body = { clients: await readClients(services, requireActor(ctx)) };
  });

  router.post('/v1/admin/clients', auth, async (ctx) => {
    const outcome = await requestChange(services, requireActor(ctx), 'client.create', await readJsonObject(ctx, 64 * 1024));
    sendChange(ctx, outcome, { created: `/v1/admin/clients/${outcome.executed ? String(outcome.result.id) : ''}`, resultOnly: true });
  });

  router.post('/v1/admin/clients/:ref/grant', auth, async (ctx) => {
    const actor = requireActor(ctx);
    sendChange(ctx, await requestChange(services, actor, 'client.grant', { ...(await readJsonObject(ctx, 64 * 1024)), client: ctx.params.ref }), { resultOnly: true });
  });

  router.post('/v1/admin/clients/:ref/ungrant', auth, async (ctx) => {
    const actor = requireActor(ctx);
    ctx.body = await ungrantClient(services, actor, { ...(await readJsonObject(ctx, 64 * 1024)), client: ctx.params.ref });
  });

  router.post('/v1/admin/clients/:ref/rotate-key', auth, async (ctx) => {
    sendChange(ctx, await requestChange(services, requireActor(ctx), 'client.rotate-key', { client: ctx.params.ref }), { resultOnly: true });
  });

  router.post('/v1/admin/clients/:ref/revoke', auth, async (ctx) => {
    ctx.body = await revokeClient(services, requireActor(ctx), ctx.params.ref!);
  });

  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
  const refParam = { name: 'ref', in: 'path', required: true, schema: { type: 'string' }, description: 'The client\'s name or id' };
  const grants = { type: 'object', properties: { seals: { type: 'array', items: { type: 'string' } }, scopes: { type: 'array', items: { enum: ['stamps', 'licences', 'verify'] } }, licenceTypes: { type: 'array', items: { type: 'string' } } } };
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: system clients'], security: [{ bearer: [] }], ...o });
  const notFound = { 404: problemResponse('No such client.') };
  openapi.add(
    {
      '/v1/admin/clients': {
        get: op({ operationId: 'listClients', summary: 'System clients and their grants (never their keys)', responses: { 200: json({ type: 'object', properties: { clients: { type: 'array', items: ref('SystemClient') } } }, 'The clients'), ...ADMIN_PROBLEMS } }),
        post: op({
          operationId: 'addClient',
          summary: 'Add a system client (default scope: stamps); its API key is in the answer, once',
          requestBody: { required: true, content: { 'application/json': { schema: { ...grants, required: ['name'], properties: { name: { type: 'string', maxLength: 100 }, ...grants.properties } }, example: { name: 'approval-system', scopes: ['stamps'], seals: ['approval'] } } } },
          responses: { ...changeResponses({ 201: json(ref('SystemClientWithKey'), 'Added') }), 409: problemResponse('A client with this name exists (names are unique).'), 422: problemResponse('Unknown seal, scope or licence type; `errors` lists each.') },
        }),
      },
      '/v1/admin/clients/{ref}/grant': {
        post: op({ operationId: 'grantClient', summary: 'Grant seals, scopes or licence types', parameters: [refParam], requestBody: { required: true, content: { 'application/json': { schema: grants, example: { seals: ['contracts'] } } } }, responses: { ...changeResponses({ 200: json(ref('SystemClient'), 'Granted') }), ...notFound } }),
      },
      '/v1/admin/clients/{ref}/ungrant': {
        post: op({ operationId: 'ungrantClient', summary: 'Take seals, scopes or licence types away (at once)', parameters: [refParam], requestBody: { required: true, content: { 'application/json': { schema: grants, example: { seals: ['contracts'] } } } }, responses: { 200: json(ref('SystemClient'), 'Done'), ...ADMIN_PROBLEMS, ...notFound } }),
      },
      '/v1/admin/clients/{ref}/rotate-key': {
        post: op({ operationId: 'rotateClientKey', summary: 'A new API key for the client (same client, grants and history); the old key stops', parameters: [refParam], responses: { ...changeResponses({ 200: json(ref('SystemClientWithKey'), 'The new key, once') }), ...notFound } }),
      },
      '/v1/admin/clients/{ref}/revoke': {
        post: op({ operationId: 'revokeClient', summary: 'Revoke the client: its key stops at once', parameters: [refParam], responses: { 200: json(ref('SystemClient'), 'Revoked'), ...ADMIN_PROBLEMS, ...notFound } }),
      },
    },
    {
      SystemClient: {
        type: 'object',
        properties: {
          id: { type: 'string' }, name: { type: 'string' }, ...grants.properties,
          createdAt: { type: 'string', format: 'date-time' }, revokedAt: { type: ['string', 'null'], format: 'date-time' },
          legacyKeyHash: { type: 'boolean', description: 'The key is still stored as a scrypt hash from before; its next use re-stores it as HMAC' },
        },
      },
      SystemClientWithKey: { allOf: [ref('SystemClient'), { type: 'object', properties: { key: { type: 'string', description: 'The API key, shown only now' } } }] },
    },
  );
};
