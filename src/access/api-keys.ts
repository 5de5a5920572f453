/**
 * API keys of system clients: `os_<key id>.<secret>`. The key id is public (it finds the client row);
 * the secret is 32 random bytes, shown once. Stored as HMAC-SHA-256 under the server secret
 * (secrets.ts): a 256-bit random secret cannot be guessed, so a slow hash would buy nothing and cost
 * every request CPU before authentication; the key of the HMAC, not the hash's cost, is what makes a
 * copied database useless and a written one unable to mint keys.
 *
 * Keys issued before (scrypt hashes) keep working: a key that passes the old check is re-stored as
 * HMAC at once (auth.ts), so each old key pays scrypt on its first use only.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { AccessSecrets } from './secrets.js';

const KEY_PATTERN = /^os_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const HMAC_SCHEME = 'hmac-sha256';

export interface NewApiKey {
  /** The whole key, to be shown once. */
  key: string;
  /** Stored in api_clients.key_prefix. */
  keyId: string;
}

export function generateApiKey(): NewApiKey {
  const keyId = randomBytes(8).toString('hex');
  return { keyId, key: `os_${keyId}.${randomBytes(32).toString('base64url')}` };
}

/** The key id of a well-formed key, or undefined (so junk never reaches the database). */
export function apiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** `hmac-sha256$<mac>`: the stored form of a key. */
export function hashApiKey(secrets: AccessSecrets, key: string): string {
  return `${HMAC_SCHEME}$${secrets.mac('api-key', key)}`;
}

/**
 * What an unknown key id is compared against, so that a request with an unknown id does the same
 * work as one with a known id and a wrong secret.
 */
export const UNKNOWN_KEY_HASH = `${HMAC_SCHEME}$${'A'.repeat(43)}`;

export function isLegacyKeyHash(stored: string): boolean {
  return stored.startsWith('scrypt$');
}

/** Constant-time check of a presented key against its stored HMAC. */
export function apiKeyMatches(secrets: AccessSecrets, key: string, stored: string): boolean {
  const [scheme, mac] = stored.split('$');
  return secrets.macMatches('api-key', key, scheme === HMAC_SCHEME && mac ? mac : 'x');
}

/** The check of keys issued before HMAC (salted scrypt, `scrypt$N$r$p$salt$hash`). */
export function legacyApiKeyMatches(key: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return Promise.resolve(false);
  const expected = Buffer.from(hash, 'base64url');
  return new Promise((resolve, reject) => {
    scrypt(key, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 }, (err, actual) =>
      err ? reject(err) : resolve(actual.length === expected.length && timingSafeEqual(actual, expected)));
  });
}
