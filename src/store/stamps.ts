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
  idempotencyKey: string | null;
  /** Hash of the request that used the idempotency key, to tell a retry from a reuse with other content. */
  requestHash: string | null;
  outputPath: string | null;
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
  idempotencyKey: ['idempotency_key', nullableText],
  requestHash: ['request_hash', nullableText],
  outputPath: ['output_path', nullableText],
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
