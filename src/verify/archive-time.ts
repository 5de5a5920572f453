/**
 * The chain of document time-stamps (PAdES B-LTA, ETSI EN 319 102-1 past signature validation).
 * A time-stamp proves that what it covers existed at its time, but only while its TSA certificate
 * can still be trusted: until that certificate expires, or until a later archive time-stamp —
 * itself proven, over validation data kept in the DSS — shows the earlier one existed while its
 * certificate was still valid. So each time-stamp has a deadline: the earliest proven later
 * archive time-stamp that covers it, else the time of validation. Walked from the newest document
 * time-stamp back, since each one's deadline depends on those after it.
 */
import type * as pkijs from 'pkijs';
import { PdfError } from '../errors.js';
import type { PdfDict } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import type { Examined } from './examine.js';
import { isTimeStampingCertificate } from './seal-certificate.js';
import type { TimestampCheck } from './timestamp.js';
import { buildChain, type SignatureChecks } from './trust.js';

export interface TimestampContext {
  reader: PdfReader;
  /** Untrusted certificates to build chains with (DSS, caller extras). */
  pool: pkijs.Certificate[];
  anchors: pkijs.Certificate[];
  now: Date;
  checks: SignatureChecks;
}

/**
 * proven: intact, a time-stamping certificate, chaining to an anchor at its time and still at its deadline.
 * expired: all of that except the deadline (its TSA certificate expired unprotected).
 * unproven: anything else.
 */
export type Standing = 'proven' | 'expired' | 'unproven';

export function standingOf(t: TimestampCheck, ctx: Pick<TimestampContext, 'pool' | 'anchors' | 'checks'>, deadline: Date): Standing {
  if (t.reasons.length > 0 || !t.genTime || !t.tsaCert || !isTimeStampingCertificate(t.tsaCert)) return 'unproven';
  const pool = [...ctx.pool, ...(t.token?.certificates ?? [])];
  if (buildChain(t.tsaCert, pool, ctx.anchors, t.genTime, ctx.checks).reasons.length > 0) return 'unproven';
  if (deadline.getTime() <= t.genTime.getTime()) return 'proven';
  return buildChain(t.tsaCert, pool, ctx.anchors, deadline, ctx.checks).reasons.length === 0 ? 'proven' : 'expired';
}

export interface ArchiveTimes {
  /** By when a time-stamp made in (or inside a signature of) revision `revision` must still be trustworthy. */
  deadline(revision: number | undefined): Date;
  /** Later proven archive time-stamps (their genTime) for something signed in `revision`. */
  provenAfter(revision: number | undefined): Date[];
}

/** `docTimestamps`: intact document time-stamps with their signed revision. */
export function archiveTimes(docTimestamps: readonly Examined[], ctx: TimestampContext): ArchiveTimes {
  const proven: { revision: number; genTime: Date; protects: boolean }[] = [];
  const after = (revision: number | undefined) => proven.filter((p) => revision !== undefined && p.revision > revision);
  const deadline = (revision: number | undefined): Date => {
    const times = after(revision).filter((p) => p.protects).map((p) => p.genTime.getTime());
    return times.length > 0 ? new Date(Math.min(...times)) : ctx.now;
  };
  const newestFirst = [...docTimestamps].sort((a, b) => b.structure.signedRevision! - a.structure.signedRevision!);
  for (const ex of newestFirst) {
    const revision = ex.structure.signedRevision!;
    if (standingOf(ex.docTimestamp!, ctx, deadline(revision)) !== 'proven') continue;
    // Only a time-stamp over validation data (a DSS before it) carries earlier time-stamps past their certificates.
    proven.push({ revision, genTime: ex.docTimestamp!.genTime!, protects: dssAt(ctx.reader, revision) });
  }
  return { deadline, provenAfter: (revision) => after(revision).map((p) => p.genTime) };
}

export function dssAt(reader: PdfReader, revision: number): boolean {
  try {
    return (reader.atRevision(revision).catalog() as PdfDict).has('DSS');
  } catch (e) {
    if (e instanceof PdfError && e.code === 'invalid-pdf') return false;
    throw e;
  }
}
