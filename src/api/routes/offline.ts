/**
 * What offline verifiers download (issue 17): the signed trust list and the signed licence status list,
 * under /.well-known/oneseal/. Both are public, cheap (re-signed only when their content changes or
 * hourly) and short-lived in caches so that a revocation reaches mirrors within minutes.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
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

export const registerOfflineRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi }) => {
  router.get(TRUST_LIST_PATH, async (ctx) => sendSigned(ctx, await currentTrustList(services)));
  router.get(STATUS_LIST_PATH, async (ctx) => sendSigned(ctx, await currentStatusList(services)));

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
