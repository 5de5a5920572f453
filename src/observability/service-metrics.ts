/**
 * The metrics OneSeal exposes at GET /metrics. The parts that produce the numbers (HSM, stamper, HTTP
 * middleware) report through callbacks or these handles; none of them imports the registry.
 */
import { HandlingMetrics } from './handling-metrics.js';
import { Registry, type Counter, type Gauge, type Histogram } from './metrics.js';
import type { HsmStats } from '../hsm/hsm.js';
import type { WorkerPool } from '../workers/pool.js';

export interface ServiceMetrics {
  registry: Registry;
  /** seal (id, or "unknown" when the seal could not be loaded), level, outcome ("ok" or the error kind). */
  stamps: Counter;
  /** verdict: the verification engine's verdict on an uploaded document. */
  verifications: Counter;
  /** outcome: "ok" | "error". */
  hsmSignSeconds: Histogram;
  /** kind: "ocsp" | "crl" — revocation data signed; what is served from the shared cache is not counted. */
  revocationSigned: Counter;
  /** state: in_use | idle | waiting. */
  hsmSessions: Gauge;
  hsmLanes: Gauge;
  workerThreads: Gauge;
  workerQueue: Gauge;
  /** Worker threads ended and replaced: a cancelled task, a task that grew one too much, one out of heap. */
  workerReplaced: Counter;
  /** code: the problem type answered (the last part of its URI). */
  errors: Counter;
  /** route (the router's pattern, "unmatched" otherwise), method, status. */
  httpDuration: Histogram;
  /** How many stamp requests each group commit (one fsync round, one transaction) made durable; _count is the commits. */
  stampCommitSize: Histogram;
  /**
   * stage: "sign" (from the request's work starting to its signed PDF: a free worker waited for, PDF
   * work, HSM) or "commit" (from handing it to the commit point to durable: the group commit waited
   * for, then its transaction). Per stamp request, a batch once; where a stamp's latency goes.
   */
  stampStageSeconds: Histogram;
  /** Recorded stamps and their latency by department, item and handling centre. */
  handling: HandlingMetrics;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const COMMIT_BUCKETS = [1, 2, 4, 8, 16, 32, 64];
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const HSM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  return {
    registry,
    stamps: registry.counter('oneseal_stamps_total', 'Stamp (seal and sign) operations, by seal, PAdES level and outcome.', ['seal', 'level', 'outcome']),
    verifications: registry.counter('oneseal_verifications_total', 'Documents verified, by verdict.', ['verdict']),
    hsmSignSeconds: registry.histogram('oneseal_hsm_sign_seconds', 'Time the HSM took to sign one digest, waiting for a session included.', ['outcome'], HSM_BUCKETS),
    revocationSigned: registry.counter('oneseal_revocation_signed_total', 'OCSP responses and CRLs signed by the HSM (reused ones are not counted).', ['kind']),
    hsmSessions: registry.gauge('oneseal_hsm_sessions', 'HSM session pool: sessions signing now, free places in the pool, requests waiting for one.', ['state']),
    hsmLanes: registry.gauge('oneseal_hsm_lanes', 'HSM signing lanes (sessions PDF workers sign stamps on): signing now, free, without a session; and signatures made on them so far.', ['state']),
    workerThreads: registry.gauge('oneseal_worker_threads', 'PDF worker threads: running a task, started and idle, not started yet.', ['state']),
    workerQueue: registry.gauge('oneseal_worker_tasks_queued', 'PDF tasks waiting for a free worker thread.', []),
    workerReplaced: registry.counter('oneseal_worker_threads_replaced_total', 'PDF worker threads ended and replaced (a cancelled task, memory grown by one task or past the limit).', []),
    errors: registry.counter('oneseal_errors_total', 'Problem responses sent, by problem type.', ['code']),
    httpDuration: registry.histogram('oneseal_http_request_duration_seconds', 'HTTP requests, by route pattern, method and status.', ['route', 'method', 'status'], HTTP_BUCKETS),
    stampCommitSize: registry.histogram('oneseal_stamp_commit_size', 'Stamp requests made durable by one group commit (one fsync round of their outputs, one transaction for their records).', [], COMMIT_BUCKETS),
    stampStageSeconds: registry.histogram('oneseal_stamp_stage_seconds', 'Time a stamp request spent signing (a free worker waited for, PDF work, HSM) and committing (the group commit waited for, its transaction).', ['stage'], STAGE_BUCKETS),
    handling: new HandlingMetrics(registry),
  };
}

/** Reads the worker pool at every scrape, like the HSM pool below. */
export function watchWorkerPool(metrics: ServiceMetrics, pool: Pick<WorkerPool, 'stats' | 'retired'>): void {
  let counted = 0;
  metrics.registry.onCollect(() => {
    metrics.workerReplaced.inc({}, pool.retired - counted);
    counted = pool.retired;
    const { busy, idle, notStarted, queued } = pool.stats;
    metrics.workerThreads.set({ state: 'busy' }, busy);
    metrics.workerThreads.set({ state: 'idle' }, idle);
    metrics.workerThreads.set({ state: 'not_started' }, notStarted);
    metrics.workerQueue.set({}, queued);
  });
}

/** Reads the HSM's session pool and signing lanes at every scrape, so the gauges are never stale. */
export function watchHsm(metrics: ServiceMetrics, stats: () => HsmStats): void {
  metrics.registry.onCollect(() => {
    const { pool, lanes } = stats();
    metrics.hsmSessions.set({ state: 'in_use' }, pool.inUse);
    metrics.hsmSessions.set({ state: 'idle' }, Math.max(0, pool.size - pool.inUse));
    metrics.hsmSessions.set({ state: 'waiting' }, pool.waiting);
    metrics.hsmLanes.set({ state: 'taken' }, lanes.taken);
    metrics.hsmLanes.set({ state: 'free' }, lanes.free);
    metrics.hsmLanes.set({ state: 'closed' }, lanes.size - lanes.taken - lanes.free);
    metrics.hsmLanes.set({ state: 'signed' }, lanes.signed);
  });
}
