/**
 * The certification authority's public endpoints: the CRL, OCSP (POST and RFC 6960 GET), RFC 3161
 * time-stamps and the CA's certificates. Their URLs are written into every certificate OneSeal
 * issues (src/pki/authority.ts authorityUrls), so relying parties call them without credentials.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { OneSealError } from '../../errors.js';
import { readBody } from '../body.js';
import { RateLimiter } from '../rate-limit.js';
import { problemResponse } from '../openapi.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { ocspRequestFromGetPath } from '../../pki/ocsp.js';
import { answerOcsp, answerTsa, currentCrl } from '../../pki/services.js';
import type { Services } from '../../services.js';

/** OCSP and time-stamp requests are a few hundred bytes; a request with many extensions still fits. */
const REQUEST_LIMIT = 16 * 1024;
/**
 * Revocation answers may be cached, but only briefly: a revocation must reach relying parties within
 * minutes, not at the CRL's nextUpdate a day later.
 */
const REVOCATION_MAX_AGE_S = 300;
/** The CA's certificates change only when it is re-keyed. */
const CERT_MAX_AGE_S = 24 * 3600;

const CERTS = {
  'root.crt': (s: Services) => s.authority.root.certificate,
  'tsa.crt': (s: Services) => s.authority.tsa.certificate,
  'ocsp.crt': (s: Services) => s.authority.ocsp.certificate,
} as const;

/** Shared caches may keep it for maxAge seconds; replaces the API's default no-store. */
function cacheFor(ctx: Context, maxAge: number, lastModified?: Date): void {
  ctx.set('Cache-Control', `public, max-age=${maxAge}, no-transform`);
  // Relying parties on other origins (browser-based validators) fetch these.
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  if (lastModified) ctx.set('Last-Modified', lastModified.toUTCString());
}

function sendDer(ctx: Context, type: string, der: Uint8Array): void {
  ctx.type = type;
  ctx.body = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * Time-stamps and OCSP answers to requests with a nonce each cost an HSM signature and need no key, so they are limited per
 * remote address; the CRL and certificates are cached and cheap. One address may be a validation
 * service or a NAT for many relying parties, hence several times an API client's configured rate.
 */
const PUBLIC_RATE_FACTOR = 5;

function perAddressLimit(services: Services): Middleware {
  const { perSecond, burst } = services.config.rateLimit;
  const limiter = new RateLimiter({ perSecond: perSecond * PUBLIC_RATE_FACTOR, burst: burst * PUBLIC_RATE_FACTOR });
  return async (ctx, next) => {
    const decision = limiter.take(ctx.ip);
    if (!decision.allowed) {
      throw new OneSealError('rate-limited', 'rate-limited', `Too many OCSP or time-stamp requests from ${ctx.ip}; retry after ${decision.retryAfterSeconds} s.`, {
        retryAfter: decision.retryAfterSeconds,
      });
    }
    await next();
  };
}

export const registerPkiRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi }) => {
  const limit = perAddressLimit(services);

  router.get('/pki/crl/root.crl', async (ctx) => {
    const crl = await currentCrl(services);
    cacheFor(ctx, REVOCATION_MAX_AGE_S, crl.thisUpdate);
    ctx.set('Expires', crl.nextUpdate.toUTCString());
    ctx.set('ETag', `"crl-${crl.crlNumber}"`);
    sendDer(ctx, 'application/pkix-crl', crl.der);
    // Relying parties polling for a new CRL get 304 until one is signed.
    if (ctx.fresh) {
      ctx.status = 304;
      ctx.body = null;
    }
  });

  router.post('/pki/ocsp', limit, async (ctx) => {
    const request = await readBody(ctx, { limit: REQUEST_LIMIT, types: ['application/ocsp-request'] });
    // RFC 5019 §5: responses to POST are not cached (the nonce may make each one unique).
    sendDer(ctx, 'application/ocsp-response', await answerOcsp(services, request));
  });

  router.get('/pki/ocsp/*request', limit, async (ctx) => {
    // The base64 may itself contain '/', so the whole rest of the path is the request.
    const segment = ctx.path.slice('/pki/ocsp/'.length);
    const response = await answerOcsp(services, ocspRequestFromGetPath(segment));
    cacheFor(ctx, REVOCATION_MAX_AGE_S, new Date());
    sendDer(ctx, 'application/ocsp-response', response);
  });

  router.post('/pki/tsa', limit, async (ctx) => {
    const request = await readBody(ctx, { limit: REQUEST_LIMIT, types: ['application/timestamp-query'] });
    sendDer(ctx, 'application/timestamp-reply', await answerTsa(services, request));
  });

  for (const [file, certOf] of Object.entries(CERTS)) {
    router.get(`/pki/certs/${file}`, (ctx) => {
      cacheFor(ctx, CERT_MAX_AGE_S);
      sendDer(ctx, 'application/pkix-cert', certOf(services));
    });
  }

  const der = (type: string, description: string) => ({ description, content: { [type]: { schema: { type: 'string', format: 'binary' } } } });
  const publicOp = { tags: ['PKI'], security: [] };
  openapi.add({
    '/pki/crl/root.crl': {
      get: {
        ...publicOp,
        operationId: 'getRootCrl',
        summary: 'The root CA’s current certificate revocation list (DER)',
        description: `Valid for a day; replaced at once when a certificate is revoked, otherwise an hour before its nextUpdate. Every instance serves the same CRL (kept in the database). Cacheable for ${REVOCATION_MAX_AGE_S} s.`,
        responses: { 200: der('application/pkix-crl', 'The CRL'), 503: problemResponse('The HSM or database is unavailable') },
      },
    },
    '/pki/ocsp': {
      post: {
        ...publicOp,
        operationId: 'postOcsp',
        summary: 'OCSP (RFC 6960) for certificates the root issued',
        description: 'An RFC 5019 request (one certificate, SHA-1 CertID, no nonce) gets the pre-produced response every instance serves and B-LT documents embed, valid for a day and replaced at once on revocation; a request with a nonce or several certificates gets one signed for it. An unreadable request gets an unsigned malformedRequest OCSPResponse (HTTP 200), as OCSP clients expect.',
        requestBody: { required: true, content: { 'application/ocsp-request': { schema: { type: 'string', format: 'binary' }, example: '(DER OCSPRequest, e.g. from `openssl ocsp -reqout`)' } } },
        responses: {
          200: der('application/ocsp-response', 'The signed OCSP response'),
          413: problemResponse(`Request over ${REQUEST_LIMIT} bytes`),
          415: problemResponse('Body is not application/ocsp-request'),
          429: problemResponse('Too many requests from this address'),
          503: problemResponse('The HSM or database is unavailable'),
        },
      },
    },
    '/pki/ocsp/{request}': {
      get: {
        ...publicOp,
        operationId: 'getOcsp',
        summary: 'OCSP by GET (RFC 6960 appendix A.1): the DER request, base64 and URL-encoded, as the path',
        parameters: [{ name: 'request', in: 'path', required: true, schema: { type: 'string' }, description: 'URL-encoded base64 (base64url accepted) of the DER OCSPRequest' }],
        responses: {
          200: der('application/ocsp-response', `The signed OCSP response, cacheable for ${REVOCATION_MAX_AGE_S} s`),
          400: problemResponse('The path is not base64'),
          429: problemResponse('Too many requests from this address'),
          503: problemResponse('The HSM or database is unavailable'),
        },
      },
    },
    '/pki/tsa': {
      post: {
        ...publicOp,
        operationId: 'postTimeStamp',
        summary: 'RFC 3161 time-stamping',
        description: 'A refused request (unknown hash algorithm, unaccepted policy) gets a TimeStampResp with status rejection and the failure bit.',
        requestBody: { required: true, content: { 'application/timestamp-query': { schema: { type: 'string', format: 'binary' }, example: '(DER TimeStampReq, e.g. from `openssl ts -query -sha256 -cert`)' } } },
        responses: {
          200: der('application/timestamp-reply', 'The TimeStampResp'),
          413: problemResponse(`Request over ${REQUEST_LIMIT} bytes`),
          415: problemResponse('Body is not application/timestamp-query'),
          429: problemResponse('Too many requests from this address'),
          503: problemResponse('The HSM or database is unavailable'),
        },
      },
    },
    ...Object.fromEntries(
      Object.keys(CERTS).map((file) => [
        `/pki/certs/${file}`,
        {
          get: {
            ...publicOp,
            operationId: `getCert${file[0]!.toUpperCase()}${file.slice(1, file.indexOf('.'))}`,
            summary: `The ${file.slice(0, file.indexOf('.')).toUpperCase()} certificate (DER)`,
            responses: { 200: der('application/pkix-cert', 'The certificate') },
          },
        },
      ]),
    ),
  });
};
