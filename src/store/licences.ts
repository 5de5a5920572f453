/**
 * Licence records (one row per version) and the serial counters. Reads leave the PDF column out unless
 * asked for it, so status lookups stay cheap however large the signed files are.
 */
import { int, json, mapper, nullable, text, type Codec, type Columns } from './codec.js';
import type { Knex } from 'knex';
import type { Db } from './db.js';
import { newestFirst, within } from './keyset.js';
import { pdfColumn } from './pdf-column.js';
import { LONG_TERM } from '../licences/types.js';

export type StoredLicenceStatus = 'valid' | 'superseded' | 'revoked';

export interface LicenceRecord {
  id: string;
  typeId: string;
  typeCode: string;
  issuerCode: string;
  issuerName: string;
  serial: string;
  version: number;
  data: Record<string, string>;
  holderName: string;
  holderId: string;
  validFrom: string;
  /** YYYY-MM-DD or 长期. */
  validTo: string;
  /** SHA-256 of the signed PDF, hex. */
  sha256: string;
  sealId: string;
  sealName: string;
  sealVersion: number;
  certSerial: string;
  signedAt: string;
  status: StoredLicenceStatus;
  issuedAt: string;
  issuedBy: string;
  /** The system client the licence belongs to (it issued the serial), or null when a person issued it. */
  ownerClientId: string | null;
  /** The catalogue item the licence was issued for, and the centre that handled it (null: the district hall). */
  itemCode: string | null;
  centreCode: string | null;
  /** The approval case the licence was issued in, if given (migration 008). */
  caseNumber: string | null;
  supersedes: string | null;
  supersededBy: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
}

const nullableText = nullable(text);
const COLUMNS: Columns<LicenceRecord> = {
  id: ['id', text],
  typeId: ['type_id', text],
  typeCode: ['type_code', text],
  issuerCode: ['issuer_code', text],
  issuerName: ['issuer_name', text],
  serial: ['serial', text],
  version: ['version', int],
  data: ['data', json<Record<string, string>>()],
  holderName: ['holder_name', text],
  holderId: ['holder_id', text],
  validFrom: ['valid_from', text],
  validTo: ['valid_to', text],
  sha256: ['sha256', text],
  sealId: ['seal_id', text],
  sealName: ['seal_name', text],
  sealVersion: ['seal_version', int],
  certSerial: ['cert_serial', text],
  signedAt: ['signed_at', text],
  status: ['status', text as Codec<StoredLicenceStatus>],
  issuedAt: ['issued_at', text],
  issuedBy: ['issued_by', text],
  ownerClientId: ['owner_client_id', nullableText],
  itemCode: ['item_code', nullableText],
  centreCode: ['centre_code', nullableText],
  caseNumber: ['case_number', nullableText],
  supersedes: ['supersedes', nullableText],
  supersededBy: ['superseded_by', nullableText],
  revokedAt: ['revoked_at', nullableText],
  revocationReason: ['revocation_reason', nullableText],
};
const licences = mapper(COLUMNS);
/** Every column but the PDF. */
const RECORD_COLUMNS = Object.values(COLUMNS).map(([column]) => column);

/**
 * The next serial for licences of one type from one issuer, in one atomic upsert (as nextCrlNumber): it
 * takes the write lock (SQLite) or the row lock (PostgreSQL) and returns the counter it wrote, and two
 * first issues of a new type cannot collide. A new counter starts at 2, its serial 1 being taken. Being
 * one statement it needs no transaction of its own.
 */
export async function allocateLicenceSerial(db: Db, typeCode: string, issuerCode: string): Promise<number> {
  const [row] = await db('licence_serials')
    .insert({ type_code: typeCode, issuer_code: issuerCode, next_serial: 2 })
    .onConflict(['type_code', 'issuer_code'])
    .merge({ next_serial: db.raw('?? + 1', ['licence_serials.next_serial']) })
    .returning('next_serial');
  return Number((row as { next_serial: number | string }).next_serial) - 1;
}

/** `duplicateKey`: the type's duplicate-check key; a unique index admits one valid licence per type and key (migration 007). */
export async function insertLicence(db: Db, record: LicenceRecord, pdf: Uint8Array, duplicateKey: string | null = null): Promise<void> {
  await db('licences').insert({ ...licences.toRow(record), pdf: Buffer.from(pdf), duplicate_key: duplicateKey });
}

/** The valid licence of a type holding a duplicate key, if any. */
export async function findCurrentByDuplicateKey(db: Db, typeId: string, key: string): Promise<LicenceRecord | undefined> {
  const row = await db('licences').where({ type_id: typeId, duplicate_key: key, status: 'valid' }).first(RECORD_COLUMNS);
  return row ? licences.fromRow(row) : undefined;
}

/** Frees the key of a licence that is no longer current (its validity ended), so the holder may be issued another. */
export async function releaseDuplicateKey(db: Db, id: string): Promise<void> {
  await db('licences').where({ id }).update({ duplicate_key: null });
}

export async function getLicence(db: Db, id: string): Promise<LicenceRecord | undefined> {
  const row = await db('licences').where({ id }).first(RECORD_COLUMNS);
  return row ? licences.fromRow(row) : undefined;
}

export function getLicencePdf(db: Db, id: string): Promise<Buffer | undefined> {
  return pdfColumn(db, 'licences', { id });
}

/** Marks a valid licence superseded by `by`; false when it was no longer valid (a concurrent change or revocation). */
export async function markLicenceSuperseded(db: Db, id: string, by: string): Promise<boolean> {
  return (await db('licences').where({ id, status: 'valid' }).update({ status: 'superseded', superseded_by: by })) === 1;
}

/** Revokes a licence that is valid; false when it was not (already revoked or superseded). */
export async function markLicenceRevoked(db: Db, id: string, at: string, reason: string): Promise<boolean> {
  return (await db('licences').where({ id, status: 'valid' }).update({ status: 'revoked', revoked_at: at, revocation_reason: reason })) === 1;
}

/** What GET /v1/licences filters on; every filter given must hold (AND). Times are ISO-8601 UTC, `issuedTo` exclusive. */
export interface LicenceFilters {
  /** A system client's scope: the licences it issued… */
  ownerClientId?: string;
  /** …of these types (its grants, or the organisation types for a holder search without personal data). */
  typeIds?: readonly string[];
  typeId?: string;
  holderId?: string;
  holderName?: string;
  /** `expired`: stored valid but past valid_to (as `today` in China, YYYY-MM-DD); `valid` then means not expired. */
  status?: StoredLicenceStatus | 'expired';
  today: string;
  issuedFrom?: string;
  issuedTo?: string;
}

/** The sort key of the licence list: newest issue first. */
export const LICENCE_ORDER = ['issued_at', 'id'] as const;

/** The query for one page of licence records (no PDF), newest first, below `after` (an [issuedAt, id] key). */
export function licenceSearchQuery(db: Db, f: LicenceFilters, after: readonly (string | number)[] | undefined, limit: number): Knex.QueryBuilder {
  const query = db('licences').select(RECORD_COLUMNS);
  const equal: [string, string | undefined][] = [
    ['owner_client_id', f.ownerClientId], ['type_id', f.typeId], ['holder_id', f.holderId], ['holder_name', f.holderName],
    ['status', f.status === 'expired' ? 'valid' : f.status],
  ];
  for (const [column, value] of equal) if (value !== undefined) query.where(column, value);
  if (f.typeIds) query.whereIn('type_id', [...f.typeIds]);
  // valid_to is a date or 长期 (long-term), which never expires; how 长期 sorts against digits depends on the collation.
  if (f.status === 'expired') query.whereNot('valid_to', LONG_TERM).where('valid_to', '<', f.today);
  if (f.status === 'valid') query.where((q) => q.where('valid_to', LONG_TERM).orWhere('valid_to', '>=', f.today));
  within(query, 'issued_at', f.issuedFrom, f.issuedTo);
  return newestFirst(query, LICENCE_ORDER, after, limit);
}

export async function searchLicences(db: Db, f: LicenceFilters, after: readonly (string | number)[] | undefined, limit: number): Promise<LicenceRecord[]> {
  return ((await licenceSearchQuery(db, f, after, limit)) as Record<string, unknown>[]).map(licences.fromRow);
}
