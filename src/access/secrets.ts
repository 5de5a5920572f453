/**
 * The server secret: one 256-bit HMAC key generated in the HSM by `oneseal init` (sensitive,
 * non-extractable, usable only for CKM_SHA256_HMAC). At start-up one HMAC computed by the HSM gives a
 * master key, and from it one key per purpose, held in this process's memory only:
 *
 * - api-key / session: the stored form of API-key secrets and session tokens (HMAC-SHA-256), so a copy
 *   of the database yields nothing usable and a write to it cannot mint a key or a session;
 * - proposal / rotation-policy: seals on two-person-control proposals, their approvals and approved
 *   rotation policies, so a row altered in the database is refused, not executed;
 * - console-csrf: the web console's CSRF token, bound to a session id (src/console/web-session.ts);
 * - cursor: the pagination cursors of the search APIs, so a client cannot craft a position or carry a
 *   cursor over to another query or another caller;
 * - totp: AES-256-GCM encryption of people's TOTP secrets at rest.
 *
 * Why the HSM and not a file or the database: the database is the thing these MACs protect, so the key
 * cannot live there; a file in the data directory would be one more secret to back up, copy between
 * instances and keep out of images, while every instance already shares the HSM token. Why derive once
 * rather than ask the HSM per request: a check then costs microseconds and no HSM session, so
 * unauthenticated requests can neither slow the HSM for real stamps nor time its answers.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { OneSealError } from '../errors.js';
import type { Hsm } from '../hsm/hsm.js';

export const ACCESS_SECRET_LABEL = 'oneseal-access-secret';
/** Changing it (v2) would give every derived key anew: all API keys, sessions and TOTP secrets re-issued. */
const MASTER_INFO = 'oneseal access keys v1';

export type MacPurpose = 'api-key' | 'session' | 'proposal' | 'rotation-policy' | 'cursor' | 'console-csrf';
type Purpose = MacPurpose | 'totp';

/** Creates the server secret on the token unless it is there; true when it was created. */
export async function ensureAccessSecret(hsm: Hsm): Promise<boolean> {
  if ((await hsm.findSecretKeysByLabel(ACCESS_SECRET_LABEL)).length > 0) return false;
  await hsm.generateSecretKey({ label: ACCESS_SECRET_LABEL });
  return true;
}

export class AccessSecrets {
  private readonly keys: Record<Purpose, Buffer>;

  constructor(master: Buffer) {
    const derive = (purpose: Purpose) => createHmac('sha256', master).update(`oneseal/${purpose}`).digest();
    this.keys = {
      'api-key': derive('api-key'), session: derive('session'), proposal: derive('proposal'), 'rotation-policy': derive('rotation-policy'),
      cursor: derive('cursor'), 'console-csrf': derive('console-csrf'), totp: derive('totp'),
    };
  }

  /** HMAC-SHA-256 of `data` under the purpose's key, base64url. */
  mac(purpose: MacPurpose, data: string | Uint8Array): string {
    return createHmac('sha256', this.keys[purpose]).update(data).digest('base64url');
  }

  /** Constant-time comparison of a stored MAC with the MAC of `data`. */
  macMatches(purpose: MacPurpose, data: string | Uint8Array, stored: string): boolean {
    const expected = Buffer.from(this.mac(purpose, data));
    const given = Buffer.from(stored);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** AES-256-GCM with a fresh nonce: `v1.<nonce>.<ciphertext>.<tag>` (base64url). */
  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.totp, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    try {
      if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('malformed');
      const decipher = createDecipheriv('aes-256-gcm', this.keys.totp, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new OneSealError('access-secret-mismatch', 'internal',
        'A stored TOTP secret cannot be decrypted: it was altered, or the HSM token holds another server secret than the one it was stored under.', { cause: e });
    }
  }
}

/** Reads the server secret's master key from the HSM (one HMAC); refuses to start without it. */
export async function openAccessSecrets(hsm: Hsm): Promise<AccessSecrets> {
  const ids = await hsm.findSecretKeysByLabel(ACCESS_SECRET_LABEL);
  if (ids.length === 0) {
    throw new OneSealError('access-secret-missing', 'unavailable',
      `The HSM token holds no server secret ("${ACCESS_SECRET_LABEL}"), which API keys, sessions and proposals are checked with; run \`oneseal init\` once to create it.`);
  }
  if (ids.length > 1) {
    throw new OneSealError('access-secret-ambiguous', 'unavailable',
      `The HSM token holds ${ids.length} secret keys labelled "${ACCESS_SECRET_LABEL}"; keep the one the service was set up with and delete the others.`);
  }
  return new AccessSecrets(await hsm.hmacSha256(ids[0]!, Buffer.from(MASTER_INFO)));
}
