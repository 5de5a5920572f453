/**
 * GET /metrics: Prometheus text exposition. Unauthenticated like /healthz, for the scraper on the
 * internal network; it shows counts and seal ids, never documents, keys or clients' names.
 */
import { PROMETHEUS_CONTENT_TYPE } from '../../observability/metrics.js';
import type { ServiceRouteRegistrar } from '../app.js';

export const registerMetricsRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  router.get('/metrics', (ctx) => {
    ctx.type = PROMETHEUS_CONTENT_TYPE;
    ctx.body = services.metrics.registry.render();
  });
  openapi.add({
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text format 0.0.4)',
        description: 'Stamps by seal, level and outcome; verifications by verdict; HSM signing latency and session pool; problem responses by type; HTTP request durations by route, method and status.',
        responses: { 200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
  });
};
