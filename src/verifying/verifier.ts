/**
 * Verification as the server does it on request: against OneSeal's own root and revocation records,
 * with the PDF work in the worker pool when there is one, so a 20,000-page document never holds the
 * event loop, and stopped (its worker terminated) when the caller's signal fires.
 */
import { runWithDeadline } from '../deadline.js';
import { OneSealError } from '../errors.js';
import { ownVerifyOptions } from '../pki/verification.js';
import type { Db } from '../store/db.js';
import { verifyPdf, type Report, type VerifyOptions } from '../verify/index.js';
import type { WorkerPool } from '../workers/pool.js';
import type { VerifyTask } from '../workers/verify-worker.js';

export interface VerifierDeps {
  db: Db;
  /** Where the PDF work runs; in this thread when omitted (CLI, tests of the core). */
  pool?: WorkerPool;
}

export class Verifier {
  /**
   * Read once: `oneseal init` creates the root and nothing ever replaces it. Revocation is not part of
   * this: every lookup asks the database (ownVerifyOptions).
   */
  private own?: Promise<VerifyOptions>;

  constructor(private readonly deps: VerifierDeps) {}

  private ownOptions(): Promise<VerifyOptions> {
    this.own ??= ownVerifyOptions(this.deps.db).catch((e: unknown) => {
      this.own = undefined; // not initialised yet: ask again next time
      throw e;
    });
    return this.own;
  }

  /** `now`: the time to validate at when no time-stamp proves one; `signal`: the caller gave up. */
  async verify(bytes: Uint8Array, opts: { now?: Date; signal?: AbortSignal } = {}): Promise<Report> {
    const options = await this.ownOptions();
    const { pool } = this.deps;
    if (!pool) return verifyPdf(bytes, { ...options, now: opts.now });
    // The worker gets a copy of its own, moved rather than cloned: one copy here instead of a
    // serialisation on this thread and another on the worker's; the caller's bytes stay as they are.
    const own = new Uint8Array(bytes);
    const task: VerifyTask = { bytes: own, trustAnchors: options.trustAnchors ?? [], now: opts.now };
    const lookup = options.ownCa!.revocationLookup;
    const { value } = await pool.run<Report>('verify', task, {
      signal: opts.signal,
      transfer: [own.buffer],
      calls: { revocation: async (cert: Parameters<typeof lookup>[0]) => lookup(cert) },
    });
    return value;
  }

  /**
   * Verifies within the request time-out. Past it the client gets 503 at once and the worker doing the
   * verification is terminated; nothing is recorded of a verification, so a retry simply starts again.
   */
  verifyWithin(ms: number, bytes: Uint8Array): Promise<Report> {
    return runWithDeadline(ms, (gate) => this.verify(bytes, { signal: gate.signal }), () => new OneSealError('request-timeout', 'timeout',
      `The verification took longer than ${Math.round(ms / 1000)} s and was stopped. Retry later, or verify the document with \`oneseal verify\`.`,
      { retryAfter: 5, extra: { outcome: 'cancelled' } }));
  }
}
