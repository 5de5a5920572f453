/**
 * Bearer authentication: a person's session token (`oss_…`, src/access/sessions.ts) or a system
 * client's API key (`os_<id>.<secret>`). `authenticate(services)` is route middleware: it finds who is
 * calling, applies their rate limit and sets `ctx.state.actor`; routes then ask the policy table
 * (src/access/policy.ts) whether that actor may do what it asks.
 *
 * An API key is checked with one HMAC (microseconds), and a key id that does not exist is compared
 * against a stand-in hash the same way, so neither CPU cost nor answer time tells whether an id exists.
 */
import type { Context, Middleware } from 'koa';
import type { Actor, ClientActor } from '../access/actors.js';
import { apiKeyId, apiKeyMatches, hashApiKey, isLegacyKeyHash, legacyApiKeyMatches, UNKNOWN_KEY_HASH } from '../access/api-keys.js';
import { JoinedLookups } from '../access/joined-lookups.js';
import { authenticateSession, isSessionToken } from '../access/sessions.js';
import { OneSealError } from '../errors.js';
import type { Services } from '../services.js';
import { findClientByPrefix, replaceKeyHash, type ApiClientRecord } from '../store/clients.js';
import { RateLimiter } from './rate-limit.js';

function unauthorized(code: string, message: string): OneSealError {
  return new OneSealError(code, 'unauthorized', message);
}

const CREDENTIALS_HINT = 'Send "Authorization: Bearer <token>": a session token from POST /v1/sessions, or a system client\'s API key.';

/** The authenticated actor, or its absence as a 401 (also a safety net for a route that forgot `authenticate`). */
export function requireActor(ctx: Context): Actor {
  const actor = ctx.state.actor as Actor | undefined;
  if (!actor) throw unauthorized('missing-credentials', CREDENTIALS_HINT);
  return actor;
}

function invalidKey(): OneSealError {
  return unauthorized('invalid-api-key', 'The API key is not valid. Check that it was copied whole; keys are shown only once, when a client is added or its key rotated.');
}

/**
 * The client a key belongs to. Keys stored the old way (scrypt) are checked the old way once and then
 * re-stored as HMAC, so they keep working without a re-issue and cost scrypt on their first use only.
 */
async function clientForKey(services: Services, key: string): Promise<ApiClientRecord> {
  const keyId = apiKeyId(key);
  const record = keyId ? await keyLookupsFor(services).get(keyId) : undefined;
  if (record && isLegacyKeyHash(record.keyHash)) {
    if (!(await legacyApiKeyMatches(key, record.keyHash))) throw invalidKey();
    await replaceKeyHash(services.store.db, record.id, record.keyHash, hashApiKey(services.secrets, key));
    return record;
  }
  const matches = apiKeyMatches(services.secrets, key, record?.keyHash ?? UNKNOWN_KEY_HASH);
  if (!record || !matches) throw invalidKey();
  return record;
}

function clientActor(record: ApiClientRecord): ClientActor {
  return { kind: 'client', id: record.id, name: record.name, seals: record.seals, scopes: record.scopes, licenceTypes: record.licenceTypes, centre: record.centreCode };
}

async function actorForToken(services: Services, token: string): Promise<Actor> {
  if (isSessionToken(token)) return authenticateSession(services, token);
  const record = await clientForKey(services, token);
  if (record.revokedAt) {
    throw unauthorized('revoked-api-key', `The API key of client "${record.name}" was revoked at ${record.revokedAt}; ask a seal-admin for a new client.`);
  }
  return clientActor(record);
}

/** One `make(services)` per Services, made on first use. */
function perServices<T>(make: (services: Services) => T): (services: Services) => T {
  const made = new WeakMap<Services, T>();
  return (services) => {
    let value = made.get(services);
    if (value === undefined) made.set(services, (value = make(services)));
    return value;
  };
}

const keyLookupsFor = perServices((services) => new JoinedLookups((keyId) => findClientByPrefix(services.store.reads, keyId)));

export const limiterFor = perServices((services) => new RateLimiter(services.config.rateLimit));

/** Runs `fn`, adding the Bearer challenge to any 401 it throws. */
export async function withChallenge<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof OneSealError && e.kind === 'unauthorized') ctx.set('WWW-Authenticate', 'Bearer realm="oneseal"');
    throw e;
  }
}

export function authenticate(services: Services): Middleware {
  const limiter = limiterFor(services);
  return async (ctx, next) => {
    await withChallenge(ctx, async () => {
      const header = ctx.get('Authorization');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw unauthorized(header ? 'malformed-authorization' : 'missing-credentials', header ? 'The Authorization header must be "Bearer <token>".' : CREDENTIALS_HINT);
      }
      const actor = await actorForToken(services, match[1]!);
      const decision = limiter.take(actor.kind === 'person' ? `person:${actor.id}` : `client:${(actor as ClientActor).id}`);
      if (!decision.allowed) {
        const { perSecond, burst } = services.config.rateLimit;
        const who = actor.kind === 'person' ? `Person "${actor.name}"` : `Client "${(actor as ClientActor).name}"`;
        throw new OneSealError('rate-limited', 'rate-limited',
          `${who} sent more than ${perSecond} requests per second (bursts up to ${burst}); retry after ${decision.retryAfterSeconds} s.`,
          { retryAfter: decision.retryAfterSeconds });
      }
      ctx.state.actor = actor;
    });
    await next();
  };
}
