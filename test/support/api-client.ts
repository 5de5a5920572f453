/** Small helpers for calling a running OneSeal over HTTP in tests (real fetch, real multipart from undici). */
import type { Stack } from './stamp-stack.js';

export interface Reply {
  status: number;
  headers: Headers;
  bytes: Buffer;
  json: <T = Record<string, unknown>>() => T;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(url, init);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, bytes, json: <T>() => JSON.parse(bytes.toString('utf8')) as T };
}

export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${key}`, ...extra };
}

/** A request with `who`'s bearer token (API key or session token) and, when given, a JSON body. */
export function callAs(base: string, who: { key: string }, method: string, path: string, body?: unknown): Promise<Reply> {
  return call(`${base}${path}`, {
    method,
    headers: bearer(who.key, body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A form with the PDF(s) as `document` file parts and the options as fields. */
export function stampForm(documents: { data: Uint8Array; filename: string }[], fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const d of documents) form.append('document', new Blob([d.data], { type: 'application/pdf' }), d.filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

/** `oneseal client add … --break-glass --json` in-process (the PIN holder sets the stack up); returns the new client's id and key. */
export async function addClient(stack: Stack, name: string, seals: string[], grants: { scopes?: string[]; licenceTypes?: string[] } = {}): Promise<{ id: string; key: string }> {
  const r = await stack.cli(['client', 'add', '--name', name, ...(seals.length ? ['--seals', seals.join(',')] : []),
    ...(grants.scopes ? ['--scopes', grants.scopes.join(',')] : []), ...(grants.licenceTypes ? ['--licence-types', grants.licenceTypes.join(',')] : []), '--break-glass', '--json']);
  if (r.code !== 0) throw new Error(`client add failed: ${r.err}`);
  return JSON.parse(r.out) as { id: string; key: string };
}

/** On the read connection: a count must not queue behind writes waiting for another process's lock. */
export async function countRows(stack: Stack, table: string): Promise<number> {
  const [row] = await stack.services.store.reads(table).count({ n: '*' });
  return Number((row as { n: number | string }).n);
}
