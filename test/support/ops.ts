/**
 * Helpers for the operations tests (metrics, faults, security, crash-restart): a stamp request over HTTP, a Prometheus scrape parsed into samples, and the database's
 * own consistency checks (every stamp has its audit entry and stored output; the chain verifies).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { OUTPUT_DIR, OUTPUT_IN_DATABASE } from '../../src/stamping/outputs.js';
import { fixture } from './stamp-stack.js';

export const LETTER = (): Buffer => fixture('approval-letter.pdf');

export function postStamp(url: string, key: string, pdf: Uint8Array, opts: { query?: string; idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${url}/v1/stamps?${opts.query ?? 'seal=approval&page=1&x=150&y=60'}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      'Content-Type': 'application/pdf',
      ...(opts.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : {}),
    },
    body: pdf,
    signal: opts.signal,
  });
}

/** Samples of a text-format scrape: `name{labels}` → value. Fails on any line that is not valid exposition. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text format: ${JSON.stringify(line)}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

/**
 * Every stamp output stored anywhere: files under stamps/ (whole or half-written) and rows kept in the
 * database. A request that records nothing must leave this unchanged.
 */
export async function storedOutputCount(db: Knex, dataDir: string): Promise<number> {
  const dir = path.join(dataDir, OUTPUT_DIR);
  const files = existsSync(dir) ? readdirSync(dir).length : 0;
  const [{ n }] = (await db('stamp_outputs').count({ n: '*' })) as [{ n: number | string }];
  return files + Number(n);
}

/** Every stamp row has its stamp.create audit entry and its stored output (file or database row); the audit chain verifies. */
export async function checkStampRecords(db: Knex, dataDir: string): Promise<{ stamps: number; problems: string[] }> {
  const stamps = (await db('stamps').select('id', 'output_path')) as { id: string; output_path: string | null }[];
  const audited = new Set(((await db('audit_log').where({ action: 'stamp.create' }).select('subject')) as { subject: string }[]).map((r) => r.subject));
  const inDatabase = new Set(((await db('stamp_outputs').select('stamp_id')) as { stamp_id: string }[]).map((r) => r.stamp_id));
  const problems: string[] = [];
  for (const s of stamps) {
    if (!audited.has(s.id)) problems.push(`stamp ${s.id} has no audit entry`);
    const stored = s.output_path === OUTPUT_IN_DATABASE ? inDatabase.has(s.id) : s.output_path !== null && existsSync(path.resolve(dataDir, s.output_path));
    if (!stored) problems.push(`stamp ${s.id} has no stored output`);
  }
  const chain = await verifyAuditChain(db);
  if (!chain.ok) problems.push(`audit chain: ${JSON.stringify(chain)}`);
  return { stamps: stamps.length, problems };
}

/** Polls a condition on the event loop (no fixed sleeps): resolves as soon as it holds. */
export async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}
