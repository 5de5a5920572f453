/**
 * The search APIs' queries (src/store: searchStamps, searchLicences, searchAudit) on 1,000,000 stamps,
 * 1,000,000 audit entries and 200,000 licences, in SQLite and in PostgreSQL (ONESEAL_BENCH_PG_URL, else
 * the developers' server at 127.0.0.1:5432; skipped, saying so, when it does not answer). The rows are
 * generated inside the database by one INSERT … SELECT per table (a recursive CTE in SQLite,
 * generate_series in PostgreSQL): seconds instead of the minutes a million round trips would take.
 * Each query runs many times with varying values; p50 and p95 go to the table and the target is p95 ≤ 50 ms,
 * with MET or MISSED and the indexes the plan walks (EXPLAIN of one run's values) in the row's notes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { Secret, type DatabaseConfig } from '../src/config.js';
import { auditSearchQuery, searchAudit, type AuditFilters } from '../src/store/audit.js';
import { openStore } from '../src/store/db.js';
import { licenceSearchQuery, searchLicences, type LicenceFilters } from '../src/store/licences.js';
import { searchStamps, stampSearchQuery, type StampFilters } from '../src/store/stamps.js';
import { measure } from './measure.js';
import type { BenchContext } from './run.js';

export interface SearchVolume {
  stamps: number;
  audit: number;
  licences: number;
}
const FULL: SearchVolume = { stamps: 1_000_000, audit: 1_000_000, licences: 200_000 };
const STAMPS = FULL.stamps;
const AUDIT = FULL.audit;
const LICENCES = FULL.licences;
const CLIENTS = 20;
const SEALS = 3;
/** Prime, so item codes spread over every client and seal. */
const ITEMS = 499;
/** Each item belongs to one department (as in the item catalogue); a stamp carries its item's. */
const DEPARTMENTS = 17;
/** A quarter of the stamps are made at one of the town service centres, the rest at the district hall (no centre). */
const CENTRES = 11;
const PAGE = 50;
const BOUND_MS = 50;
/** 2025-01-01T00:00:00Z; one stamp or entry every 31.536 s fills a year. */
const EPOCH_S = 1735689600;
const STEP_S = 31.536;

export type Dialect = 'sqlite' | 'pg';

/** SQL for the i-th row's values, per dialect: hex ids, times as the ISO text the records hold. */
function sql(d: Dialect) {
  const iso = d === 'sqlite'
    ? (seconds: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${seconds}, 'unixepoch')`
    : (seconds: string) => `to_char(to_timestamp(${seconds}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const uuid = d === 'sqlite' ? `printf('%08x-0000-4000-8000-%012x', i, i)` : `lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')`;
  const rows = (n: number, select: string) => d === 'sqlite'
    ? `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${n}) ${select} FROM n`
    : `${select} FROM generate_series(0, ${n - 1}) AS g(i)`;
  const int = (expr: string) => (d === 'sqlite' ? `(${expr})` : `((${expr})::bigint)`);
  const day = d === 'sqlite' ? (offset: string) => `date('2025-01-01', '+' || (${offset}) || ' days')` : (offset: string) => `to_char(date '2025-01-01' + (${offset})::int, 'YYYY-MM-DD')`;
  const emptyBlob = d === 'sqlite' ? `X''` : `decode('', 'hex')`;
  return { iso, uuid, rows, int, day, emptyBlob };
}

/** Fills a migrated, empty database with generated rows (also used by test/search-indexes.test.ts, smaller). */
export async function fillSearchTables(db: Knex, d: Dialect, volume: SearchVolume = FULL): Promise<void> {
  const s = sql(d);
  const now = new Date().toISOString();
  for (let k = 0; k < SEALS; k++) {
    await db('seals').insert({
      id: `bench-seal-${k}`, organisation: '某某区行政审批局', credit_code: '11110108000000000A', name: '行政审批专用章', seal_type: 'approval', appearance: '{}',
      key_algorithm: 'RSA-2048', cert_validity_days: 365, rotation_policy: '{}', two_person_control: false, is_test: true, created_at: now, updated_at: now,
    });
  }
  for (let c = 0; c < CLIENTS; c++) {
    await db('api_clients').insert({ id: `bench-client-${c}`, name: `bench-client-${c}`, key_prefix: `bench${c}`, key_hash: 'x', seals: '[]', created_at: now, scopes: '["stamps"]', licence_types: '[]' });
  }
  // SQLite's default 2 MB page cache turns a million inserts into six indexes into random disk writes
  // (over ten minutes); a large cache and no fsync for the fill only, then the service's settings again.
  const pragmas = async (...list: string[]) => {
    if (d === 'sqlite') for (const p of list) await db.raw(`PRAGMA ${p}`);
  };
  await pragmas('cache_size = -524288', 'synchronous = OFF');
  const time = s.iso(`${EPOCH_S} + i * ${STEP_S}`);
  await db.raw(s.rows(volume.stamps, `INSERT INTO stamps (id, client_id, seal_id, seal_version, cert_serial, sha256_in, sha256_out, level, placement, case_number, item_code, department, centre_code, filename, created_at)
    SELECT ${s.uuid}, 'bench-client-' || (i % ${CLIENTS}), 'bench-seal-' || (${s.int('i / 7')} % ${SEALS}), 1, '01', '${'a'.repeat(64)}', '${'b'.repeat(64)}', 'B-T', '{}',
      'CASE-' || ${s.int('i / 3')}, 'ITEM-' || (i % ${ITEMS}), 'DEPT-' || (i % ${ITEMS} % ${DEPARTMENTS}),
      CASE WHEN i % 4 = 0 THEN 'C' || (i % ${CENTRES}) END, 'doc-' || i || '.pdf', ${time}`));
  await db.raw(s.rows(volume.audit, `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
    SELECT i + 1, ${time}, CASE WHEN i % 10 = 9 THEN 'person:officer-' || (i % 7) ELSE 'client:bench-client-' || (i % ${CLIENTS}) END,
      CASE WHEN i % 10 = 9 THEN 'licence.issue' WHEN i % 100 = 8 THEN 'seal.rotate' ELSE 'stamp.create' END, 'subject-' || i, '{}', '${'0'.repeat(64)}', '${'0'.repeat(64)}'`));
  const issued = s.iso(`${EPOCH_S} + i * ${STEP_S * 5}`);
  await db.raw(s.rows(volume.licences, `INSERT INTO licences (id, type_id, type_code, issuer_code, issuer_name, serial, version, data, holder_name, holder_id, valid_from, valid_to,
      sha256, pdf, seal_id, seal_name, seal_version, cert_serial, signed_at, status, issued_at, issued_by, owner_client_id)
    SELECT 'bench.' || i, CASE i % 3 WHEN 0 THEN 'business-licence' WHEN 1 THEN 'food-business-licence' ELSE 'residence-permit' END, 'T' || (i % 3),
      '11110108000000000A', '某某区行政审批局', 'S' || i, 1, '{}', '持有人' || ${s.int('i / 2')}, 'HID' || ${s.int('i / 2')}, '2025-01-01',
      CASE WHEN i % 5 = 0 THEN '长期' ELSE ${s.day(`i % 1400`)} END, '${'c'.repeat(64)}', ${s.emptyBlob}, 'bench-seal-0', '行政审批专用章', 1, '01', ${issued},
      CASE i % 10 WHEN 0 THEN 'revoked' WHEN 1 THEN 'superseded' ELSE 'valid' END, ${issued}, 'bench',
      CASE WHEN i % 4 = 0 THEN 'bench-client-' || (i % ${CLIENTS}) END`));
  await pragmas('cache_size = -2000', 'synchronous = FULL');
  // Statistics for the planner, as PostgreSQL's autovacuum and `PRAGMA optimize` keep them in service.
  await db.raw(d === 'sqlite' ? 'ANALYZE' : 'ANALYZE stamps, licences, audit_log');
}

const pick = (i: number, n: number) => ((i * 7919) % n + n) % n;
const stampTime = (i: number) => new Date((EPOCH_S + i * STEP_S) * 1000).toISOString();

/** One query shape: `run` times it as the API runs it, `plan` is its SQL for EXPLAIN. */
interface QueryShape {
  run(i: number): Promise<unknown>;
  plan(i: number): Knex.QueryBuilder;
}

/** The queries the console and reports make, each with values that vary per run. */
function queries(db: Knex): [string, QueryShape][] {
  type After = (i: number) => [string, string | number];
  const stamps = (f: (i: number) => StampFilters, after?: After): QueryShape => ({
    run: (i) => searchStamps(db, f(i), after?.(i), PAGE + 1), plan: (i) => stampSearchQuery(db, f(i), after?.(i), PAGE + 1),
  });
  const today = '2026-12-01';
  const licences = (f: (i: number) => Omit<LicenceFilters, 'today'>): QueryShape => ({
    run: (i) => searchLicences(db, { today, ...f(i) }, undefined, PAGE + 1), plan: (i) => licenceSearchQuery(db, { today, ...f(i) }, undefined, PAGE + 1),
  });
  const audit = (f: (i: number) => AuditFilters, after?: (i: number) => [string, number] | undefined): QueryShape => ({
    run: (i) => searchAudit(db, f(i), after?.(i), PAGE + 1), plan: (i) => auditSearchQuery(db, f(i), after?.(i), PAGE + 1),
  });
  const client = (i: number) => `bench-client-${pick(i, CLIENTS)}`;
  const month = (i: number) => {
    const start = pick(i, 11);
    return { from: new Date(Date.UTC(2025, start, 1)).toISOString(), to: new Date(Date.UTC(2025, start + 1, 1)).toISOString() };
  };
  const deep: After = (i) => [stampTime(pick(i, STAMPS)), 'ffffffff'];
  return [
    ['stamps: newest page, no filter', stamps(() => ({}))],
    ['stamps: a client\'s own, page deep in the list', stamps((i) => ({ ownerClientId: client(i) }), deep)],
    ['stamps: caseNumber', stamps((i) => ({ caseNumber: `CASE-${pick(i, STAMPS / 3)}` }))],
    ['stamps: itemCode', stamps((i) => ({ itemCode: `ITEM-${pick(i, ITEMS)}` }))],
    ['stamps: filename', stamps((i) => ({ filename: `doc-${pick(i, STAMPS)}.pdf` }))],
    ['stamps: seal + one month', stamps((i) => ({ sealId: `bench-seal-${pick(i, SEALS)}`, ...month(i) }))],
    ['stamps: department', stamps((i) => ({ department: `DEPT-${pick(i, DEPARTMENTS)}` }))],
    ['stamps: centre + month', stamps((i) => ({ centreCode: `C${pick(i, CENTRES)}`, ...month(i) }))],
    ['stamps: department + centre, page deep in the list', stamps((i) => ({ department: `DEPT-${pick(i, DEPARTMENTS)}`, centreCode: `C${pick(i + 3, CENTRES)}` }), deep)],
    ['stamps: client + itemCode + month', stamps((i) => ({ clientId: client(i), itemCode: `ITEM-${pick(i, ITEMS)}`, ...month(i) }))],
    ['stamps: a client\'s own by department, page deep', stamps((i) => ({ ownerClientId: client(i), department: `DEPT-${pick(i, DEPARTMENTS)}` }), deep)],
    ['stamps: client scope + another client\'s case (empty)', stamps((i) => ({ ownerClientId: client(i), caseNumber: `CASE-${pick(i + 1, STAMPS / 3)}` }))],
    ['licences: newest page, no filter', licences(() => ({}))],
    ['licences: type + status valid', licences((i) => ({ typeId: ['business-licence', 'food-business-licence', 'residence-permit'][pick(i, 3)], status: 'valid' }))],
    ['licences: status expired', licences(() => ({ status: 'expired' }))],
    ['licences: holderId', licences((i) => ({ holderId: `HID${pick(i, LICENCES / 2)}` }))],
    ['licences: holderName', licences((i) => ({ holderName: `持有人${pick(i, LICENCES / 2)}` }))],
    ['licences: client scope (owner + granted types)', licences((i) => ({ ownerClientId: client(i), typeIds: ['business-licence', 'residence-permit'] }))],
    ['audit: newest page, no filter, or after a cursor', audit(() => ({}), (i) => (i % 2 ? undefined : [stampTime(pick(i, AUDIT)), pick(i, AUDIT) + 1]))],
    ['audit: actor', audit((i) => ({ actor: `client:${client(i)}` }))],
    ['audit: action', audit((i) => ({ action: ['licence.issue', 'seal.rotate'][i % 2] }))],
    ['audit: actor + action + month', audit((i) => ({ actor: `person:officer-${pick(i, 7)}`, action: 'licence.issue', ...month(i) }))],
  ];
}

/** The query's plan as text, one node per line (EXPLAIN QUERY PLAN in SQLite, EXPLAIN in PostgreSQL). */
export async function explain(db: Knex, d: Dialect, query: Knex.QueryBuilder, options: { noSeqScan?: boolean } = {}): Promise<string> {
  const { sql, bindings } = query.toSQL();
  if (d === 'sqlite') {
    const rows = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)) as { detail: string }[];
    return rows.map((r) => r.detail).join('\n');
  }
  return db.transaction(async (trx) => {
    if (options.noSeqScan) await trx.raw('SET LOCAL enable_seqscan = off');
    const result = (await trx.raw(`EXPLAIN ${sql}`, bindings)) as { rows: { 'QUERY PLAN': string }[] };
    return result.rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

/** What a plan reads, for the table: the indexes it walks, and whether it scans a whole table or sorts. */
function planSummary(text: string): string {
  // The client-name subquery's primary-key lookup is the same in every stamp plan; left out.
  const indexes = [...new Set([...text.matchAll(/INDEX (\w+)|Index (?:Only )?Scan(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)/g)].map((m) => m[1] ?? m[2] ?? m[3]))]
    .filter((name) => !/api_clients/.test(name!));
  const extra = [/^\W*SCAN (?!api_clients)\w+$|Seq Scan on (?!api_clients)/m.test(text) ? 'full-scan' : '', /TEMP B-TREE|Sort/.test(text) ? 'sort' : ''].filter(Boolean);
  return [...indexes, ...extra].join('+') || text.replace(/\s+/g, ' ');
}

async function backends(): Promise<{ name: Dialect; database: DatabaseConfig; cleanup(): Promise<void> }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-bench-search-'));
  const list: Awaited<ReturnType<typeof backends>> = [
    { name: 'sqlite', database: { client: 'sqlite3', filename: join(dir, 'search.db') }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) },
  ];
  const url = process.env.ONESEAL_BENCH_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const knex = (await import('knex')).default;
  const admin = knex({ client: 'pg', connection: { connectionString: url, connectionTimeoutMillis: 3000 }, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('select 1');
    list.push({ name: 'pg', database: { client: 'pg', url: new Secret(url), schema }, cleanup: () => admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]).then(() => admin.destroy()) });
  } catch (e) {
    console.error(`bench: search on PostgreSQL skipped: ${url.replace(/\/\/[^@]*@/, '//')} does not answer (${(e as Error).message})`);
    await admin.destroy();
  }
  return list;
}

export async function searchSection(ctx: BenchContext): Promise<void> {
  for (const backend of await backends()) {
    const store = await openStore({ database: backend.database });
    try {
      const t0 = performance.now();
      await fillSearchTables(store.db, backend.name);
      console.error(`bench: search: ${STAMPS} stamps, ${AUDIT} audit entries, ${LICENCES} licences into ${backend.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const [name, shape] of queries(store.db)) {
        const m = await measure(`search ${backend.name}: ${name}`, { ops: ctx.n(200, 20), concurrency: 1, warmup: 5 }, shape.run);
        // The plan for a value from the middle of the run (i = 0 puts a "deep" cursor at the very start, an atypical plan).
        m.notes = { plan: planSummary(await explain(store.db, backend.name, shape.plan(100))), [`p95≤${BOUND_MS}ms`]: m.p95ms! <= BOUND_MS ? 'MET' : 'MISSED' };
        ctx.rows.push(m);
        ctx.targets.push({ description: `search ${backend.name}: ${name}, p95 ms`, actual: m.p95ms!, required: BOUND_MS, kind: 'max' });
      }
    } finally {
      await store.close();
      await backend.cleanup();
    }
  }
}
