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
 * of the seal, root, TSA and OCSP certificates. Probed at most once per interval (load balancers and
 * monitors poll it often; under load a probe costs an HSM session): callers within the interval share
 * the last probe, or the one under way.
 */
export function registerHealthRoutes(router: Router, deps: AppDeps): void {
  const { services } = deps;
  const interval = deps.healthProbeIntervalMs ?? services?.config.healthProbeIntervalMs ?? 1000;
  let last: { at: number; probe: Promise<Probe> } | undefined;
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
  router.get('/healthz', async (ctx) => {
    const now = performance.now();
    if (!last || now - last.at >= interval) last = { at: now, probe: probe() };
    const { checks } = await last.probe;
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length > 0) {
      const what = failing.map(([name, c]) => `${CHECK_NAMES[name]}: ${c.detail ?? 'failed'}`);
      throw new OneSealError('unhealthy', 'unavailable', `Not ready. ${what.join('; ')}`, { extra: { checks }, retryAfter: 5 });
    }
    ctx.body = { status: checks.certificates?.warn ? 'warn' : 'ok', checks };
  });
}
