/** Stamp records: one per signed document, keyed for idempotent retries. */
import { int, json, mapper, nullable, text } from './codec.js';
import type { Knex } from 'knex';
import { chunks } from './chunks.js';
import type { Db } from './db.js';
import { newestFirst, within } from './keyset.js';
import { pdfColumn } from './pdf-column.js';

export interface StampRecord {
  id: string;
  clientId: string;
  sealId: string;
  sealVersion: number;
  certSerial: string;
  sha256In: string;
  sha256Out: string;
  level: string;
  placement: unknown;
  caseNumber: string | null;
  itemCode: string | null;
  department: string | null;
  /** The service centre that handled the item; null: the district hall. */
  centreCode: string | null;
  idempotencyKey: string | null;
  /** Hash of the request that used the idempotency key, to tell a retry from a reuse with other content. */
  requestHash: string | null;
  outputPath: string | null;
  createdAt: string;
  /** Set for stamps made as part of a batch (all of whose documents were recorded together). */
  batchId: string | null;
  batchIndex: number | null;
  /** The uploaded file's name, when the client gave one. */
  filename: string | null;
}

/** A stamp with the name of the client that asked for it, as the API shows it. */
export interface StampView extends StampRecord {
  clientName: string;
}

export interface StampBatchRecord {
  id: string;
  clientId: string;
  caseNumber: string | null;
  documentCount: number;
  createdAt: string;
}

const nullableText = nullable(text);
const stamps = mapper<StampRecord>({
  id: ['id', text],
  clientId: ['client_id', text],
  sealId: ['seal_id', text],
  sealVersion: ['seal_version', int],
  certSerial: ['cert_serial', text],
  sha256In: ['sha256_in', text],
  sha256Out: ['sha256_out', text],
  level: ['level', text],
  placement: ['placement', json()],
  caseNumber: ['case_number', nullableText],
  itemCode: ['item_code', nullableText],
  department: ['department', nullableText],
  centreCode: ['centre_code', nullableText],
  idempotencyKey: ['idempotency_key', nullableText],
  requestHash: ['request_hash', nullableText],
  outputPath: ['output_path', nullableText],
  createdAt: ['created_at', text],
  batchId: ['batch_id', nullableText],
  batchIndex: ['batch_index', nullable(int)],
  filename: ['filename', nullableText],
});

const batches = mapper<StampBatchRecord>({
  id: ['id', text],
  clientId: ['client_id', text],
  caseNumber: ['case_number', nullableText],
  documentCount: ['document_count', int],
  createdAt: ['created_at', text],
});

export async function insertStamps(db: Db, list: readonly StampRecord[]): Promise<void> {
  for (const chunk of chunks(list)) await db('stamps').insert(chunk.map((r) => stamps.toRow(r)));
}

/** A stamp's output kept in the database (migration 013); its stamp row must be written first. */
export interface StampOutputRow {
  stampId: string;
  pdf: Uint8Array;
}

/** Few rows per INSERT: each carries a whole PDF, and one statement holds them all in memory at once. */
const OUTPUTS_PER_INSERT = 16;

export async function insertStampOutputs(db: Db, list: readonly StampOutputRow[]): Promise<void> {
  for (const chunk of chunks(list, OUTPUTS_PER_INSERT)) {
    await db('stamp_outputs').insert(chunk.map((o) => ({ stamp_id: o.stampId, pdf: Buffer.from(o.pdf.buffer, o.pdf.byteOffset, o.pdf.byteLength) })));
  }
}

export function getStampOutput(db: Db, stampId: string): Promise<Buffer | undefined> {
  return pdfColumn(db, 'stamp_outputs', { stamp_id: stampId });
}

export async function getStamp(db: Db, id: string): Promise<StampRecord | undefined> {
  const row = await db('stamps').where({ id }).first();
  return row ? stamps.fromRow(row) : undefined;
}

export async function findStampByIdempotencyKey(db: Db, clientId: string, key: string): Promise<StampRecord | undefined> {
  const row = await db('stamps').where({ client_id: clientId, idempotency_key: key }).first();
  return row ? stamps.fromRow(row) : undefined;
}

export async function getStampView(db: Db, id: string): Promise<StampView | undefined> {
  const row = await db('stamps').join('api_clients', 'api_clients.id', 'stamps.client_id')
    .where('stamps.id', id).first('stamps.*', { client_name: 'api_clients.name' });
  return row ? { ...stamps.fromRow(row), clientName: String(row.client_name) } : undefined;
}

export async function insertStampBatches(db: Db, list: readonly StampBatchRecord[]): Promise<void> {
  for (const chunk of chunks(list)) await db('stamp_batches').insert(chunk.map((r) => batches.toRow(r)));
}

export async function getStampBatch(db: Db, id: string): Promise<StampBatchRecord | undefined> {
  const row = await db('stamp_batches').where({ id }).first();
  return row ? batches.fromRow(row) : undefined;
}

export async function listBatchStamps(db: Db, batchId: string): Promise<StampRecord[]> {
  return (await db('stamps').where({ batch_id: batchId }).orderBy('batch_index')).map(stamps.fromRow);
}

export type StampCountKey = 'seal' | 'client' | 'item' | 'department' | 'centre';

/** Stamps made since `sinceIso`, counted per seal, per client (by name) or per item code, most first. */
export async function countStampsSince(db: Db, sinceIso: string, by: StampCountKey): Promise<{ key: string; count: number }[]> {
  const column = { seal: 'stamps.seal_id', client: 'api_clients.name', item: 'stamps.item_code', department: 'stamps.department', centre: 'stamps.centre_code' }[by];
  const rows = (await db('stamps').join('api_clients', 'api_clients.id', 'stamps.client_id')
    .where('stamps.created_at', '>=', sinceIso).groupBy(column).select({ key: column }).count({ count: '*' }).orderBy('count', 'desc')) as unknown as { key: unknown; count: unknown }[];
  return rows.map((r) => ({ key: r.key === null ? '' : String(r.key), count: Number(r.count) }));
}

/** What GET /v1/stamps filters on; every filter given must hold (AND). Times are ISO-8601 UTC, `to` exclusive. */
export interface StampFilters {
  /** The caller's scope: a system client sees only its own stamps, whatever else it asks for. */
  ownerClientId?: string;
  clientId?: string;
  sealId?: string;
  caseNumber?: string;
  itemCode?: string;
  department?: string;
  centreCode?: string;
  filename?: string;
  from?: string;
  to?: string;
}

/** The sort key of the stamp list: newest first, the id breaking ties of the same millisecond. */
export const STAMP_ORDER = ['created_at', 'id'] as const;

/** The query for one page of stamps, newest first, below `after` (a [createdAt, id] key); the index tests EXPLAIN it. */
export function stampSearchQuery(db: Db, f: StampFilters, after: readonly (string | number)[] | undefined, limit: number): Knex.QueryBuilder {
  // The client's name by a scalar subquery on its primary key: one round trip, and the planner still walks one stamps index.
  const query = db('stamps').select('stamps.*', db.raw('(SELECT name FROM api_clients WHERE api_clients.id = stamps.client_id) AS client_name'));
  const equal: [string, string | undefined][] = [
    ['client_id', f.ownerClientId], ['client_id', f.clientId], ['seal_id', f.sealId], ['case_number', f.caseNumber], ['item_code', f.itemCode],
    ['department', f.department], ['centre_code', f.centreCode], ['filename', f.filename],
  ];
  for (const [column, value] of equal) if (value !== undefined) query.where(column, value);
  within(query, 'created_at', f.from, f.to);
  return newestFirst(query, STAMP_ORDER, after, limit);
}

export async function searchStamps(db: Db, f: StampFilters, after: readonly (string | number)[] | undefined, limit: number): Promise<StampView[]> {
  const rows = (await stampSearchQuery(db, f, after, limit)) as Record<string, unknown>[];
  return rows.map((row) => {
    const record = stamps.fromRow(row);
    return { ...record, clientName: row.client_name === null || row.client_name === undefined ? record.clientId : String(row.client_name) };
  });
}

export type StampGrouping = 'department' | 'item' | 'centre';
const GROUP_COLUMN: Record<StampGrouping, string> = { department: 'department', item: 'item_code', centre: 'centre_code' };

/**
 * The counts countStampsBy reads: one row per value of the column in [from, to) (`whole_range` 0),
 * then the count of the whole range (`whole_range` 1). The index led by the column holds only stamps
 * with a value (migration 014), so it gives their groups, and the stamps without one are what they
 * leave of the range's count (walked on stamps_by_time). One statement, so both count the same
 * snapshot. Grouping all of the range's rows instead read them through stamps_by_client_scope and
 * sorted them: 8× slower on 300,000 stamps.
 */
export function stampCountQuery(db: Db, by: StampGrouping, range: { from?: string; to?: string }): Knex.QueryBuilder {
  const column = GROUP_COLUMN[by];
  const inRange = (q: Knex.QueryBuilder) => within(q, 'created_at', range.from, range.to);
  const withValue = inRange(db('stamps').select({ key: column }).count({ n: '*' }).select(db.raw('0 AS whole_range')).whereNotNull(column).groupBy(column));
  const wholeRange = inRange(db('stamps').select(db.raw('NULL AS ??', ['key'])).count({ n: '*' }).select(db.raw('1 AS whole_range')));
  // The grouped SELECT as a subquery: knex would put its GROUP BY after the whole UNION.
  return db.from(withValue.as('with_value')).select('*').unionAll(wholeRange);
}

/** Stamps per department, item or centre made in [from, to) (ISO times); the null group is stamps without one. */
export async function countStampsBy(db: Db, by: StampGrouping, range: { from?: string; to?: string }): Promise<{ key: string | null; count: number }[]> {
  const rows = (await stampCountQuery(db, by, range)) as { key: unknown; n: unknown; whole_range: unknown }[];
  const groups = rows.filter((r) => Number(r.whole_range) === 0).map((r): { key: string | null; count: number } => ({ key: String(r.key), count: Number(r.n) }));
  const rangeCount = rows.filter((r) => Number(r.whole_range) === 1).reduce((n, r) => n + Number(r.n), 0);
  const withoutValue = rangeCount - groups.reduce((n, g) => n + g.count, 0);
  return withoutValue > 0 ? [...groups, { key: null, count: withoutValue }] : groups;
}
