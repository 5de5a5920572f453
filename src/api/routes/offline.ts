/**
 * What offline verifiers download (issue 17): the signed trust list and the signed licence status list,
 * under /.well-known/oneseal/ (public, cheap: re-signed only when their content changes or hourly, and
 * short-lived in caches so that a revocation reaches mirrors within minutes), and the offline verifier
 * itself, /verify-offline/: static files of src/offline/web served as they are, under a CSP that lets
 * them load nothing but themselves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { findPackageRoot } from '../../package-root.js';
import { currentStatusList, currentTrustList } from '../../offline/documents.js';
import type { SignedDocument } from '../../offline/signed-documents.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { problemResponse } from '../openapi.js';

const MAX_AGE_S = 300;
export const TRUST_LIST_PATH = '/.well-known/oneseal/trust-list.json';
export const STATUS_LIST_PATH = '/.well-known/oneseal/status-list.json';

function sendSigned(ctx: Context, doc: SignedDocument): void {
  ctx.set('Cache-Control', `public, max-age=${MAX_AGE_S}, no-transform`);
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.set('Last-Modified', doc.issuedAt.toUTCString());
  ctx.set('Expires', doc.nextUpdate.toUTCString());
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(doc.jws);
}

const WEB_DIR = path.join(findPackageRoot(), 'src', 'offline', 'web');
const WEB_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'qr-verify.js': 'text/javascript; charset=utf-8',
  'jsqr.js': 'text/javascript; charset=utf-8',
  'licence-page.js': 'text/javascript; charset=utf-8',
  'sw.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'manifest.webmanifest': 'application/manifest+json',
  'icon.svg': 'image/svg+xml',
};
const OFFLINE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob:",
  "manifest-src 'self'",
  "worker-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const registerOfflineRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi }) => {
  router.get(TRUST_LIST_PATH, async (ctx) => sendSigned(ctx, await currentTrustList(services)));
  router.get(STATUS_LIST_PATH, async (ctx) => sendSigned(ctx, await currentStatusList(services)));

  const files = new Map(Object.entries(WEB_FILES).map(([name, type]) => [name, { type, body: readFileSync(path.join(WEB_DIR, name)) }]));
  const serve = (name: string, ctx: Context, next: () => Promise<unknown>) => {
    const file = files.get(name);
    if (!file) return next();
    ctx.set('Content-Security-Policy', OFFLINE_CSP);
    // The service worker keeps copies for offline use; online, every visit asks for the current release.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = file.type;
    ctx.body = file.body;
    return undefined;
  };
  // The router matches with and without the slash; relative links in the page need it.
  router.get('/verify-offline/', (ctx, next) => (ctx.path.endsWith('/') ? serve('index.html', ctx, next) : ctx.redirect('/verify-offline/')));
  router.get('/verify-offline/:file', (ctx, next) => serve(ctx.params.file!, ctx, next));

  const jws = (description: string) => ({
    description,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['protected', 'payload', 'signature'],
          properties: { protected: { type: 'string' }, payload: { type: 'string' }, signature: { type: 'string' } },
        },
      },
    },
  });
  const op = { tags: ['PKI'], security: [] };
  openapi.add({
    '/verify-offline/': {
      get: {
        security: [],
        operationId: 'getOfflineVerifier',
        summary: 'The offline licence verifier: an installable page (service worker, web manifest) that checks licence QR codes without a network',
        responses: { 200: { description: 'HTML page; its scripts, style sheet, manifest and icon are siblings under /verify-offline/', content: { 'text/html': {} } } },
      },
    },
    [TRUST_LIST_PATH]: {
      get: {
        ...op,
        operationId: 'getTrustList',
        summary: 'The signed trust list: issuer, root, every licence-QR and seal certificate (kid, x5c, validity, status)',
        description: `A JWS (flattened JSON, RS256 by the root; the root certificate in the protected header's x5c) whose payload is the list. Cacheable for ${MAX_AGE_S} s; valid until its nextUpdate.`,
        responses: { 200: jws('The signed trust list'), 503: problemResponse('The HSM or database is unavailable') },
      },
    },
    [STATUS_LIST_PATH]: {
      get: {
        ...op,
        operationId: 'getLicenceStatusList',
        summary: 'The signed licence status list: revoked and superseded licence ids, with its issue time',
        description: `A JWS like the trust list's. Re-signed as soon as a licence is revoked or superseded; cacheable for ${MAX_AGE_S} s.`,
        responses: { 200: jws('The signed status list'), 503: problemResponse('The HSM or database is unavailable') },
      },
    },
  });
};
