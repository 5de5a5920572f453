/**
 * API keys: `os_<key id>.<secret>`. The key id is public (it finds the client row); the secret is 32
 * random bytes, shown once and stored only as a salted scrypt hash, so a leaked database yields no keys.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^os_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
/** scrypt cost: ~20–50 ms per check, which makes guessing offline costly; successful checks are cached (auth.ts). */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };

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

/** The key id of a well-formed key, or undefined (so junk never reaches the database or scrypt). */
export function apiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** Async scrypt: runs on libuv's thread pool, so checking a key never blocks the event loop. */
function scryptAsync(secret: string, salt: Buffer, cost: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, cost.keylen, { N: cost.N, r: cost.r, p: cost.p, maxmem: SCRYPT.maxmem }, (err, out) =>
      err ? reject(err) : resolve(out));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later without breaking old keys. */
export async function hashApiKey(key: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(key, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyApiKey(key: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(key, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), keylen: expected.length });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fingerprint of a presented key for in-memory caches: never the key itself. */
export function apiKeyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
