/**
 * People for seal-admins (auditors read): add a person with roles, give and take roles, disable and
 * enable, reset a password or a TOTP secret. Credentials appear in an answer once: a password to
 * whoever proposed it, a TOTP secret to whoever carried the change out.
 */
import { disablePerson, readPeople, ungrantRoles } from '../../access/people.js';
import { ROLES } from '../../access/policy.js';
import { requestChange, type ChangeAction } from '../../access/two-person.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJsonObject } from '../body.js';
import { ADMIN_PROBLEMS, changeResponses, sendChange } from '../change-response.js';
import { problemResponse } from '../openapi.js';

export const registerAdminPeopleRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/admin/people', auth, async (ctx) => {
    ctx.body = { people: await readPeople(services, requireActor(ctx)) };
  });

  router.post('/v1/admin/people', auth, async (ctx) => {
    const outcome = await requestChange(services, requireActor(ctx), 'person.add', await readJsonObject(ctx, 16 * 1024, { optional: true }));
    sendChange(ctx, outcome, { created: `/v1/admin/people/${outcome.executed ? String(outcome.result.name) : ''}`, resultOnly: true });
  });

  const changes: [string, ChangeAction][] = [['grant', 'person.grant'], ['enable', 'person.enable'], ['reset-password', 'person.reset-password'], ['reset-totp', 'person.reset-totp']];
  for (const [verb, action] of changes) {
    router.post(`/v1/admin/people/:name/${verb}`, auth, async (ctx) => {
      const actor = requireActor(ctx);
      sendChange(ctx, await requestChange(services, actor, action, { ...(await readJsonObject(ctx, 16 * 1024, { optional: true })), name: ctx.params.name }), { resultOnly: true });
    });
  }

  router.post('/v1/admin/people/:name/ungrant', auth, async (ctx) => {
    const actor = requireActor(ctx);
    ctx.body = await ungrantRoles(services, actor, { ...(await readJsonObject(ctx, 16 * 1024, { optional: true })), name: ctx.params.name });
  });

  router.post('/v1/admin/people/:name/disable', auth, async (ctx) => {
    ctx.body = await disablePerson(services, requireActor(ctx), { name: ctx.params.name });
  });

  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const roles = { type: 'array', items: { enum: ROLES } };
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: people'], security: [{ bearer: [] }], ...o });
  const notFound = { 404: problemResponse('No such person.') };
  const totp = { totpSecret: { type: 'string', description: 'base32, shown once' }, otpauthUrl: { type: 'string' } };
  const withRoles = (summary: string, operationId: string, executed: Record<string, unknown>) => ({
    post: op({ operationId, summary, parameters: [nameParam], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['roles'], properties: { roles } }, example: { roles: ['auditor'] } } } }, responses: { ...executed, ...notFound } }),
  });
  openapi.add(
    {
      '/v1/admin/people': {
        get: op({ operationId: 'listPeople', summary: 'People, their roles and whether they are enabled', responses: { 200: json({ type: 'object', properties: { people: { type: 'array', items: ref('Person') } } }, 'The people'), ...ADMIN_PROBLEMS } }),
        post: op({
          operationId: 'addPerson',
          summary: 'Add a person with roles',
          description: 'Without `password` one is generated. Carried out at once: the answer holds the password (when generated), the TOTP secret and its otpauth URL, once. Proposed: the proposer gets the password (disclosed), the approver the TOTP secret: no one but the new person gets both.',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name', 'roles'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9._-]{0,63}$' }, roles, password: { type: 'string', minLength: 12 } } }, example: { name: 'carol', roles: ['licence-officer'] } } } },
          responses: { ...changeResponses({ 201: json({ type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, roles, password: { type: 'string' }, ...totp } }, 'Added') }), 409: problemResponse('A person with this name exists.') },
        }),
      },
      '/v1/admin/people/{name}/grant': withRoles('Give more roles', 'grantRoles', changeResponses({ 200: json(ref('Person'), 'Granted') })),
      '/v1/admin/people/{name}/ungrant': withRoles('Take roles away (at once)', 'ungrantRoles', { 200: json(ref('Person'), 'Done'), ...ADMIN_PROBLEMS }),
      '/v1/admin/people/{name}/disable': { post: op({ operationId: 'disablePerson', summary: 'Disable (at once): sessions end, their proposals can no longer be approved', parameters: [nameParam], responses: { 200: json(ref('Person'), 'Disabled'), ...ADMIN_PROBLEMS, ...notFound } }) },
      '/v1/admin/people/{name}/enable': { post: op({ operationId: 'enablePerson', summary: 'Enable a disabled person again', parameters: [nameParam], responses: { ...changeResponses({ 200: json(ref('Person'), 'Enabled') }), ...notFound } }) },
      '/v1/admin/people/{name}/reset-password': {
        post: op({ operationId: 'resetPassword', summary: 'A new password (given, or generated and disclosed to the proposer); sessions end', parameters: [nameParam], requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { password: { type: 'string', minLength: 12 } } }, example: {} } } }, responses: { ...changeResponses({ 200: json({ type: 'object', properties: { name: { type: 'string' }, password: { type: 'string' } } }, 'Reset') }), ...notFound } }),
      },
      '/v1/admin/people/{name}/reset-totp': {
        post: op({ operationId: 'resetTotp', summary: 'A new TOTP secret, shown once to whoever carries it out; sessions end', parameters: [nameParam], responses: { ...changeResponses({ 200: json({ type: 'object', properties: { name: { type: 'string' }, ...totp } }, 'Reset') }), ...notFound } }),
      },
    },
    {
      Person: {
        type: 'object',
        properties: {
          id: { type: 'string' }, name: { type: 'string' }, roles, disabled: { type: 'boolean' }, disabledAt: { type: ['string', 'null'] },
          totpEnrolled: { type: 'boolean' }, createdAt: { type: 'string', format: 'date-time' }, createdBy: { type: 'string' },
        },
      },
    },
  );
};
