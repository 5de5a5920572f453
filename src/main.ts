/**
 * Wiring: configuration → services (HSM, store, CA) → koa app → HTTP server.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createApp } from './api/app.js';
import { createHttpServer } from './api/http-server.js';
import type { Config } from './config.js';
import { signAuditHead } from './audit/heads.js';
import { renewArchiveOnce, renewDeps } from './archive/renew.js';
import { startPeriodic } from './periodic.js';
import { sweepStagedOutputs } from './stamping/outputs.js';
import { startRotationScheduler } from './seals/scheduler.js';
import { openServices, type Services } from './services.js';
import { recordServerPublicUrl } from './public-url.js';

/** How often the server checks seal rotation policies; policies are in days or thousands of signatures, so minutes are precise enough. */
const ROTATION_CHECK_INTERVAL_MS = 5 * 60 * 1000;
const ARCHIVE_RENEW_INTERVAL_MS = 24 * 3600 * 1000;
const STAGED_SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** An output not renamed into place within this (or twice the request time-out) never will be. */
const STAGED_OUTPUT_STALE_MS = 3600 * 1000;

export interface ServerOptions {
  logger?: Logger;
  /** How often rotation policies are checked (tests shorten it). */
  rotationIntervalMs?: number;
  /** How often the archive renewal runs (daily; tests shorten it). */
  archiveRenewIntervalMs?: number;
  /** How often the audit chain head is signed when it moved; overrides config.auditHeadIntervalMs (tests shorten it below a minute). */
  auditHeadIntervalMs?: number;
  /**
   * Start the worker threads right after listening rather than at their first task (`oneseal serve`
   * does; test servers that never stamp need not pay for threads loading their code).
   */
  prestartWorkers?: boolean;
}

/** JSON lines to stdout, or to `destination` (tests read what would be logged). */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  // Belt and braces: the PIN is a Secret already, these paths catch a raw value logged by mistake.
  const options = { level: config.logLevel, redact: ['pin', '*.pin', 'headers.authorization', 'req.headers.authorization'] };
  return destination ? pino(options, destination) : pino(options);
}

export interface RunningServer {
  url: string;
  server: Server;
  services: Services;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config);
  const services = await openServices(config, { ownPublicUrl: true, workers: true });
  try {
    const app = createApp({ db: services.store.db, hsm: services.hsm, logger, services });
    const server = createHttpServer(app.callback(), config.http).listen(config.port, config.host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Without ONESEAL_PUBLIC_URL the server is reached where it listens; the CLI reads what it records here.
    const publicUrl = config.publicUrlConfigured ? config.publicUrl : url;
    await recordServerPublicUrl(services.store.db, publicUrl);
    logger.info({ url, publicUrl }, 'listening');
    let closing = false;
    if (options.prestartWorkers) {
      services.stamper.prestart().then(
        () => logger.info({ workers: services.stamper.pool?.ranOn.size ?? 0 }, 'worker threads started'),
        // Closing terminates the workers, and with them a prestart still under way: nothing to report then.
        (err: unknown) => closing || logger.warn({ err }, 'starting the worker threads ahead failed; each starts at its first task'),
      );
    }
    const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    if (threads <= config.hsm.poolSize) {
      // Signatures wait for the HSM on libuv's threads; if a slow HSM holds them all, SQLite and file I/O stall too.
      logger.warn({ threads, hsmPoolSize: config.hsm.poolSize },
        `UV_THREADPOOL_SIZE (${threads}) should exceed ONESEAL_HSM_POOL_SIZE (${config.hsm.poolSize}): a slow HSM would stall database and file access`);
    }
    const stopScheduler = startRotationScheduler(services, {
      intervalMs: options.rotationIntervalMs ?? ROTATION_CHECK_INTERVAL_MS,
      onRun: (run) => {
        for (const r of run.rotated) {
          logger.info({ sealId: r.sealId, reason: r.reason, version: r.rotation.version.version, retiredVersion: r.rotation.retired?.version ?? null }, 'seal rotated by policy');
        }
        for (const f of run.failed) logger.error({ sealId: f.sealId, err: f.error }, 'policy rotation failed');
        for (const u of run.unapproved) logger.warn({ sealId: u.sealId, reason: u.reason }, 'rotation due but its policy is not approved: not rotated');
      },
      onError: (err) => logger.error({ err }, 'rotation policy check failed'),
    });
    const { signer, certificate } = services.authority.audit;
    const stopHeadSigner = startPeriodic(
      async () => {
        const signed = await signAuditHead({ db: services.store.db, signer, certificate });
        if (signed?.created) logger.info({ seq: signed.head.seq, hash: signed.head.hash }, 'audit chain head signed');
      },
      options.auditHeadIntervalMs ?? config.auditHeadIntervalMs,
      (err) => logger.error({ err }, 'signing the audit chain head failed'),
    );
    const stopArchive = startPeriodic(
      async () => {
        const run = await renewArchiveOnce(renewDeps(services), {
          horizonDays: config.archive.horizonDays,
          weakDigests: config.archive.weakDigests,
          actor: 'system:archive',
        }, `serve:${process.pid}`);
        if (!run) return;
        if (run.blocked) logger.error({ due: run.due.length }, run.blocked);
        if (run.renewed.length > 0 || run.indexed > 0) logger.info({ indexed: run.indexed, due: run.due.length, renewed: run.renewed.length }, 'archive renewal run');
        for (const f of run.failed) logger.error({ kind: f.kind, id: f.recordId, err: f.error }, 'archive renewal failed');
      },
      options.archiveRenewIntervalMs ?? ARCHIVE_RENEW_INTERVAL_MS,
      (err) => logger.error({ err }, 'archive renewal run failed'),
    );
    const sweepStaged = async () => {
      const removed = await sweepStagedOutputs(config.dataDir, Math.max(STAGED_OUTPUT_STALE_MS, 2 * config.requestTimeoutMs));
      if (removed > 0) logger.info({ removed }, 'removed outputs left unplaced (a crash or a cancelled request)');
    };
    const onSweepError = (err: unknown) => logger.warn({ err }, 'removing unplaced outputs failed');
    const firstSweep = sweepStaged().catch(onSweepError);
    const stopSweep = startPeriodic(sweepStaged, STAGED_SWEEP_INTERVAL_MS, onSweepError);
    return {
      url,
      server,
      services,
      async close() {
        closing = true;
        // Finish requests in flight, any rotation run and head signing, drop idle keep-alive connections, then release the HSM and database.
        const scheduler = stopScheduler();
        const headSigner = stopHeadSigner();
        const archive = stopArchive();
        const sweep = stopSweep();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all([closed, scheduler, headSigner, archive, sweep, firstSweep]);
        await services.close();
      },
    };
  } catch (e) {
    await services.close();
    throw e;
  }
}
