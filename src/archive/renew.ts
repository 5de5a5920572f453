/**
 * `archive renew` and the daily job in `serve`: keeps stored documents provable for decades. A
 * document is due when the TSA certificate of its newest time-stamp expires within the horizon, or
 * that time-stamp relies on a digest the configuration marks as weakening. Renewing appends a DSS
 * revision and a document time-stamp (signing/lta.ts) to the newest copy, writes it as a new file
 * and moves the record to it with an audit entry, in one transaction. First, documents never seen
 * are indexed (their newest time-stamp described once), so the daily query reads no PDFs.
 */
import path from 'node:path';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { extendLta } from '../signing/lta.js';
import type { RevocationSource, Timestamper } from '../signing/sign-pdf.js';
import { removeOutput, writeOutput } from '../stamping/outputs.js';
import {
  advanceArchiveDocument,
  dueArchiveDocuments,
  insertArchiveDocument,
  unindexedDocuments,
  type ArchiveDocumentRecord,
  type ArchivedKind,
} from '../store/archive.js';
import { acquireLease, releaseLease } from '../store/leases.js';
import type * as pkijs from 'pkijs';
import { toCertificate } from '../pki/der.js';
import { signerHash } from '../pki/sign.js';
import { renewFoundPackages, scanPackages, type PackageRun } from './package-renew.js';
import { localTimestamper, ownRevocationSource } from '../pki/services.js';
import type { Services } from '../services.js';
import { describeNewestTimestamp, newestDocument, originalDocument, type DocumentStore } from './documents.js';

const DAY_MS = 24 * 3600 * 1000;
/** Documents indexed per query while catching up (a large store is indexed in slices). */
const INDEX_SLICE = 200;
export const RENEW_LEASE = 'archive-renew';
const LEASE_TTL_MS = 30 * 60 * 1000;

export interface RenewDeps extends DocumentStore {
  timestamper: Timestamper;
  revocation: RevocationSource;
  /** The TSA certificate's expiry: renewing with a TSA that expires as soon as the old one gains nothing. */
  tsaExpiresAt: Date;
  /** The digests a new time-stamp relies on (its message imprint, the TSA's signature): none may be weakening. */
  renewalDigests: readonly string[];
  /** What packages are checked against before they are time-stamped again. */
  trust: { anchorsDer: Uint8Array[]; anchors: pkijs.Certificate[] };
}

export interface RenewOptions {
  horizonDays: number;
  weakDigests: readonly string[];
  dryRun?: boolean;
  now?: Date;
  /** Who asked (audit actor): a person, or 'system:archive' for the daily job. */
  actor: string;
  onProgress?: (p: { done: number; total: number; what: string }) => void;
  /** Also renew the ASiC-E packages under this directory (package-renew.ts). */
  packagesDir?: string;
}

export interface DueDocument {
  kind: ArchivedKind;
  recordId: string;
  timestampExpiresAt: string;
  reason: 'expiring' | 'weakening';
}

export interface RenewRun {
  indexed: number;
  due: DueDocument[];
  renewed: (DueDocument & { copySeq: number; sha256: string })[];
  /** Documents that could not be read or renewed (a missing output file, a TSA error). */
  failed: { kind: ArchivedKind; recordId: string; error: string }[];
  /** Why nothing could be renewed, when the TSA itself is the problem. */
  blocked?: string;
  /** With packagesDir: the packages due, renewed and failed. */
  packages?: PackageRun;
}

/** Renewals stamp with OneSeal's own TSA and store its own revocation data, as stamping does. */
export function renewDeps(services: Services): RenewDeps {
  const pki = { store: services.store, authority: services.authority };
  return {
    db: services.store.db,
    dataDir: services.config.dataDir,
    timestamper: localTimestamper(pki),
    revocation: ownRevocationSource(pki),
    tsaExpiresAt: toCertificate(services.authority.tsa.certificate).notAfter.value,
    renewalDigests: [...new Set(['SHA-256', signerHash(services.authority.tsa.signer)])],
    trust: { anchorsDer: [services.authority.root.certificate], anchors: [toCertificate(services.authority.root.certificate)] },
  };
}

const digestsColumn = (digests: string[]): string => `,${digests.join(',')},`;

export function recordFor(kind: ArchivedKind, recordId: string, sha256: string, described: ReturnType<typeof describeNewestTimestamp>, now: Date): ArchiveDocumentRecord {
  return {
    kind,
    recordId,
    copySeq: 0,
    copyPath: null,
    sha256,
    timestampExpiresAt: described?.expiresAt.toISOString() ?? null,
    timestampDigests: described ? digestsColumn(described.digests) : null,
    renewedAt: null,
    updatedAt: now.toISOString(),
  };
}

/** Records every stored document not yet known, slice by slice; in a dry run they are only described. */
async function indexNew(deps: RenewDeps, o: RenewOptions, now: Date, failed: RenewRun['failed']): Promise<ArchiveDocumentRecord[]> {
  const fresh: ArchiveDocumentRecord[] = [];
  const seen = new Set<string>();
  for (;;) {
    // Documents already looked at come back in a dry run (nothing was recorded) or when unreadable: done once the query has nothing new.
    const batch = (await unindexedDocuments(deps.db, INDEX_SLICE)).filter((d) => !seen.has(`${d.kind}:${d.recordId}`));
    if (batch.length === 0) return fresh;
    for (const d of batch) {
      seen.add(`${d.kind}:${d.recordId}`);
      try {
        const doc = await originalDocument(deps, d.kind, d.recordId);
        const record = recordFor(d.kind, d.recordId, doc.sha256, describeNewestTimestamp(doc.pdf), now);
        if (!o.dryRun) await insertArchiveDocument(deps.db, record);
        fresh.push(record);
      } catch (e) {
        failed.push({ ...d, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}

function dueReason(r: ArchiveDocumentRecord, before: string, weak: readonly string[]): DueDocument['reason'] | undefined {
  if (!r.timestampExpiresAt) return undefined;
  if (r.timestampExpiresAt <= before) return 'expiring';
  return weak.some((d) => r.timestampDigests?.includes(`,${d},`)) ? 'weakening' : undefined;
}

/** Where the n-th renewed copy of a document is written, relative to the data dir. */
export function copyPathFor(kind: ArchivedKind, recordId: string, seq: number): string {
  return path.posix.join('archive', kind, `${recordId.replace(/[^0-9A-Za-z.-]/g, '_')}-${seq}.pdf`);
}

/** One document's next copy: the newest extended (DSS + document time-stamp), recorded and audited with `why`. */
export async function renewDocument(deps: RenewDeps, row: ArchiveDocumentRecord, actor: string, why: DueDocument['reason'] | 'export', now: Date): Promise<{ copySeq: number; sha256: string }> {
  const current = await newestDocument(deps, row.kind, row.recordId, row);
  const extended = await extendLta(current.pdf, { timestamper: deps.timestamper, revocation: deps.revocation });
  const described = describeNewestTimestamp(extended.pdf);
  const copySeq = row.copySeq + 1;
  const copyPath = copyPathFor(row.kind, row.recordId, copySeq);
  await writeOutput(deps.dataDir, copyPath, extended.pdf);
  const next: ArchiveDocumentRecord = {
    ...recordFor(row.kind, row.recordId, extended.sha256Out, described, now),
    copySeq,
    copyPath,
    renewedAt: now.toISOString(),
  };
  const advanced = await deps.db.transaction(async (trx) => {
    if (!(await advanceArchiveDocument(trx, next, row.copySeq))) return false;
    await appendAudit(trx, {
      actor,
      action: 'archive.renew',
      subject: `${row.kind}:${row.recordId}`,
      details: {
        why,
        copySeq,
        sha256Before: current.sha256,
        sha256After: extended.sha256Out,
        timestampExpiredAt: row.timestampExpiresAt,
        timestampExpiresAt: next.timestampExpiresAt,
      },
    });
    return true;
  });
  if (!advanced) {
    await removeOutput(deps.dataDir, copyPath);
    throw new OneSealError('archive-renewed-concurrently', 'conflict', `${row.kind} ${row.recordId} was renewed by another run meanwhile.`);
  }
  return { copySeq, sha256: extended.sha256Out };
}

export async function renewArchive(deps: RenewDeps, o: RenewOptions): Promise<RenewRun> {
  const now = o.now ?? new Date();
  const before = new Date(now.getTime() + o.horizonDays * DAY_MS).toISOString();
  const failed: RenewRun['failed'] = [];
  const fresh = await indexNew(deps, o, now, failed);
  const rows = o.dryRun ? [...(await dueArchiveDocuments(deps.db, before, o.weakDigests)), ...fresh] : await dueArchiveDocuments(deps.db, before, o.weakDigests);
  const due: { row: ArchiveDocumentRecord; doc: DueDocument }[] = [];
  for (const row of rows) {
    const reason = dueReason(row, before, o.weakDigests);
    if (reason) due.push({ row, doc: { kind: row.kind, recordId: row.recordId, timestampExpiresAt: row.timestampExpiresAt!, reason } });
  }
  const run: RenewRun = { indexed: fresh.length, due: due.map((d) => d.doc), renewed: [], failed };
  const scan = o.packagesDir === undefined ? undefined : await scanPackages(o.packagesDir, before, o.weakDigests);
  if (scan) run.packages = { due: scan.found.map((f) => f.due), renewed: [], failed: scan.failed };
  if (o.dryRun || (due.length === 0 && !scan?.found.length)) return run;
  run.blocked = renewalBlocked(deps, before, o.weakDigests);
  if (run.blocked) return run;
  let done = 0;
  const total = due.length + (scan?.found.length ?? 0);
  for (const { row, doc } of due) {
    try {
      run.renewed.push({ ...doc, ...(await renewDocument(deps, row, o.actor, doc.reason, now)) });
    } catch (e) {
      run.failed.push({ kind: doc.kind, recordId: doc.recordId, error: e instanceof Error ? e.message : String(e) });
    }
    o.onProgress?.({ done: ++done, total, what: `${row.kind} ${row.recordId}` });
  }
  if (scan && run.packages) {
    await renewFoundPackages({ db: deps.db, timestamper: deps.timestamper, ...deps.trust }, scan.found, run.packages, {
      now, actor: o.actor, onProgress: (file) => o.onProgress?.({ done: ++done, total, what: file }),
    });
  }
  return run;
}

/**
 * Why renewing now would not help: the TSA's own certificate ends within the horizon, or the new
 * time-stamp would rely on a digest marked weakening (it must be renewed with a stronger one).
 */
function renewalBlocked(deps: RenewDeps, before: string, weakDigests: readonly string[]): string | undefined {
  if (deps.tsaExpiresAt.toISOString() <= before) {
    return `The TSA's own certificate expires ${deps.tsaExpiresAt.toISOString()}, within the horizon: renewing with it would not carry the documents further. Give the TSA a new key and certificate first (oneseal init renews an expiring one).`;
  }
  const weak = deps.renewalDigests.filter((d) => weakDigests.includes(d));
  if (weak.length > 0) {
    return `A new time-stamp would rely on ${weak.join(', ')}, which the configuration marks as weakening: renewing with it would not make the documents any safer. Give the TSA a key and digest not marked weak first.`;
  }
  return undefined;
}

/** The daily job: one instance at a time through the database lease. */
export async function renewArchiveOnce(deps: RenewDeps, o: RenewOptions, holder: string): Promise<RenewRun | undefined> {
  const now = o.now ?? new Date();
  if (!(await acquireLease(deps.db, RENEW_LEASE, holder, now, LEASE_TTL_MS))) return undefined;
  // A long run keeps its lease: each renewed document extends it (a failed extension only lets the lease lapse sooner).
  let extending: Promise<unknown> = Promise.resolve();
  const onProgress: RenewOptions['onProgress'] = (p) => {
    o.onProgress?.(p);
    extending = extending.then(() => acquireLease(deps.db, RENEW_LEASE, holder, new Date(), LEASE_TTL_MS)).catch(() => undefined);
  };
  try {
    return await renewArchive(deps, { ...o, onProgress });
  } finally {
    // After the last extension, or it would take the lease again once released.
    await extending;
    await releaseLease(deps.db, RENEW_LEASE, holder);
  }
}
