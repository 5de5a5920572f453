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
import { authorize, authorizeIssuingSeal, authorizeLicence, authorizeLicenceType, seesPersonalData } from '../../access/policy.js';
import {
  changeLicence,
  defaultLicenceSeal,
  issueLicence,
  licenceDeps,
  licenceHandling,
  licenceNotFound,
  maskedLicenceView,
  publicStatus,
  requireLicence,
  licenceView,
  revokeLicence,
  type LicenceDeps,
} from '../../licences/service.js';
import { resolveHandling, type Handling } from '../../items/handling.js';
import { licenceDataSchema } from '../../licences/schema.js';
import { getLicencePdf, type LicenceRecord } from '../../store/licences.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJson } from '../body.js';
import { problemResponse } from '../openapi.js';

/** Licence data is text plus at most one photo; 4 MB is far above any real request. */
const JSON_LIMIT = 4 * 1024 * 1024;

const MERGE_PATCH = 'application/merge-patch+json';

async function jsonObject(ctx: Context, limit: number, types?: readonly string[]): Promise<Record<string, unknown>> {
  const body = await readJson(ctx, limit, types);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OneSealError('invalid-json', 'bad-request', 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/**
 * Refuses members the operation does not take (a misspelt `seal` used to be dropped silently) and
 * members of the wrong type, naming each one.
 */
function checkMembers(body: Record<string, unknown>, known: Record<string, 'string' | 'boolean' | 'object' | 'any'>): void {
  const fields = Object.entries(body).flatMap(([name, value]) => {
    const want = known[name];
    if (want === undefined) return [{ field: name, message: `unknown field; this request takes ${Object.keys(known).join(', ')}` }];
    const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return want === 'any' || got === want ? [] : [{ field: name, message: `must be a${want === 'object' ? 'n' : ''} ${want}` }];
  });
  if (fields.length > 0) {
    throw new OneSealError('invalid-request-fields', 'unprocessable', `The request has ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}.`, { fields });
  }
}

/** `allowExpired=true` in the query (merge patches carry only the licence's own members). */
function allowExpiredQuery(ctx: Context): boolean {
  const v = ctx.query.allowExpired;
  if (v === undefined) return false;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new OneSealError('invalid-request-fields', 'unprocessable', 'allowExpired must be true or false.', { fields: [{ field: 'allowExpired', message: 'must be true or false' }] });
}

/** Members of a licence a merge patch may not touch: it changes the data and nothing else. */
const PATCHABLE = new Set(['data']);

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

/** The item a licence request names (itemCode), if any. */
function itemCodeOf(body: Record<string, unknown>): string | null {
  if (body.itemCode === undefined || body.itemCode === null) return null;
  if (typeof body.itemCode !== 'string' || body.itemCode.trim() === '') {
    throw new OneSealError('invalid-licence-data', 'unprocessable', 'itemCode must be an item code.', { fields: [{ field: 'itemCode', message: 'must be an item code' }] });
  }
  return body.itemCode.trim();
}

/** The next version is for the same item, handled by whoever changes it (a centre only for its own items). */
function nextHandling(deps: LicenceDeps, actor: Actor, old: LicenceRecord): Promise<Handling | null> {
  return resolveHandling(deps.db, actor, old.itemCode, 'issue licences');
}

/** The licence if the actor may do `action` on it (404 for no licence, 403 naming what is missing). */
export async function licenceFor(deps: LicenceDeps, actor: Actor, action: 'licence.read' | 'licence.pdf' | 'licence.change' | 'licence.revoke', id: string): Promise<LicenceRecord> {
  authorize(actor, action);
  const record = await requireLicence(deps.db, id);
  authorizeLicence(actor, action, record);
  return record;
}

/** Full for those who may see personal data, masked for the others. */
export function viewFor(deps: LicenceDeps, actor: Actor, record: LicenceRecord): Record<string, unknown> {
  return seesPersonalData(actor, record) ? licenceView(deps.publicUrl, record) : maskedLicenceView(deps.registry, deps.publicUrl, record);
}
const json = (schema: unknown, example?: unknown) => ({ content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } } });

export const registerLicenceRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi }) => {
  const deps = licenceDeps(services);
  const auth = authenticate(services);

  router.get('/v1/licence-types', auth, async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'licence-type.read');
    const types = deps.registry.list().filter((t) => actor.kind !== 'client' || actor.licenceTypes.includes(t.id));
    ctx.body = {
      types: types.map((t) => ({
        id: t.id,
        title: t.title,
        typeCode: t.typeCode,
        seal: defaultLicenceSeal(t),
        issueDateField: t.issueDate ?? null,
        duplicateKey: t.duplicateKey ?? [],
        page: t.layout.page,
        schema: licenceDataSchema(t),
      })),
    };
  });

  router.post('/v1/licences', auth, async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'licence.issue');
    const body = await jsonObject(ctx, JSON_LIMIT);
    checkMembers(body, { type: 'any', data: 'any', seal: 'string', allowExpired: 'boolean', itemCode: 'string' });
    // An unknown type is a 422 from the service (naming the types); a known one must be granted, and so must a seal other than its own.
    const type = deps.registry.list().find((t) => t.id === body.type);
    if (type) authorizeLicenceType(actor, 'licence.issue', type.id);
    const sealId = typeof body.seal === 'string' ? body.seal : undefined;
    if (type && sealId !== undefined) authorizeIssuingSeal(actor, defaultLicenceSeal(type), sealId);
    // A centre's client or officer must name an item delegated to its centre (src/items/handling.ts).
    const handling = await resolveHandling(deps.db, actor, itemCodeOf(body), 'issue licences');
    const record = await issueLicence(deps, { type: body.type, data: body.data }, actorLabel(actor), {
      ownerClientId: actor.kind === 'client' ? actor.id : null,
      handling,
      ...(sealId !== undefined ? { sealId } : {}),
      allowExpired: body.allowExpired === true,
    });
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
    const pdf = await getLicencePdf(deps.db, ctx.params.id!);
    if (!pdf) throw licenceNotFound(ctx.params.id!);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `attachment; filename="${ctx.params.id}.pdf"`);
    ctx.body = pdf;
  });

  router.post('/v1/licences/:id/versions', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const old = await licenceFor(deps, actor, 'licence.change', ctx.params.id!);
    const body = await jsonObject(ctx, JSON_LIMIT);
    checkMembers(body, { data: 'any', allowExpired: 'boolean' });
    const record = await changeLicence(deps, ctx.params.id!, body.data, actorLabel(actor), { allowExpired: body.allowExpired === true, handling: await nextHandling(deps, actor, old) });
    ctx.status = 201;
    ctx.set('Location', `/v1/licences/${record.id}`);
    ctx.body = viewFor(deps, actor, record);
  });

  // A partial change: a JSON merge patch (RFC 7396) of the licence's data gives the next version.
  router.patch('/v1/licences/:id', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const old = await licenceFor(deps, actor, 'licence.change', ctx.params.id!);
    const patch = await jsonObject(ctx, JSON_LIMIT, [MERGE_PATCH]);
    const readOnly = Object.keys(patch).filter((k) => !PATCHABLE.has(k));
    if (readOnly.length > 0) {
      throw new OneSealError('read-only-fields', 'unprocessable', `A licence's ${readOnly.join(', ')} cannot be changed; a merge patch changes only "data" (the next version gets its own id and version).`, {
        fields: readOnly.map((field) => ({ field, message: 'read-only: only data may be patched' })),
      });
    }
    if (patch.data === null || typeof patch.data !== 'object' || Array.isArray(patch.data)) {
      throw new OneSealError('invalid-request-fields', 'unprocessable', 'The merge patch must carry "data": an object of the fields to change (null removes one).', {
        fields: [{ field: 'data', message: 'must be an object of field values' }],
      });
    }
    const record = await changeLicence(deps, ctx.params.id!, patch.data, actorLabel(actor), { allowExpired: allowExpiredQuery(ctx), mergePatch: true, handling: await nextHandling(deps, actor, old) });
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
    const record = await requireLicence(deps.db, ctx.params.id!);
    ctx.body = publicStatus(deps.registry, record, new Date(), await licenceHandling(deps.db, record));
  });

  const secured = {
    security: [{ bearer: [] }],
    description: 'A licence officer\'s session, or the API key of a client with the licences scope (`oneseal client add --scopes licences --licence-types …`): such a client issues only the types it was granted and acts only on licences it issued. The holder\'s personal data (full ID number, birth date, address) is shown to those two only; auditors get the masked form (`personalData: "masked"`).',
  };
  openapi.add(
    {
      '/v1/licences': {
        post: {
          operationId: 'issueLicence',
          summary: 'Issue an electronic licence (电子证照): rendered, sealed at PAdES B-LT with a DocMDP 2 certification signature',
          ...secured,
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['type', 'data'],
                  additionalProperties: false,
                  properties: {
                    type: { type: 'string', enum: deps.registry.list().map((t) => t.id) },
                    data: { type: 'object', additionalProperties: { type: 'string' }, description: 'Field values of the type: GET /v1/licence-types gives each type\'s JSON schema. A type\'s issue-date field (居住证 issuedOn) is filled by OneSeal with the day of issue.' },
                    itemCode: { type: 'string', description: 'The catalogue item (GET /v1/items) the licence is issued for; required for a service centre, which may issue only for items delegated to it. The item must issue this type.' },
                    seal: { type: 'string', description: 'Issue with this seal instead of the type\'s own (GET /v1/licence-types); only a client granted the seal may' },
                    allowExpired: { type: 'boolean', default: false, description: 'Issue even though the validity already ended (otherwise 422 licence-already-expired)' },
                  },
                },
                example: { type: 'food-business-licence', data: { operator: '上海味香园餐饮管理有限公司', unifiedSocialCreditCode: '91310104MA1FR2K3XL', legalRepresentative: '李秀英', address: '上海市徐汇区漕溪北路88号1层101室', mainBusiness: '餐饮服务经营者', businessScope: '热食类食品制售', licenceNumber: 'JY23101040123456', validFrom: '2024-06-01', validTo: '2029-05-31' } },
              },
            },
          },
          responses: {
            201: { description: 'Issued', ...json(LICENCE_REF) },
            400: problemResponse('The body is not a JSON object'),
            ...AUTH_ERRORS,
            409: problemResponse('licence-duplicate: a current licence of the type already has the holder\'s number (credit code, ID number, licence number); `current` names it'),
            415: problemResponse('Not application/json'),
            422: problemResponse('Invalid data (`errors` lists every field), an unknown or mistyped request member, a validity already ended without allowExpired'),
          },
        },
      },
      '/v1/licence-types': {
        get: {
          operationId: 'listLicenceTypes',
          summary: 'The licence types: each one\'s data as a JSON schema, the seal it is issued with, its issue-date field and duplicate key',
          ...secured,
          responses: {
            200: {
              description: 'The types (a client sees those it was granted)',
              ...json({
                type: 'object',
                properties: {
                  types: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        id: { type: 'string' }, title: { type: 'object' }, typeCode: { type: 'string' }, seal: { type: 'string' },
                        issueDateField: { type: ['string', 'null'] }, duplicateKey: { type: 'array', items: { type: 'string' } },
                        page: { type: 'object', description: 'Page size in mm' }, schema: { type: 'object', description: 'JSON Schema 2020-12 of `data`' },
                      },
                    },
                  },
                },
              }),
            },
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/licences/{id}': {
        get: { operationId: 'getLicence', summary: 'A licence record (full data)', ...secured, parameters: [ID_PARAM], responses: { 200: { description: 'The record', ...json(LICENCE_REF) }, ...AUTH_ERRORS, 404: problemResponse('No such licence') } },
        patch: {
          operationId: 'patchLicence',
          summary: 'Change some fields of a licence (JSON merge patch, RFC 7396): issues the next version with the fields sent changed, the rest kept',
          ...secured,
          parameters: [ID_PARAM, { name: 'allowExpired', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Accept a validity that already ended' }],
          requestBody: {
            required: true,
            content: {
              'application/merge-patch+json': {
                schema: { type: 'object', required: ['data'], additionalProperties: false, properties: { data: { type: 'object', additionalProperties: { type: ['string', 'null'] }, description: 'Fields to change; null removes one' } } },
                example: { data: { address: '上海市徐汇区漕溪北路90号2层' } },
              },
            },
          },
          responses: {
            201: { description: 'The new version', ...json(LICENCE_REF) },
            400: problemResponse('The body is not a JSON object'),
            ...AUTH_ERRORS,
            404: problemResponse('No such licence'),
            409: problemResponse('The licence is not current (superseded or revoked), or the change would duplicate another current licence'),
            415: problemResponse('Not application/merge-patch+json'),
            422: problemResponse('A member other than data (id, version, type… are read-only), or the patched data is invalid'),
          },
        },
      },
      '/v1/licences/{id}/pdf': {
        get: {
          operationId: 'getLicencePdf',
          summary: 'The signed licence PDF',
          ...secured,
          parameters: [ID_PARAM],
          responses: { 200: { description: 'The PDF', content: { 'application/pdf': {} } }, ...AUTH_ERRORS, 404: problemResponse('No such licence') },
        },
      },
      '/v1/licences/{id}/versions': {
        post: {
          operationId: 'changeLicence',
          summary: 'Change a licence: issues the next version (same serial) and marks this one superseded',
          ...secured,
          parameters: [ID_PARAM],
          requestBody: json({ type: 'object', required: ['data'], additionalProperties: false, properties: { data: { type: 'object', additionalProperties: { type: 'string' } }, allowExpired: { type: 'boolean' } } }, { data: { address: '北京市海淀区中关村大街1号' } }),
          responses: {
            201: { description: 'The new version', ...json(LICENCE_REF) },
            ...AUTH_ERRORS,
            404: problemResponse('No such licence'),
            409: problemResponse('The licence is already superseded or revoked, or the new data duplicates another current licence'),
            422: problemResponse('Invalid data, an unknown request member, or a validity already ended without allowExpired'),
          },
        },
      },
      '/v1/licences/{id}/revoke': {
        post: {
          operationId: 'revokeLicence',
          summary: 'Revoke a licence; the reason is shown on the public page',
          ...secured,
          parameters: [ID_PARAM],
          requestBody: json({ type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 200 } } }, { reason: '持证人已迁出本区' }),
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
          operationId: 'getLicenceStatus',
          summary: 'Public status of a licence (no authentication; holder masked when a person)',
          parameters: [ID_PARAM],
          responses: { 200: { description: 'Status', ...json({ $ref: '#/components/schemas/LicenceStatus' }) }, 404: problemResponse('No such licence') },
        },
      },
    },
    SCHEMAS,
  );
};
