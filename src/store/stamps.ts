/** Stamp records: one per signed document, keyed for idempotent retries. */
import { int, json, mapper, nullable, text } from './codec.js';
import type { Db } from './db.js';

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

export async function insertStamp(db: Db, stamp: StampRecord): Promise<void> {
  await db('stamps').insert(stamps.toRow(stamp));
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

export async function insertStampBatch(db: Db, batch: StampBatchRecord): Promise<void> {
  await db('stamp_batches').insert(batches.toRow(batch));
}

export async function getStampBatch(db: Db, id: string): Promise<StampBatchRecord | undefined> {
  const row = await db('stamp_batches').where({ id }).first();
  return row ? batches.fromRow(row) : undefined;
}

export async function listBatchStamps(db: Db, batchId: string): Promise<StampRecord[]> {
  return (await db('stamps').where({ batch_id: batchId }).orderBy('batch_index')).map(stamps.fromRow);
}

export type StampGrouping = 'department' | 'item' | 'centre';
const GROUP_COLUMN: Record<StampGrouping, string> = { department: 'department', item: 'item_code', centre: 'centre_code' };

/** Stamps per department, item or centre made in [from, to) (ISO times); the null group is stamps without one. */
export async function countStampsBy(db: Db, by: StampGrouping, range: { from?: string; to?: string }): Promise<{ key: string | null; count: number }[]> {
  const column = GROUP_COLUMN[by];
  const q = db('stamps').select({ key: column }).count({ n: '*' }).groupBy(column);
  if (range.from) q.where('created_at', '>=', range.from);
  if (range.to) q.where('created_at', '<', range.to);
  return ((await q) as { key: unknown; n: unknown }[]).map((r) => ({ key: r.key === null ? null : String(r.key), count: Number(r.n) }));
}
