import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { OneSealError } from '../errors.js';
import type { ServiceMetrics } from '../observability/service-metrics.js';

/** Accepts a caller's X-Request-Id only when it is a plain token, so it is safe to log and echo. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const given = ctx.get('X-Request-Id');
    ctx.state.requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}

export function accessLog(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = performance.now();
    try {
      await next();
    } finally {
      logger.info(
        // problem: what went wrong, in the problem type's words (client-aborted, method-not-allowed…)
        { requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, problem: ctx.state.problemCode, ms: Math.round(performance.now() - start) },
        'request',
      );
    }
  };
}

/**
 * Headers for an API that browsers should treat as data: no sniffing, no framing, no referrer, and a CSP
 * that lets nothing load. A route that serves HTML sets its own Content-Security-Policy.
 */
export function securityHeaders() {
  return async (ctx: Context, next: Next): Promise<void> => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    });
    await next();
  };
}

/**
 * CORS stays closed: no Access-Control-Allow-* headers are ever sent, and preflights are refused
 * outright, so a browser page elsewhere can never call the API with a client's key.
 */
export function closedCors() {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method === 'OPTIONS' && ctx.get('Origin') && ctx.get('Access-Control-Request-Method')) {
      throw new OneSealError('cors-forbidden', 'forbidden', 'Cross-origin requests are not allowed; call the API from a server.');
    }
    await next();
  };
}

/**
 * Request duration by route pattern (never the raw path: ids would make a series per stamp) and the
 * problem types answered. Sits outside the problem middleware, so it sees the final status.
 */
export function httpMetrics(metrics: Pick<ServiceMetrics, 'httpDuration' | 'errors'>) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      metrics.httpDuration.observe(
        { route: typeof route === 'string' ? route : 'unmatched', method: ctx.method, status: ctx.status },
        (performance.now() - start) / 1000,
      );
      const code = ctx.state.problemCode as string | undefined;
      if (code) metrics.errors.inc({ code });
    }
  };
}
