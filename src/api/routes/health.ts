import Router from '@koa/router';
import { OneSealError } from '../../errors.js';
import { checkExpiry, serviceCertificates } from '../../observability/certificate-expiry.js';
import type { AppDeps } from '../app.js';

export interface CheckResult {
  ok: boolean;
  /** Passing, but someone should act soon (a certificate about to expire). */
  warn?: boolean;
  detail?: string;
}

const CHECK_NAMES: Record<string, string> = { hsm: 'HSM', db: 'database', certificates: 'certificates' };

/** A check that hangs counts as failed: a health probe must answer even when the HSM does not. */
const CHECK_TIMEOUT_MS = 5000;

async function runCheck(check: () => Promise<CheckResult>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS / 1000} s` }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().catch((e: unknown) => ({ ok: false, detail: (e as Error).message })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Probe {
  checks: Record<string, CheckResult>;
}

/**
 * GET /healthz: a real round trip to the HSM and to the database, and (with the services) the expiry
 * of the seal, root, TSA and OCSP certificates. Not probed per request (load balancers and monitors poll
 * it often; under load a probe costs an HSM session): callers share the last probe while it started less
 * than the interval ago, else the one under way. Halfway through the interval, if the last probe has
 * finished, the next starts in the background, so under steady polling nobody waits for a probe.
 */
export function registerHealthRoutes(router: Router, deps: AppDeps): void {
  const { services } = deps;
  const interval = deps.healthProbeIntervalMs ?? services?.config.healthProbeIntervalMs ?? 1000;
  /** The newest probe, under way or finished; `at`: when it started. */
  let started: { at: number; probe: Promise<Probe> } | undefined;
  /** The newest finished probe. */
  let finished: { at: number; probe: Probe } | undefined;
  const probe = async (): Promise<Probe> => {
    const [hsm, db, certificates] = await Promise.all([
      runCheck(() => deps.hsm.health()),
      runCheck(async () => {
        await deps.db.raw('select 1');
        return { ok: true };
      }),
      services ? runCheck(async () => checkExpiry(await serviceCertificates(services), new Date())) : undefined,
    ]);
    return { checks: { hsm, db, ...(certificates ? { certificates } : {}) } };
  };
  const start = (at: number) => {
    const run = { at, probe: probe() };
    started = run;
    void run.probe.then((p) => {
      if (!finished || finished.at < run.at) finished = { at: run.at, probe: p };
    });
  };
  router.get('/healthz', async (ctx) => {
    const now = performance.now();
    const age = started ? now - started.at : Infinity;
    if (age >= interval || (age >= interval / 2 && finished?.at === started!.at)) start(now);
    const { checks } = finished && now - finished.at < interval ? finished.probe : await started!.probe;
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length > 0) {
      const what = failing.map(([name, c]) => `${CHECK_NAMES[name]}: ${c.detail ?? 'failed'}`);
      throw new OneSealError('unhealthy', 'unavailable', `Not ready. ${what.join('; ')}`, { extra: { checks }, retryAfter: 5 });
    }
    ctx.body = { status: checks.certificates?.warn ? 'warn' : 'ok', checks };
  });
}
