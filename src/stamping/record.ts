/**
 * Stamping for API clients: sign, keep the output, and record the stamp with its audit entry and the
 * seal version's signature count together — the moment a stamp becomes final. If anything fails,
 * nothing is recorded, the output included (a row of the same transaction, or a file that is removed).
 * Stamps in flight share that commit point (./stamp-commits.ts: one transaction, and one directory
 * fsync for those with output files); a batch's documents are one item of it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import { OPEN_GATE, type CommitGate } from '../deadline.js';
import { OneSealError } from '../errors.js';
import { signingMaterial, type SigningMaterial } from '../seals/service.js';
import type { Services } from '../services.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import { timeOrderedUuid } from '../store/ids.js';
import { getStamp, listBatchStamps, getStampBatch, type StampBatchRecord, type StampRecord } from '../store/stamps.js';
import { idempotent } from './idempotency.js';
import type { ReservationRef } from '../store/idempotency.js';
import { keptInDatabase, OUTPUT_IN_DATABASE, outputFileFor, outputPathFor, readStampOutput, removeOutputFile, type FilePlacement, type Output } from './outputs.js';
import type { StampRows } from './stamp-rows.js';
import type { StampRequest, StampResult } from './stamper.js';

export interface StampJob {
  document: Buffer;
  filename: string | null;
  request: StampRequest;
  caseNumber: string | null;
  itemCode: string | null;
  /** The item's department and the handling centre (null: the district hall), when an item was named. */
  department: string | null;
  centreCode: string | null;
}

export interface Actor {
  id: string;
  name: string;
}

export interface RecordedStamp {
  record: StampRecord;
  pdf: Buffer;
}

export interface IdempotencyOption {
  key: string;
  waitMs: number;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** What makes two requests "the same": the document bytes and the normalised options. */
export function requestHash(kind: 'stamp' | 'batch', jobs: readonly StampJob[], extra: Record<string, unknown> = {}): string {
  return sha256(canonicalJson({
    kind,
    ...extra,
    documents: jobs.map((j) => ({
      sha256: sha256(j.document),
      filename: j.filename,
      request: JSON.parse(JSON.stringify(j.request)) as unknown,
      caseNumber: j.caseNumber,
      itemCode: j.itemCode,
    })),
  }));
}

function stampRecord(id: string, outputPath: string, actor: Actor, job: StampJob, result: StampResult, idem: string | null, reqHash: string | null,
  batch?: { id: string; index: number }): StampRecord {
  return {
    id,
    clientId: actor.id,
    sealId: result.seal.id,
    sealVersion: result.seal.version,
    certSerial: result.seal.certSerial,
    sha256In: result.sha256In,
    sha256Out: result.sha256Out,
    level: result.level,
    placement: { requested: job.request.placement, placed: result.placed, straddle: job.request.straddle ?? false, fieldName: result.fieldName },
    caseNumber: job.caseNumber,
    itemCode: job.itemCode,
    department: job.department,
    centreCode: job.centreCode,
    idempotencyKey: idem,
    requestHash: reqHash,
    outputPath,
    createdAt: nowIso(),
    batchId: batch?.id ?? null,
    batchIndex: batch?.index ?? null,
    filename: job.filename,
  };
}

/**
 * Where a stamp's output is kept: in the database with its record when it is small enough, else in its
 * file (which a worker placed already for exactly those, by the same rule).
 */
function outputPathOf(services: Services, id: string, result: StampResult): string {
  return keptInDatabase(result.pdf.byteLength, services.config.outputsInDatabaseMaxBytes) ? OUTPUT_IN_DATABASE : outputPathFor(id);
}

/** The outputs of these stamps that are files, for the commit point to put in place and sync. */
function outputFiles(stamps: readonly { record: StampRecord; pdf: Uint8Array }[], results: readonly StampResult[]): Output[] {
  return stamps.flatMap((s, i) => (s.record.outputPath === OUTPUT_IN_DATABASE ? [] : [{ path: s.record.outputPath!, pdf: s.pdf, placedIn: results[i]!.placedIn }]));
}

/** A stamp's rows: the record, its output when kept in the database, one signature more for its seal version, and its audit entry. */
function addStamp(rows: StampRows, actor: Actor, stamp: RecordedStamp, versionId: number): void {
  const { record } = stamp;
  rows.stamp(record, versionId);
  if (record.outputPath === OUTPUT_IN_DATABASE) rows.output({ stampId: record.id, pdf: stamp.pdf });
  rows.auditEntry({
    actor: `client:${actor.name}`,
    action: 'stamp.create',
    subject: record.id,
    details: {
      clientId: actor.id,
      seal: record.sealId,
      sealVersion: record.sealVersion,
      certSerial: record.certSerial,
      sha256In: record.sha256In,
      sha256Out: record.sha256Out,
      level: record.level,
      caseNumber: record.caseNumber,
      itemCode: record.itemCode,
      ...(record.itemCode ? { department: record.department, centre: record.centreCode } : {}),
      ...(record.batchId ? { batch: record.batchId, batchIndex: record.batchIndex } : {}),
    },
  });
}

const storeOf = (services: Services) => ({ db: services.store.db, dataDir: services.config.dataDir });

export async function loadRecordedStamp(services: Services, id: string): Promise<RecordedStamp> {
  const record = await getStamp(services.store.db, id);
  if (!record || !record.outputPath) throw new OneSealError('stamp-not-found', 'internal', `Stamp ${id} named by an idempotency record is missing.`);
  return { record, pdf: await readStampOutput(storeOf(services), record) };
}

function scope(services: Services, actor: Actor, idem: IdempotencyOption, hash: string) {
  return {
    db: services.store.db,
    reads: services.store.reads,
    clientId: actor.id,
    key: idem.key,
    requestHash: hash,
    waitMs: idem.waitMs,
    // A request cannot legitimately run much longer than the time-out; after that its process died.
    staleMs: Math.max(5 * 60_000, 2 * services.config.requestTimeoutMs),
  };
}

/**
 * The files the workers of one request may put its outputs in (those too large for the database;
 * StampResult.placedIn), known before their work starts. Once handed to the commit point, that
 * records them or removes them; a request that fails before (its deadline passed, a later document of
 * its batch failed, a worker died) removes them here. A worker stopped mid-task is the stamper's to
 * clean up after (Stamper.stamp).
 */
class OutputFiles {
  private readonly paths: string[] = [];
  private handed = false;

  private constructor(private readonly dataDir: string, private readonly databaseMaxBytes: number) {}

  static async during<T>(config: { dataDir: string; outputsInDatabaseMaxBytes: number }, work: (files: OutputFiles) => Promise<T>): Promise<T> {
    const files = new OutputFiles(config.dataDir, config.outputsInDatabaseMaxBytes);
    try {
      return await work(files);
    } catch (e) {
      // Settled, not all: a removal that fails (the directory itself is gone) must not hide why the request failed.
      if (!files.handed) await Promise.allSettled(files.paths.map(removeOutputFile));
      throw e;
    }
  }

  /** Where the output of stamp `stampId` goes if it is a file, to be removed unless handed over. */
  placementFor(stampId: string): FilePlacement {
    const file = outputFileFor(this.dataDir, stampId);
    this.paths.push(file);
    return { file, databaseMaxBytes: this.databaseMaxBytes };
  }

  handOver<T>(submit: () => Promise<T>): Promise<T> {
    this.handed = true;
    return submit();
  }
}

/**
 * Once a request's stamps are durable: counts them by department, item and centre (a batch's time
 * shared among its documents), and the request's time signing (to `signed`) and committing (after).
 */
function observeRecorded(services: Services, jobs: readonly StampJob[], started: number, signed: number): void {
  const now = performance.now();
  const seconds = (now - started) / 1000 / jobs.length;
  for (const job of jobs) services.metrics.handling.observe(job, seconds);
  services.metrics.stampStageSeconds.observe({ stage: 'sign' }, (signed - started) / 1000);
  services.metrics.stampStageSeconds.observe({ stage: 'commit' }, (now - signed) / 1000);
}

/**
 * `gate`: the request's deadline. Past it the work stops at the next check and is never recorded;
 * once the recording transaction has started the deadline no longer applies.
 */
export async function stampAndRecord(services: Services, actor: Actor, job: StampJob, idem?: IdempotencyOption,
  gate: CommitGate = OPEN_GATE): Promise<RecordedStamp & { replayed: boolean }> {
  const hash = idem ? requestHash('stamp', [job]) : null;
  const work = async (reservation?: ReservationRef): Promise<RecordedStamp> => {
    const started = performance.now();
    gate.check();
    return OutputFiles.during(services.config, async (files) => {
      const id = timeOrderedUuid();
      const result = await services.stamper.stamp(job.document, job.request, gate.signal, files.placementFor(id));
      const signed = performance.now();
      gate.check();
      const stamp = { record: stampRecord(id, outputPathOf(services, id, result), actor, job, result, idem?.key ?? null, hash, undefined), pdf: result.pdf };
      await gate.commit(() => files.handOver(() => services.stampCommits.submit({
        outputs: outputFiles([stamp], [result]),
        async record(_trx, rows) {
          addStamp(rows, actor, stamp, result.seal.versionId);
          if (reservation) rows.reservationDone(reservation, id);
        },
      })));
      observeRecorded(services, [job], started, signed);
      return stamp;
    });
  };
  if (!idem) return { ...(await work()), replayed: false };
  const { value, replayed } = await idempotent(scope(services, actor, idem, hash!), work, (id) => loadRecordedStamp(services, id));
  return { ...value, replayed };
}

export interface RecordedBatch {
  batch: StampBatchRecord;
  stamps: RecordedStamp[];
}

/** Why one document of a batch failed, naming it, so the client can fix that one and resend the batch. */
function documentFailed(index: number, job: StampJob, e: OneSealError): OneSealError {
  const which = `document ${index}${job.filename ? ` ("${job.filename}")` : ''}`;
  return new OneSealError('batch-document-failed', 'unprocessable',
    `The batch was not stamped: ${which} failed: ${e.message} Nothing was recorded.`,
    { cause: e, extra: { documentIndex: index, filename: job.filename, reason: { code: e.code, detail: e.message } }, fields: [{ field: `documents[${index}]`, message: e.message }] });
}

/** Errors that are the document's or the request's fault (not the service's) name the document. */
const CLIENT_FAULT = new Set(['bad-request', 'unprocessable', 'not-found', 'conflict', 'too-large']);

export async function stampBatchAndRecord(services: Services, actor: Actor, jobs: StampJob[], caseNumber: string | null,
  idem?: IdempotencyOption, gate: CommitGate = OPEN_GATE): Promise<RecordedBatch & { replayed: boolean }> {
  const hash = idem ? requestHash('batch', jobs, { caseNumber }) : null;
  const work = async (reservation?: ReservationRef): Promise<RecordedBatch> => {
    const started = performance.now();
    return OutputFiles.during(services.config, async (files) => {
      const ids = jobs.map(() => timeOrderedUuid());
      // One version per seal for the whole batch: a rotation mid-batch must not split the case across keys.
      const materials = new Map<string, SigningMaterial>();
      const results: StampResult[] = [];
      for (const [i, job] of jobs.entries()) {
        gate.check();
        try {
          let material = materials.get(job.request.sealId);
          if (!material) {
            material = await signingMaterial(services, job.request.sealId);
            materials.set(job.request.sealId, material);
          }
          results.push(await services.stamper.stampWith(material, job.document, job.request, gate.signal, files.placementFor(ids[i]!)));
        } catch (e) {
          if (e instanceof OneSealError && CLIENT_FAULT.has(e.kind)) throw documentFailed(i, job, e);
          throw e;
        }
      }
      const batch: StampBatchRecord = { id: timeOrderedUuid(), clientId: actor.id, caseNumber, documentCount: jobs.length, createdAt: nowIso() };
      const stamps = jobs.map((job, index) => {
        const id = ids[index]!;
        const result = results[index]!;
        return { record: stampRecord(id, outputPathOf(services, id, result), actor, job, result, null, null, { id: batch.id, index }), pdf: result.pdf };
      });
      const signed = performance.now();
      gate.check();
      await gate.commit(() => files.handOver(() => services.stampCommits.submit({
        outputs: outputFiles(stamps, results),
        async record(_trx, rows) {
          rows.batch(batch);
          for (const [i, s] of stamps.entries()) addStamp(rows, actor, s, results[i]!.seal.versionId);
          rows.auditEntry({
            actor: `client:${actor.name}`,
            action: 'stamp-batch.create',
            subject: batch.id,
            details: { clientId: actor.id, caseNumber, stamps: stamps.map((s) => s.record.id) },
          });
          if (reservation) rows.reservationDone(reservation, batch.id);
        },
      })));
      observeRecorded(services, jobs, started, signed);
      return { batch, stamps };
    });
  };
  if (!idem) return { ...(await work()), replayed: false };
  const { value, replayed } = await idempotent(scope(services, actor, idem, hash!), work, (id) => loadRecordedBatch(services, id));
  return { ...value, replayed };
}

export async function loadRecordedBatch(services: Services, id: string): Promise<RecordedBatch> {
  const db: Db = services.store.db;
  const batch = await getStampBatch(db, id);
  if (!batch) throw new OneSealError('batch-not-found', 'internal', `Stamp batch ${id} named by an idempotency record is missing.`);
  const records = await listBatchStamps(db, id);
  const stamps = await Promise.all(records.map(async (record) => ({
    record,
    pdf: await readStampOutput(storeOf(services), record),
  })));
  return { batch, stamps };
}
