/**
 * Electronic licences over HTTP, under the policy table (src/access/policy.ts): licence officers act on
 * every licence; a system client with the licences scope issues licences of the types it was granted
 * and acts only on the licences it issued. The holder's personal data goes only to those two; auditors
 * read the masked form the public page shows. The status endpoint is public, like the page behind the
 * QR code, and shows the holder masked.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { OneSealError } from '../../errors.js';
import { actorLabel, type Actor } from '../../access/actors.js';
import { authorize, authorizeLicence, authorizeLicenceType, seesPersonalData } from '../../access/policy.js';
import {
  changeLicence,
  issueLicence,
  licenceDeps,
  maskedLicenceView,
  publicStatus,
  requireLicence,
  licenceView,
  revokeLicence,
  type LicenceDeps,
} from '../../licences/service.js';
import { newestDocument } from '../../archive/documents.js';
import type { LicenceRecord } from '../../store/licences.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJson } from '../body.js';
import { problemResponse } from '../openapi.js';

/** Licence data is text plus at most one photo; 4 MB is far above any real request. */
const JSON_LIMIT = 4 * 1024 * 1024;

async function jsonObject(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const body = await readJson(ctx, limit);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OneSealError('invalid-json', 'bad-request', 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

const ID_PARAM = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'GB/T 36904 licence identifier, e.g. 1.2.156.3005.2.….001.K' };
const LICENCE_REF = { $ref: '#/components/schemas/Licence' };
const SCHEMAS = {
  Licence: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      type: { type: 'string' },
      status: { type: 'string', enum: ['valid', 'superseded', 'revoked', 'expired'] },
      verifyUrl: { type: 'string', format: 'uri' },
      pdfUrl: { type: 'string' },
      serial: { type: 'string' },
      version: { type: 'integer' },
      holder: { type: 'object' },
      issuer: { type: 'object' },
      validFrom: { type: 'string' },
      validTo: { type: 'string', description: 'YYYY-MM-DD or 长期' },
      issuedAt: { type: 'string', format: 'date-time' },
      signedAt: { type: 'string', format: 'date-time' },
      seal: { type: 'object' },
      sha256: { type: 'string' },
      supersedes: { type: ['string', 'null'] },
      supersededBy: { type: ['string', 'null'] },
      revokedAt: { type: ['string', 'null'] },
      revocationReason: { type: ['string', 'null'] },
      data: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['id', 'type', 'status', 'verifyUrl', 'pdfUrl'],
  },
  LicenceStatus: {
    type: 'object',
    description: 'Public status: no PDF, the holder masked when a natural person.',
    properties: {
      id: { type: 'string' },
      status: { type: 'string', enum: ['valid', 'superseded', 'revoked', 'expired'] },
      type: { type: 'object' },
      holder: { type: 'object', properties: { name: { type: 'string' }, id: { type: 'string' }, masked: { type: 'boolean' } } },
      issuer: { type: 'object' },
      validFrom: { type: 'string' },
      validTo: { type: 'string' },
      issuedAt: { type: 'string' },
      signedAt: { type: 'string' },
      seal: { type: 'object' },
      supersededBy: { type: ['string', 'null'] },
      revokedAt: { type: ['string', 'null'] },
      revocationReason: { type: ['string', 'null'] },
    },
  },
};

const AUTH_ERRORS = {
  401: problemResponse('No or invalid API key or session token'),
  403: problemResponse('The policy does not allow it: the problem names the missing role, scope or licence-type grant, or says the licence belongs to another client'),
};

/** The licence if the actor may do `action` on it (404 for no licence, 403 naming what is missing). */
async function licenceFor(deps: LicenceDeps, actor: Actor, action: 'licence.read' | 'licence.pdf' | 'licence.change' | 'licence.revoke', id: string): Promise<LicenceRecord> {
  authorize(actor, action);
  const record = await requireLicence(deps.db, id);
  authorizeLicence(actor, action, record);
  return record;
}

/** Full for those who may see personal data, masked for the others. */
function viewFor(deps: LicenceDeps, actor: Actor, record: LicenceRecord): Record<string, unknown> {
  return seesPersonalData(actor, record) ? licenceView(deps.publicUrl, record) : maskedLicenceView(deps.registry, deps.publicUrl, record);
}
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });

export const registerLicenceRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi }) => {
  const deps = licenceDeps(services);
  const auth = authenticate(services);

  router.post('/v1/licences', auth, async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'licence.issue');
    const body = await jsonObject(ctx, JSON_LIMIT);
    // An unknown type is a 422 from the service (naming the types); a known one must be granted.
    if (deps.registry.list().some((t) => t.id === body.type)) authorizeLicenceType(actor, 'licence.issue', String(body.type));
    const record = await issueLicence(deps, { type: body.type, data: body.data, caseNumber: body.caseNumber }, actorLabel(actor), actor.kind === 'client' ? actor.id : null);
    ctx.status = 201;
    ctx.set('Location', `/v1/licences/${record.id}`);
    ctx.body = viewFor(deps, actor, record);
  });

  router.get('/v1/licences/:id', auth, async (ctx) => {
    const actor = requireActor(ctx);
    ctx.body = viewFor(deps, actor, await licenceFor(deps, actor, 'licence.read', ctx.params.id!));
  });

  router.get('/v1/licences/:id/pdf', auth, async (ctx) => {
    await licenceFor(deps, requireActor(ctx), 'licence.pdf', ctx.params.id!);
    // The newest copy: long-term renewals (src/archive) append validation data and time-stamps to it.
    const doc = await newestDocument({ db: deps.db, dataDir: services.config.dataDir }, 'licence', ctx.params.id!);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `attachment; filename="${ctx.params.id}.pdf"`);
    ctx.body = doc.pdf;
  });

  router.post('/v1/licences/:id/versions', auth, async (ctx) => {
    const actor = requireActor(ctx);
    await licenceFor(deps, actor, 'licence.change', ctx.params.id!);
    const body = await jsonObject(ctx, JSON_LIMIT);
    const record = await changeLicence(deps, ctx.params.id!, body.data, actorLabel(actor));
    ctx.status = 201;
    ctx.set('Location', `/v1/licences/${record.id}`);
    ctx.body = viewFor(deps, actor, record);
  });

  router.post('/v1/licences/:id/revoke', auth, async (ctx) => {
    const actor = requireActor(ctx);
    await licenceFor(deps, actor, 'licence.revoke', ctx.params.id!);
    const body = await jsonObject(ctx, 64 * 1024);
    ctx.body = viewFor(deps, actor, await revokeLicence(deps, ctx.params.id!, body.reason, actorLabel(actor)));
  });

  router.get('/v1/licences/:id/status', async (ctx) => {
    ctx.body = publicStatus(deps.registry, await requireLicence(deps.db, ctx.params.id!));
  });

  const secured = {
    security: [{ bearer: [] }],
    description: 'A licence officer\'s session, or the API key of a client with the licences scope (`oneseal client add --scopes licences --licence-types …`): such a client issues only the types it was granted and acts only on licences it issued. The holder\'s personal data (full ID number, birth date, address) is shown to those two only; auditors get the masked form (`personalData: "masked"`).',
  };
  openapi.add(
    {
      '/v1/licences': {
        post: {
          summary: 'Issue an electronic licence (电子证照): rendered, sealed at PAdES B-LT with a DocMDP 2 certification signature',
          ...secured,
          requestBody: json({
            type: 'object',
            required: ['type', 'data'],
            properties: {
              type: { type: 'string', enum: deps.registry.list().map((t) => t.id) },
              data: { type: 'object', additionalProperties: { type: 'string' }, description: 'Field values of the type (see src/licences/types/*.json)' },
              caseNumber: { type: 'string', maxLength: 64, description: 'The approval case (办件编号) the licence belongs to: `GET /v1/archive?case=` packages it with the case.' },
            },
          }),
          responses: { 201: { description: 'Issued', ...json(LICENCE_REF) }, ...AUTH_ERRORS, 422: problemResponse('Invalid data; `errors` lists every field') },
        },
      },
      '/v1/licences/{id}': {
        get: { summary: 'A licence record (full data)', ...secured, parameters: [ID_PARAM], responses: { 200: { description: 'The record', ...json(LICENCE_REF) }, ...AUTH_ERRORS, 404: problemResponse('No such licence') } },
      },
      '/v1/licences/{id}/pdf': {
        get: {
          summary: 'The signed licence PDF',
          ...secured,
          parameters: [ID_PARAM],
          responses: { 200: { description: 'The PDF', content: { 'application/pdf': {} } }, ...AUTH_ERRORS, 404: problemResponse('No such licence') },
        },
      },
      '/v1/licences/{id}/versions': {
        post: {
          summary: 'Change a licence: issues the next version (same serial) and marks this one superseded',
          ...secured,
          parameters: [ID_PARAM],
          requestBody: json({ type: 'object', required: ['data'], properties: { data: { type: 'object', additionalProperties: { type: 'string' } } } }),
          responses: {
            201: { description: 'The new version', ...json(LICENCE_REF) },
            ...AUTH_ERRORS,
            404: problemResponse('No such licence'),
            409: problemResponse('The licence is already superseded or revoked'),
            422: problemResponse('Invalid data'),
          },
        },
      },
      '/v1/licences/{id}/revoke': {
        post: {
          summary: 'Revoke a licence; the reason is shown on the public page',
          ...secured,
          parameters: [ID_PARAM],
          requestBody: json({ type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 200 } } }),
          responses: {
            200: { description: 'The revoked record', ...json(LICENCE_REF) },
            ...AUTH_ERRORS,
            404: problemResponse('No such licence'),
            409: problemResponse('Already revoked or superseded'),
            422: problemResponse('No reason given'),
          },
        },
      },
      '/v1/licences/{id}/status': {
        get: {
          summary: 'Public status of a licence (no authentication; holder masked when a person)',
          parameters: [ID_PARAM],
          responses: { 200: { description: 'Status', ...json({ $ref: '#/components/schemas/LicenceStatus' }) }, 404: problemResponse('No such licence') },
        },
      },
    },
    SCHEMAS,
  );
};
