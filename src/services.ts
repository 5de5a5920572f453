/**
 * Opens what every entry point (server, CLI commands, init) works with: the HSM, the database and
 * the certification authority, in that order, and closes them again.
 */
import { openAccessSecrets, type AccessSecrets } from './access/secrets.js';
import { assertProductionSafe, type Config } from './config.js';
import { selectSoftHsmStore } from './hsm/dev-token.js';
import { Hsm } from './hsm/hsm.js';
import { loadAuthority, type Authority } from './pki/authority.js';
import { localTimestamper, ownRevocationSource } from './pki/services.js';
import { createServiceMetrics, watchHsm, watchWorkerPool, type ServiceMetrics } from './observability/service-metrics.js';
import { startInstanceLease } from './stamping/instance.js';
import { Stamper } from './stamping/stamper.js';
import { stampCommits, type StampCommits } from './stamping/stamp-commits.js';
import { Verifier } from './verifying/verifier.js';
import { openStore, type Store } from './store/db.js';
import { workerEntry } from './workers/entry.js';
import { WorkerPool } from './workers/pool.js';
import { sharedPublicUrl, type PublicUrlSource } from './public-url.js';
import { scheduleThreadPool } from './workers/priority.js';

export interface Services {
  config: Config;
  hsm: Hsm;
  store: Store;
  authority: Authority;
  /** Keys derived from the server secret in the HSM: API-key and session MACs, proposal seals, TOTP encryption. */
  secrets: AccessSecrets;
  /** Stamps with the seals' HSM keys, OneSeal's own TSA and its own revocation data. */
  stamper: Stamper;
  /** Verifies on request against OneSeal's own root and revocation records. */
  verifier: Verifier;
  /** The commit point API stamps share: their outputs and records made durable together (group commit). */
  stampCommits: StampCommits;
  /** What GET /metrics shows. */
  metrics: ServiceMetrics;
  /** Where config.publicUrl came from (src/public-url.ts). */
  publicUrlSource: PublicUrlSource;
  close(): Promise<void>;
}

export async function openHsm(config: Config, options: { onSign?: (seconds: number, ok: boolean) => void } = {}): Promise<Hsm> {
  selectSoftHsmStore(config);
  return Hsm.open({
    modulePath: config.hsm.modulePath,
    tokenLabel: config.hsm.tokenLabel,
    pin: config.hsm.pin.reveal(),
    poolSize: config.hsm.poolSize,
    timeoutMs: config.hsm.timeoutMs,
    onSign: options.onSign,
  });
}

const MB = 1024 * 1024;

/**
 * Worker threads for the PDF work of stamps and verifications. A worker that one task grew by more
 * than 64 MB (a document of thousands of pages: a 20,000-page 骑缝章 grew one from 45 to 200 MB; a
 * one-page stamp adds well under 1 MB) is replaced after it, so that memory goes back to the system;
 * so is one past 512 MB. Under steady one-page work a worker's heap rises and falls between about 90
 * and 170 MB with its garbage collections: replaced at 128 MB, as it was, each worker restarted every
 * ~17,000 stamps.
 */
function pdfPool(size: number, nice: number, hsm: Hsm): WorkerPool {
  return new WorkerPool({
    size, entry: () => workerEntry('pdf-worker'), maxHeapMb: 2048, recycle: { taskGrowthBytes: 64 * MB, heapBytes: 512 * MB }, nice,
    onThreadEnded: (threadId) => hsm.reclaimLanes(threadId),
  });
}

/**
 * `ownPublicUrl`: the server serves under its own configured or derived URL; other entry points (the
 * CLI) take the one the server recorded when they have none configured. `workers`: run the PDF work of
 * stamps and verifications in worker threads (the server; a CLI command works once and is better off without).
 */
export async function openServices(configured: Config, options: { ownPublicUrl?: boolean; workers?: boolean } = {}): Promise<Services> {
  let config = configured;
  const metrics = createServiceMetrics();
  const hsm = await openHsm(config, {
    onSign: (seconds, ok) => metrics.hsmSignSeconds.observe({ outcome: ok ? 'ok' : 'error' }, seconds),
  });
  watchHsm(metrics, () => hsm.stats);
  let store: Store | undefined;
  try {
    store = await openStore(config);
    const publicUrl = options.ownPublicUrl
      ? { url: config.publicUrl, source: config.publicUrlConfigured ? 'configured' as const : 'derived' as const }
      : await sharedPublicUrl(store.db, config);
    config = { ...config, publicUrl: publicUrl.url };
    const authority = await loadAuthority({ db: store.db, hsm, publicUrl: config.publicUrl });
    assertProductionSafe(config, { usingDevRoot: authority.usingDevRoot });
    const secrets = await openAccessSecrets(hsm);
    const opened = store;
    const pki = { store: opened, authority, metrics };
    const pool = options.workers && config.workers > 0 ? pdfPool(config.workers, config.workerNice, hsm) : undefined;
    if (pool) watchWorkerPool(metrics, pool);
    await scheduleThreadPool({ pdfWorkers: pool !== undefined });
    const stamper = new Stamper({
      store: opened,
      hsm,
      authority,
      timestamper: localTimestamper(pki),
      revocation: ownRevocationSource(pki),
      limits: config.documentLimits,
      pool,
      minSealMm: config.minSealMm,
      onStamp: ({ sealId, level, outcome }) => metrics.stamps.inc({ seal: sealId, level, outcome }),
    });
    const commits = stampCommits(opened.db, config.dataDir, (size) => metrics.stampCommitSize.observe({}, size));
    const lease = await startInstanceLease(opened.db);
    return {
      config,
      hsm,
      store: opened,
      authority,
      secrets,
      stamper,
      verifier: new Verifier({ db: opened.db, pool }),
      stampCommits: commits,
      metrics,
      publicUrlSource: publicUrl.source,
      async close() {
        stamper.close();
        await pool?.close();
        await commits.close();
        await lease.stop();
        await opened.close();
        await hsm.close();
      },
    };
  } catch (e) {
    await store?.close();
    await hsm.close();
    throw e;
  }
}
