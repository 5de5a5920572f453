/**
 * How a browser holds a console session: the person's session token (src/access/sessions.ts) in a
 * cookie that scripts cannot read (HttpOnly), that other sites never send (SameSite=Strict), and that
 * travels only over TLS when the public URL is https. Every state-changing request also carries a
 * CSRF token in a form field: bound to the session (an HMAC of its id under the server secret) once
 * logged in, and a double-submit cookie on the login form before there is a session.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { PersonActor } from '../access/actors.js';
import type { AccessSecrets } from '../access/secrets.js';
import { readBody } from '../api/body.js';
import { readFormData } from '../api/form-data.js';
import { OneSealError } from '../errors.js';

export const SESSION_COOKIE = 'oneseal_console';
export const LOGIN_CSRF_COOKIE = 'oneseal_login_csrf';
export const LANG_COOKIE = 'oneseal_lang';
export const CSRF_FIELD = '_csrf';

function cookieOptions(publicUrl: string, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: publicUrl.startsWith('https:'),
    path: '/console',
    overwrite: true,
    ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}),
  };
}

/** koa decides "secure" from the connection; behind a TLS proxy the public URL is what counts. */
function setCookie(ctx: Context, publicUrl: string, name: string, value: string | null, maxAgeMs?: number): void {
  const options = cookieOptions(publicUrl, maxAgeMs);
  ctx.cookies.secure = options.secure;
  ctx.cookies.set(name, value, options);
}

export function readCookie(ctx: Context, name: string): string | undefined {
  return ctx.cookies.get(name) || undefined;
}

export function setSessionCookie(ctx: Context, publicUrl: string, token: string, expiresAt: string): void {
  setCookie(ctx, publicUrl, SESSION_COOKIE, token, Math.max(0, Date.parse(expiresAt) - Date.now()));
}

export function clearSessionCookie(ctx: Context, publicUrl: string): void {
  setCookie(ctx, publicUrl, SESSION_COOKIE, null);
}

export function setLangCookie(ctx: Context, publicUrl: string, lang: string): void {
  setCookie(ctx, publicUrl, LANG_COOKIE, lang, 365 * 24 * 3600_000);
}

/** The login form's token: a fresh random value in a cookie and in the form (double submit). */
export function issueLoginCsrf(ctx: Context, publicUrl: string): string {
  const token = readCookie(ctx, LOGIN_CSRF_COOKIE) ?? randomBytes(24).toString('base64url');
  setCookie(ctx, publicUrl, LOGIN_CSRF_COOKIE, token, 3600_000);
  return token;
}

export function sessionCsrf(secrets: AccessSecrets, actor: PersonActor): string {
  return secrets.mac('console-csrf', actor.sessionId);
}

function same(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function csrfRefused(): OneSealError {
  return new OneSealError('csrf-token-invalid', 'forbidden', 'This form was not sent from the console page it belongs to (its CSRF token is missing or wrong). Open the page again and resend it.');
}

/** Refuses a state-changing request whose token does not match what the cookie or session expects. */
export function checkCsrf(form: Form, expected: string | undefined): void {
  if (!same(form.get(CSRF_FIELD), expected)) throw csrfRefused();
}

/** A form's fields (last value wins; `all` for repeated names such as checkboxes) and uploaded files. */
export class Form {
  constructor(private readonly fields: [string, string][], readonly files: Map<string, Buffer> = new Map()) {}
  get(name: string): string | undefined {
    return this.fields.findLast(([k]) => k === name)?.[1];
  }
  text(name: string): string {
    return (this.get(name) ?? '').trim();
  }
  all(name: string): string[] {
    return this.fields.filter(([k]) => k === name).map(([, v]) => v);
  }
  names(): string[] {
    return [...new Set(this.fields.map(([k]) => k))];
  }
}

const FORM_LIMIT = 64 * 1024;
/** Large enough for a licence photo, far below the API's upload limit. */
const UPLOAD_LIMIT = 4 * 1024 * 1024;

/** Reads a urlencoded or multipart form body. */
export async function readForm(ctx: Context): Promise<Form> {
  if (ctx.is('multipart/form-data')) {
    const parts = await readFormData(ctx, { limit: UPLOAD_LIMIT, fieldLimit: FORM_LIMIT });
    const files = new Map<string, Buffer>();
    const fields: [string, string][] = [];
    for (const p of parts) {
      if (p.filename !== undefined) {
        if (p.data.length > 0) files.set(p.name, p.data);
      } else fields.push([p.name, p.data.toString('utf8')]);
    }
    return new Form(fields, files);
  }
  const body = await readBody(ctx, { limit: FORM_LIMIT, types: ['application/x-www-form-urlencoded'] });
  return new Form([...new URLSearchParams(body.toString('utf8'))]);
}
