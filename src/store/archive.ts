/** The long-term state of stored documents (migration 008): newest copy, its hash, when its newest time-stamp runs out. */
import { int, mapper, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';

export type ArchivedKind = 'stamp' | 'licence';

export interface ArchiveDocumentRecord {
  kind: ArchivedKind;
  recordId: string;
  /** 0: the original; n: the n-th renewal. */
  copySeq: number;
  /** Relative to the data dir; null while the original is the newest copy. */
  copyPath: string | null;
  sha256: string;
  /** When the TSA certificate of the newest time-stamp expires; null when the document has none. */
  timestampExpiresAt: string | null;
  /** Digest algorithms the newest time-stamp relies on, as ",SHA-256," (commas around each, for the weakening check). */
  timestampDigests: string | null;
  renewedAt: string | null;
  updatedAt: string;
}

const nullableText = nullable(text);
const rows = mapper<ArchiveDocumentRecord>({
  kind: ['kind', text as Codec<ArchivedKind>],
  recordId: ['record_id', text],
  copySeq: ['copy_seq', int],
  copyPath: ['copy_path', nullableText],
  sha256: ['sha256', text],
  timestampExpiresAt: ['timestamp_expires_at', nullableText],
  timestampDigests: ['timestamp_digests', nullableText],
  renewedAt: ['renewed_at', nullableText],
  updatedAt: ['updated_at', text],
});

export async function getArchiveDocument(db: Db, kind: ArchivedKind, recordId: string): Promise<ArchiveDocumentRecord | undefined> {
  const row = await db('archive_documents').where({ kind, record_id: recordId }).first();
  return row ? rows.fromRow(row) : undefined;
}

/** First sight of a document: recorded unless another instance got there first. */
export async function insertArchiveDocument(db: Db, record: ArchiveDocumentRecord): Promise<void> {
  await db('archive_documents').insert(rows.toRow(record)).onConflict(['kind', 'record_id']).ignore();
}

/**
 * Moves a document to its next copy, only from the copy the renewal read (`fromSeq`): two renewals
 * racing cannot both win, and the loser's file is simply never named.
 */
export async function advanceArchiveDocument(db: Db, next: ArchiveDocumentRecord, fromSeq: number): Promise<boolean> {
  const n = await db('archive_documents').where({ kind: next.kind, record_id: next.recordId, copy_seq: fromSeq }).update(rows.toRow(next));
  return n === 1;
}

/** Stored documents not yet in archive_documents: stamps whose output was kept, and licences. */
export async function unindexedDocuments(db: Db, limit: number): Promise<{ kind: ArchivedKind; recordId: string }[]> {
  const stamps = await db('stamps')
    .leftJoin('archive_documents', (j) => j.on('archive_documents.record_id', 'stamps.id').andOnVal('archive_documents.kind', 'stamp'))
    .whereNotNull('stamps.output_path').whereNull('archive_documents.record_id').orderBy('stamps.created_at').limit(limit).select('stamps.id');
  const licences = await db('licences')
    .leftJoin('archive_documents', (j) => j.on('archive_documents.record_id', 'licences.id').andOnVal('archive_documents.kind', 'licence'))
    .whereNull('archive_documents.record_id').orderBy('licences.issued_at').limit(limit).select('licences.id');
  return [
    ...stamps.map((r) => ({ kind: 'stamp' as const, recordId: String(r.id) })),
    ...licences.map((r) => ({ kind: 'licence' as const, recordId: String(r.id) })),
  ];
}

/** Documents whose newest time-stamp expires by `before`, or relies on one of `weakDigests`; soonest first. */
export async function dueArchiveDocuments(db: Db, before: string, weakDigests: readonly string[]): Promise<ArchiveDocumentRecord[]> {
  const q = db('archive_documents').whereNotNull('timestamp_expires_at').where((w) => {
    w.where('timestamp_expires_at', '<=', before);
    for (const d of weakDigests) w.orWhere('timestamp_digests', 'like', `%,${d},%`);
  });
  return (await q.orderBy('timestamp_expires_at')).map(rows.fromRow);
}
