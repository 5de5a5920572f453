import Router from '@koa/router';
import { OneSealError } from '../../errors.js';
import type { AppDeps } from '../app.js';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

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

/** GET /healthz: a real round trip to the HSM and to the database. */
export function registerHealthRoutes(router: Router, deps: AppDeps): void {
  router.get('/healthz', async (ctx) => {
    const [hsm, db] = await Promise.all([
      runCheck(() => deps.hsm.health()),
      runCheck(async () => {
        await deps.db.raw('select 1');
        return { ok: true };
      }),
    ]);
    const checks = { hsm, db };
    if (!hsm.ok || !db.ok) {
      const failing = Object.entries(checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name === 'hsm' ? 'HSM' : 'database'}: ${c.detail ?? 'failed'}`);
      throw new OneSealError('unhealthy', 'unavailable', `Not ready. ${failing.join('; ')}`, { extra: { checks }, retryAfter: 5 });
    }
    ctx.body = { status: 'ok', checks };
  });
}
