/**
 * People's sessions: POST /v1/sessions (name, password, TOTP code) → a bearer token; GET and DELETE
 * /v1/sessions/current. Logins are rate-limited per address as well as locked per name.
 */
import { login, logout } from '../../access/sessions.js';
import { ACTIONS, allows } from '../../access/policy.js';
import { OneSealError } from '../../errors.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor, withChallenge } from '../auth.js';
import { readJson } from '../body.js';
import { problemResponse } from '../openapi.js';
import { RateLimiter } from '../rate-limit.js';

export const registerSessionRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  // Per client address: scrypt makes each login cost tens of milliseconds of CPU, so strangers get few of them.
  const { loginsPerMinute } = services.config.sessions;
  const addresses = new RateLimiter({ perSecond: loginsPerMinute / 60, burst: loginsPerMinute });
  const auth = authenticate(services);

  router.post('/v1/sessions', async (ctx) => {
    const decision = addresses.take(`login:${ctx.ip}`);
    if (!decision.allowed) {
      throw new OneSealError('rate-limited', 'rate-limited', `Too many logins from this address; retry after ${decision.retryAfterSeconds} s.`, { retryAfter: decision.retryAfterSeconds });
    }
    const body = await readJson(ctx, 16 * 1024);
    const session = await withChallenge(ctx, () => login(services, body, 'api'));
    ctx.status = 201;
    ctx.body = session;
  });

  router.get('/v1/sessions/current', auth, (ctx) => {
    const actor = requireActor(ctx);
    if (actor.kind !== 'person') throw new OneSealError('not-a-session', 'bad-request', 'This is an API key, not a person\'s session.');
    ctx.body = { person: { id: actor.id, name: actor.name, roles: actor.roles }, sessionId: actor.sessionId, allowed: ACTIONS.filter((a) => allows(actor, a)) };
  });

  router.delete('/v1/sessions/current', auth, async (ctx) => {
    const actor = requireActor(ctx);
    if (actor.kind !== 'person') throw new OneSealError('not-a-session', 'bad-request', 'This is an API key, not a person\'s session; revoke a client with POST /v1/admin/clients/{id}/revoke.');
    await logout(services, actor);
    ctx.status = 204;
  });

  const person = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, roles: { type: 'array', items: { enum: ['seal-admin', 'licence-officer', 'auditor', 'operator'] } } } };
  openapi.add({
    '/v1/sessions': {
      post: {
        tags: ['Sessions'],
        operationId: 'login',
        summary: 'Log in as a person: a bearer token for the session',
        description: 'Any wrong part (name, password, one-time code) gives the same 401. After 5 failures for a name it waits: 429 with a Retry-After that grows with each lock-out. The TOTP code (RFC 6238, 6 digits, 30 s) is required in production and accepted once only.',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['name', 'password'], additionalProperties: false, properties: { name: { type: 'string' }, password: { type: 'string' }, otp: { type: 'string', pattern: '^[0-9]{6}$' } } }, example: { name: 'alice', password: 'correct horse battery staple', otp: '492039' } } },
        },
        responses: {
          201: { description: 'Logged in.', content: { 'application/json': { schema: { type: 'object', properties: { token: { type: 'string', description: 'Send as "Authorization: Bearer <token>"' }, expiresAt: { type: 'string', format: 'date-time' }, person } } } } },
          400: problemResponse('Not { name, password, otp }.'),
          401: problemResponse('The name, password or one-time code is not right (one message for all).'),
          429: problemResponse('Locked after too many failures, or too many logins from this address; Retry-After says how long.'),
        },
      },
    },
    '/v1/sessions/current': {
      get: {
        tags: ['Sessions'],
        operationId: 'currentSession',
        summary: 'Who this session is, and the actions the policy allows them',
        security: [{ bearer: [] }],
        responses: {
          200: { description: 'The person and their allowed actions (src/access/policy.ts).', content: { 'application/json': { schema: { type: 'object', properties: { person, sessionId: { type: 'string' }, allowed: { type: 'array', items: { type: 'string' } } } } } } },
          400: problemResponse('The bearer is a system client\'s API key, not a person\'s session (`not-a-session`).'),
          401: problemResponse('No session, or an ended or expired one.'),
        },
      },
      delete: {
        tags: ['Sessions'],
        operationId: 'logout',
        summary: 'End this session',
        security: [{ bearer: [] }],
        responses: {
          204: { description: 'Ended; the token no longer works.' },
          400: problemResponse('The bearer is a system client\'s API key, not a person\'s session (`not-a-session`).'),
          401: problemResponse('No session, or an ended or expired one.'),
        },
      },
    },
  });
};
