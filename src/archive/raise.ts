/**
 * `archive export` packages documents that can outlive their certificates: a document that is only
 * B-T (a signature time-stamp, no document time-stamp) is first raised to B-LTA the way a renewal
 * extends one — a new stored copy, recorded and audited — so the package carries that copy. A
 * document without any time-stamp (B-B) has no proven time to carry forward: it is packaged as it
 * is, and the package says why.
 */
import { isOneSealError } from '../errors.js';
import { PdfReader } from '../pdf/reader.js';
import { newestTimestamp, signedValues } from '../signing/lta.js';
import { getArchiveDocument, insertArchiveDocument, type ArchivedKind } from '../store/archive.js';
import { describeNewestTimestamp, newestDocument, originalDocument, type StoredDocument } from './documents.js';
import { recordFor, renewDocument, type RenewDeps } from './renew.js';

/** already: it has a document time-stamp; raised: this export extended it; otherwise why it could not be. */
export type LtaStanding = { lta: 'already' | 'raised' } | { lta: 'not-raised'; why: string };

export const NO_TIMESTAMP = 'it carries no time-stamp (B-B): there is no proven time to carry forward, so it is packaged as it is and stays provable only while its signing certificate is valid';

function standingOf(pdf: Uint8Array): 'already' | 'raisable' | 'no-timestamp' {
  const values = signedValues(PdfReader.load(pdf));
  if (values.some((v) => v.kind === 'doc-timestamp')) return 'already';
  return newestTimestamp(values) ? 'raisable' : 'no-timestamp';
}

export async function raiseToLta(deps: RenewDeps, kind: ArchivedKind, recordId: string, actor: string, now: Date): Promise<StoredDocument & LtaStanding> {
  let row = await getArchiveDocument(deps.db, kind, recordId);
  if (!row) {
    // Not yet seen by a renewal run: indexed here, as the run would.
    const original = await originalDocument(deps, kind, recordId);
    await insertArchiveDocument(deps.db, recordFor(kind, recordId, original.sha256, describeNewestTimestamp(original.pdf), now));
    row = (await getArchiveDocument(deps.db, kind, recordId))!;
  }
  const doc = await newestDocument(deps, kind, recordId, row);
  const standing = standingOf(doc.pdf);
  if (standing === 'already') return { ...doc, lta: 'already' };
  if (standing === 'no-timestamp') return { ...doc, lta: 'not-raised', why: NO_TIMESTAMP };
  try {
    await renewDocument(deps, row, actor, 'export', now);
  } catch (e) {
    // A renewal run got there first: its copy is just as good.
    if (!(isOneSealError(e) && e.code === 'archive-renewed-concurrently')) {
      return { ...doc, lta: 'not-raised', why: `raising it to B-LTA failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return { ...(await newestDocument(deps, kind, recordId)), lta: 'raised' };
}
