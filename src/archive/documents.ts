/**
 * The stored documents an archive deals with — stamped PDFs and licences — each in its newest copy:
 * the original until a renewal wrote a longer one. Every read checks the SHA-256 recorded for it.
 */
import { createHash } from 'node:crypto';
import { OneSealError } from '../errors.js';
import { PdfReader } from '../pdf/reader.js';
import { newestTimestamp, signedValues } from '../signing/lta.js';
import { readOutput, readStampOutput } from '../stamping/outputs.js';
import { getArchiveDocument, type ArchivedKind, type ArchiveDocumentRecord } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { getLicence, getLicencePdf } from '../store/licences.js';
import { getStamp } from '../store/stamps.js';
import { parseCms, tstInfoOf } from '../verify/cms.js';
import { hashForOid } from '../verify/crypto.js';
import { verifyCmsIntegrity } from '../verify/integrity.js';

export interface DocumentStore {
  db: Db;
  dataDir: string;
}

export interface StoredDocument {
  kind: ArchivedKind;
  recordId: string;
  pdf: Buffer;
  sha256: string;
  /** 0: the original. */
  copySeq: number;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The document as it was first stored (the stamp's output, the licence's PDF column). */
export async function originalDocument(store: DocumentStore, kind: ArchivedKind, recordId: string): Promise<StoredDocument> {
  if (kind === 'stamp') {
    const stamp = await getStamp(store.db, recordId);
    if (!stamp) throw new OneSealError('stamp-output-not-kept', 'not-found', `The output of stamp "${recordId}" was not kept.`);
    return { kind, recordId, pdf: await readStampOutput(store, stamp), sha256: stamp.sha256Out, copySeq: 0 };
  }
  const [licence, pdf] = await Promise.all([getLicence(store.db, recordId), getLicencePdf(store.db, recordId)]);
  if (!licence || !pdf) throw new OneSealError('licence-not-found', 'not-found', `There is no licence "${recordId}".`);
  if (sha256(pdf) !== licence.sha256) throw new OneSealError('licence-pdf-altered', 'internal', `The stored PDF of licence ${recordId} no longer has the SHA-256 recorded for it.`);
  return { kind, recordId, pdf, sha256: licence.sha256, copySeq: 0 };
}

/** The newest copy: the last renewal's when there was one, else the original. */
export async function newestDocument(store: DocumentStore, kind: ArchivedKind, recordId: string, known?: ArchiveDocumentRecord): Promise<StoredDocument> {
  const row = known ?? (await getArchiveDocument(store.db, kind, recordId));
  if (!row?.copyPath) return originalDocument(store, kind, recordId);
  return { kind, recordId, pdf: await readOutput(store.dataDir, row.copyPath, row.sha256), sha256: row.sha256, copySeq: row.copySeq };
}

export interface TimestampStanding {
  /** When the TSA certificate of the newest time-stamp expires. */
  expiresAt: Date;
  /** The digests it relies on ("SHA-256"): its message imprint and its own signature. */
  digests: string[];
}

const digestName = (oid: string): string | undefined => hashForOid(oid)?.toUpperCase().replace(/^SHA/, 'SHA-');

/** What a renewal needs to know of a time-stamp token; undefined when it is unreadable. */
export function describeToken(der: Uint8Array): TimestampStanding | undefined {
  try {
    const token = parseCms(der);
    const info = tstInfoOf(token);
    const tsa = verifyCmsIntegrity(token, [token.eContent!], []).signerCert;
    if (!tsa) return undefined;
    const digests = [digestName(info.imprintAlgorithm), digestName(token.digestAlgorithmOid)].filter((d): d is string => d !== undefined);
    return { expiresAt: tsa.notAfter.value, digests: [...new Set(digests)] };
  } catch {
    return undefined;
  }
}

/** What the renewal needs to know of a document's newest time-stamp; undefined when it has none (or it is unreadable). */
export function describeNewestTimestamp(pdf: Uint8Array): TimestampStanding | undefined {
  const newest = newestTimestamp(signedValues(PdfReader.load(pdf)));
  return newest ? describeToken(newest.token) : undefined;
}
