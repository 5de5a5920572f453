/**
 * Every failure OneSeal reports to a person goes through OneSealError: a stable machine code,
 * a category that decides the HTTP status (mapped once, in api/problem.ts, and to exit codes in the CLI),
 * and a message written for whoever has to act on it.
 */
export type ErrorKind =
  | 'bad-request' // the request itself is malformed (400)
  | 'unauthorized' // no or unknown credentials (401)
  | 'forbidden' // authenticated, but not allowed (403)
  | 'not-found' // the named thing does not exist (404)
  | 'method-not-allowed' // a known path that does not take this method (405)
  | 'conflict' // the state does not allow it now (409)
  | 'too-large' // a body or document over a limit (413)
  | 'unsupported-media' // a body of a type we do not take (415)
  | 'unprocessable' // well-formed but wrong content: a broken PDF, invalid fields (422)
  | 'rate-limited' // too many requests (429)
  | 'unavailable' // a dependency (HSM, database) is down (503)
  | 'timeout' // took too long (504/503)
  | 'not-implemented' // a method no path takes (501)
  | 'internal'; // a bug (500)

export interface FieldError {
  field: string;
  message: string;
}

export interface OneSealErrorOptions {
  cause?: unknown;
  /** Per-field problems, for validation errors. */
  fields?: FieldError[];
  /** Extra members for the problem+json body (must be safe to show). */
  extra?: Record<string, unknown>;
  /** Seconds after which a retry makes sense (429, 503). */
  retryAfter?: number;
}

export class OneSealError extends Error {
  readonly fields?: FieldError[];
  readonly extra?: Record<string, unknown>;
  readonly retryAfter?: number;

  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    options: OneSealErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OneSealError';
    this.fields = options.fields;
    this.extra = options.extra;
    this.retryAfter = options.retryAfter;
  }
}

/** A PDF we cannot work with: not a PDF, broken, encrypted, or over a structural limit. */
export class PdfError extends OneSealError {
  constructor(code: 'invalid-pdf' | 'encrypted-pdf' | 'pdf-limit', message: string, options?: OneSealErrorOptions) {
    super(code, 'unprocessable', message, options);
    this.name = 'PdfError';
  }
}

export function isOneSealError(e: unknown): e is OneSealError {
  return e instanceof OneSealError;
}
