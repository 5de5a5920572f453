/**
 * The koa application: shared middleware, then one router per resource (src/api/routes/*.ts).
 */
import Router from '@koa/router';
import Koa from 'koa';
import type { Knex } from 'knex';
import pino, { type Logger } from 'pino';
import { OneSealError } from '../errors.js';
import { accessLog, closedCors, httpMetrics, requestId, securityHeaders } from './middleware.js';
import { problemMiddleware } from './problem.js';
import { registerHealthRoutes, type CheckResult } from './routes/health.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerPkiRoutes } from './routes/pki.js';
import { registerOfflineRoutes } from './routes/offline.js';
import { registerAdminClientRoutes } from './routes/admin-clients.js';
import { registerAdminPeopleRoutes } from './routes/admin-people.js';
import { registerAdminProposalRoutes } from './routes/admin-proposals.js';
import { registerAdminLicenceQrRoutes } from './routes/admin-licence-qr.js';
import { registerAdminSealRoutes } from './routes/admin-seals.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerLicenceRoutes } from './routes/licences.js';
import { registerLicenceSearchRoutes } from './routes/licence-search.js';
import { registerVerifyPageRoutes } from './routes/verify-page.js';
import { registerStampRoutes } from './routes/stamps.js';
import { registerStampSearchRoutes } from './routes/stamp-search.js';
import { registerStampBatchRoutes } from './routes/stamp-batches.js';
import { registerSealReadRoutes } from './routes/seals.js';
import { registerAuditHeadRoutes } from './routes/audit-heads.js';
import { registerAuditSearchRoutes } from './routes/audit-search.js';
import { registerArchiveRoutes } from './routes/archive.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerItemRoutes } from './routes/items.js';
import { registerStatsRoutes } from './routes/stats.js';
import { registerConsoleRoutes } from '../console/routes.js';
import type { Services } from '../services.js';
import { registerVerificationRoutes } from './routes/verifications.js';
import { OpenApiRegistry } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import { PACKAGE_VERSION } from '../version.js';

export interface AppDeps {
  db: Knex;
  /** The HSM as /healthz sees it (Hsm.health()). */
  hsm: { health(): Promise<CheckResult> };
  logger?: Logger;
  /** How often /healthz really probes (default: the configuration's, else 1 s). */
  healthProbeIntervalMs?: number;
  /** Everything the resource routes work with; without it only /healthz is served (skeleton tests). */
  services?: Services;
}

/** A resource's routes: src/api/routes/<resource>.ts exports one and it is listed in ROUTES. */
export type RouteRegistrar = (router: Router, deps: AppDeps) => void;
/** Routes that need the HSM, database and CA: listed in SERVICE_ROUTES. */
export type ServiceRouteRegistrar = (
  router: Router,
  deps: AppDeps & { services: Services; logger: Logger; openapi: OpenApiRegistry; publicLimiter: RateLimiter },
) => void;

const ROUTES: readonly RouteRegistrar[] = [registerHealthRoutes];
const SERVICE_ROUTES: readonly ServiceRouteRegistrar[] = [registerMetricsRoutes, registerPkiRoutes, registerOfflineRoutes, registerSessionRoutes, registerAdminSealRoutes, registerAdminLicenceQrRoutes, registerAdminProposalRoutes,
  registerAdminClientRoutes, registerAdminPeopleRoutes, registerLicenceRoutes, registerLicenceSearchRoutes, registerVerifyPageRoutes,
  registerStampRoutes, registerStampSearchRoutes, registerStampBatchRoutes, registerSealReadRoutes, registerDocsRoutes, registerVerificationRoutes, registerAuditHeadRoutes, registerAuditSearchRoutes,
  registerConsoleRoutes, registerItemRoutes, registerStatsRoutes, registerArchiveRoutes];

export function createApp(deps: AppDeps): Koa {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const app = new Koa();
  // Our problem middleware answers every error; koa's default handler would print stacks to stderr.
  app.silent = true;

  app.use(requestId());
  app.use(accessLog(logger));
  if (deps.services) app.use(httpMetrics(deps.services.metrics));
  app.use(securityHeaders());
  app.use(problemMiddleware(logger));
  app.use(closedCors());

  // Runs after the routers: nothing answered and no route knows the path → 404; the router's bare
  // 405/501 (it sets Allow) become problems: a known path with another method (TRACE, PROPFIND… included)
  // → 405, a method no path takes → 501.
  app.use(async (ctx, next) => {
    await next();
    if (ctx.body != null) return;
    if (ctx.status === 404) throw new OneSealError('route-not-found', 'not-found', `There is no ${ctx.method} ${ctx.path}.`);
    if (ctx.status === 405 || ctx.status === 501) {
      const allow = ctx.response.get('Allow');
      if (allow) throw new OneSealError('method-not-allowed', 'method-not-allowed', `${ctx.path} does not take ${ctx.method}; it takes ${allow}.`, { extra: { allow: allow.split(', ') } });
      throw new OneSealError('method-not-implemented', 'not-implemented', `This service does not implement ${ctx.method}.`);
    }
  });

  // One router for all resources, so 405 (known path, other method) is told apart from 404.
  const router = new Router();
  for (const register of ROUTES) register(router, deps);
  const { services } = deps;
  const openapi = new OpenApiRegistry();
  // The verifications anyone may ask for without credentials share one bucket per address, so neither
  // route is a way around the other's limit.
  const publicLimiter = new RateLimiter(services?.config.publicRateLimit ?? { perSecond: 20, burst: 40 });
  if (services) for (const register of SERVICE_ROUTES) register(router, { ...deps, services, logger, openapi, publicLimiter });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi.document({ version: PACKAGE_VERSION, serverUrl: services?.config.publicUrl ?? '/' });
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
