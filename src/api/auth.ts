/**
 * Bearer-key authentication and the access checks routes make with its result.
 *
 * `authenticate(services)` is route middleware: it finds the client by the key's id, checks the key
 * against the stored scrypt hash, refuses revoked clients, applies the client's rate limit and sets
 * `ctx.state.client`. Routes then call `requireClient`, `requireAdmin` or `requireSealAccess`.
 */
import type { Context, Middleware } from 'koa';
import { OneSealError } from '../errors.js';
import type { Services } from '../services.js';
import { findClientByPrefix } from '../store/clients.js';
import { apiKeyFingerprint, apiKeyId, verifyApiKey } from './api-keys.js';
import { RateLimiter } from './rate-limit.js';

export interface AuthenticatedClient {
  id: string;
  name: string;
  seals: string[];
  isAdmin: boolean;
}

/**
 * Successful scrypt checks, by key fingerprint → the stored hash they matched, for a short time: a
 * busy client would otherwise pay ~30 ms of CPU per request. The client row is still read on every
 * request, so revocation takes effect at once; a changed hash (new key) misses the cache.
 */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { keyHash: string; until: number }>();
/** Concurrent first requests with one key share one scrypt computation. */
const inFlight = new Map<string, Promise<boolean>>();

async function keyMatches(key: string, keyHash: string): Promise<boolean> {
  const fp = apiKeyFingerprint(key);
  const hit = verified.get(fp);
  if (hit && hit.keyHash === keyHash && hit.until > Date.now()) return true;
  const flightKey = `${fp}:${keyHash}`;
  let check = inFlight.get(flightKey);
  if (!check) {
    check = verifyApiKey(key, keyHash).finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, check);
  }
  const ok = await check;
  if (ok) {
    if (verified.size >= VERIFIED_MAX) verified.clear();
    verified.set(fp, { keyHash, until: Date.now() + VERIFIED_TTL_MS });
  }
  return ok;
}

function unauthorized(code: string, message: string): OneSealError {
  return new OneSealError(code, 'unauthorized', message);
}

/** The authenticated client, or its absence as a 401 (also a safety net for a route that forgot `authenticate`). */
export function requireClient(ctx: Context): AuthenticatedClient {
  const client = ctx.state.client as AuthenticatedClient | undefined;
  if (!client) throw unauthorized('missing-api-key', 'Send an API key as "Authorization: Bearer <key>".');
  return client;
}

export function requireAdmin(ctx: Context): AuthenticatedClient {
  const client = requireClient(ctx);
  if (!client.isAdmin) {
    throw new OneSealError('admin-required', 'forbidden', `Client "${client.name}" (${client.id}) is not an administrator; this operation needs an admin key (oneseal client add --admin).`);
  }
  return client;
}

/** Admins may use every seal; other clients only the seals they were granted. */
export function requireSealAccess(ctx: Context, sealId: string): AuthenticatedClient {
  const client = requireClient(ctx);
  if (!client.isAdmin && !client.seals.includes(sealId)) {
    throw new OneSealError('seal-not-granted', 'forbidden',
      `Client "${client.name}" may not use seal "${sealId}": it was not granted to this client (granted: ${client.seals.join(', ') || 'none'}).`,
      { extra: { seal: sealId } });
  }
  return client;
}

export function canUseSeal(client: AuthenticatedClient, sealId: string): boolean {
  return client.isAdmin || client.seals.includes(sealId);
}

const limiters = new WeakMap<Services, RateLimiter>();

function limiterFor(services: Services): RateLimiter {
  let limiter = limiters.get(services);
  if (!limiter) {
    limiter = new RateLimiter(services.config.rateLimit);
    limiters.set(services, limiter);
  }
  return limiter;
}

export function authenticate(services: Services): Middleware {
  const limiter = limiterFor(services);
  return async (ctx, next) => {
    // 401 answers carry the challenge even when they come from requireClient in a later handler.
    try {
      const header = ctx.get('Authorization');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw unauthorized(header ? 'malformed-authorization' : 'missing-api-key',
          header ? 'The Authorization header must be "Bearer <key>".' : 'Send an API key as "Authorization: Bearer <key>".');
      }
      const key = match[1]!;
      const keyId = apiKeyId(key);
      const record = keyId ? await findClientByPrefix(services.store.db, keyId) : undefined;
      if (!record || !(await keyMatches(key, record.keyHash))) {
        throw unauthorized('invalid-api-key', 'The API key is not valid. Check that it was copied whole; keys are shown only once, at `oneseal client add`.');
      }
      if (record.revokedAt) {
        throw unauthorized('revoked-api-key', `The API key of client "${record.name}" was revoked at ${record.revokedAt}; ask an administrator for a new one.`);
      }
      const client: AuthenticatedClient = { id: record.id, name: record.name, seals: record.seals, isAdmin: record.isAdmin };
      const decision = limiter.take(client.id);
      if (!decision.allowed) {
        const { perSecond, burst } = services.config.rateLimit;
        throw new OneSealError('rate-limited', 'rate-limited',
          `Client "${client.name}" sent more than ${perSecond} requests per second (bursts up to ${burst}); retry after ${decision.retryAfterSeconds} s.`,
          { retryAfter: decision.retryAfterSeconds });
      }
      ctx.state.client = client;
    } catch (e) {
      if (e instanceof OneSealError && e.kind === 'unauthorized') ctx.set('WWW-Authenticate', 'Bearer realm="oneseal"');
      throw e;
    }
    await next();
  };
}
