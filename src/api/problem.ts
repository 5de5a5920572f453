/**
 * The one place errors become HTTP responses: RFC 9457 problem+json, status from OneSealError.kind.
 * Anything that is not a OneSealError (or an exposed client error from koa) is a bug: the client
 * gets a generic 500 with the request id, the log gets the details.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { OneSealError, type ErrorKind, type FieldError } from '../errors.js';

export const PROBLEM_BASE = 'https://oneseal.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS: Record<ErrorKind, { status: number; title: string }> = {
  'bad-request': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'too-large': { status: 413, title: 'Content too large' },
  'unsupported-media': { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
  timeout: { status: 503, title: 'Timed out' },
  'not-implemented': { status: 501, title: 'Not implemented' },
  internal: { status: 500, title: 'Internal server error' },
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export interface Problem {
  status: number;
  body: ProblemBody;
  retryAfter?: number;
  /** True when the error is a bug and should be logged with its stack. */
  unexpected: boolean;
}

/** koa and its middleware throw http-errors; those marked `expose` are client errors with safe messages. */
function isExposedHttpError(e: unknown): e is { status: number; message: string; expose: true } {
  const x = e as { status?: unknown; expose?: unknown };
  return typeof x?.status === 'number' && x.status >= 400 && x.status < 500 && x.expose === true;
}

/** Driver errors that mean the database cannot be used right now (not that a query is wrong). */
const DATABASE_DOWN = /^(SQLITE_(BUSY|LOCKED|CANTOPEN|READONLY|IOERR|FULL|PROTOCOL|NOTADB)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|08\d{3}|57P0[1-3]|53300)$/;

/**
 * A locked, unreachable or read-only database is an outage, not a bug: 503 naming the database,
 * so clients retry and operators look at the right thing. Knex keeps the driver's code on the error.
 */
export function databaseUnavailable(e: unknown): OneSealError | undefined {
  for (let c = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    const timedOut = (c as Error).name === 'KnexTimeoutError';
    if (timedOut || (typeof code === 'string' && DATABASE_DOWN.test(code))) {
      const what = timedOut ? 'no database connection became free in time' : `${code}`;
      return new OneSealError('database-unavailable', 'unavailable',
        `The database is not available (${what}). Retry shortly; if it persists, check the database.`,
        { cause: e, retryAfter: 5, extra: { component: 'database' } });
    }
  }
  return undefined;
}

export function toProblem(e: unknown, requestId: string, instance: string): Problem {
  const outage = e instanceof OneSealError ? undefined : databaseUnavailable(e);
  if (outage) return toProblem(outage, requestId, instance);
  if (e instanceof OneSealError && e.kind !== 'internal') {
    const { status, title } = STATUS[e.kind];
    return {
      status,
      retryAfter: e.retryAfter,
      unexpected: false,
      body: {
        // extra first, so it can never override the standard members
        ...e.extra,
        type: PROBLEM_BASE + e.code,
        title,
        status,
        detail: e.message,
        instance,
        requestId,
        ...(e.fields?.length ? { errors: e.fields } : {}),
      },
    };
  }
  if (isExposedHttpError(e)) {
    const code = e.status === 405 ? 'method-not-allowed' : `http-${e.status}`;
    return {
      status: e.status,
      unexpected: false,
      body: { type: PROBLEM_BASE + code, title: e.message, status: e.status, detail: e.message, instance, requestId },
    };
  }
  return {
    status: 500,
    unexpected: true,
    body: {
      type: PROBLEM_BASE + 'internal',
      title: STATUS.internal.title,
      status: 500,
      detail: `Something went wrong on our side. Quote request id ${requestId} when reporting it.`,
      instance,
      requestId,
    },
  };
}

export function sendProblem(ctx: Context, problem: Problem): void {
  ctx.state.problemCode = problem.body.type.slice(PROBLEM_BASE.length);
  ctx.status = problem.status;
  ctx.body = problem.body;
  ctx.type = PROBLEM_CONTENT_TYPE;
  if (problem.retryAfter !== undefined) ctx.set('Retry-After', String(Math.max(0, Math.ceil(problem.retryAfter))));
}

/** Outermost error boundary after the request id: every thrown error leaves as problem+json. */
export function problemMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (e) {
      const problem = toProblem(e, ctx.state.requestId as string, ctx.path);
      if (problem.unexpected) logger.error({ err: e, requestId: ctx.state.requestId }, 'unhandled error');
      // An outage (HSM, database) is not a bug, but operators must see what failed, not only a 503.
      else if (problem.status === 503) logger.warn({ requestId: ctx.state.requestId, problem: problem.body.type, detail: problem.body.detail }, 'service unavailable');
      sendProblem(ctx, problem);
    }
  };
}
