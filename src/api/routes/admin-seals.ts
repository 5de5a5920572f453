/**
 * Seal key lifecycle for people holding seal-admin: create seals, rotate keys, revoke versions, destroy
 * keys, set rotation policies and switch two-person control, each through src/access/two-person.ts
 * (carried out at once, or proposed for a second seal-admin). Auditors may read.
 */
import { authorize } from '../../access/policy.js';
import { requestChange } from '../../access/two-person.js';
import { requireSeal } from '../../seals/lifecycle.js';
import { parseVersionNumber } from '../../seals/requests.js';
import { sealDetail, sealView } from '../../seals/views.js';
import { listSeals, listSealVersions } from '../../store/seals.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJson, readJsonObject } from '../body.js';
import { ADMIN_PROBLEMS, changeResponses, sendChange } from '../change-response.js';
import { problemResponse, type OpenApiRegistry } from '../openapi.js';

/** Seal requests are small; an image appearance (a scanned seal PNG) is the largest part. */
const JSON_LIMIT = 2 * 1024 * 1024;

export const registerAdminSealRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.post('/v1/admin/seals', auth, async (ctx) => {
    const outcome = await requestChange(services, requireActor(ctx), 'seal.create', await readJson(ctx, JSON_LIMIT));
    const id = outcome.executed ? String(outcome.result.id) : '';
    sendChange(ctx, outcome, { created: `/v1/admin/seals/${id}`, resultOnly: true });
  });

  router.get('/v1/admin/seals', auth, async (ctx) => {
    authorize(requireActor(ctx), 'seal.admin-read');
    const db = services.store.db;
    const seals = await listSeals(db);
    ctx.body = { seals: await Promise.all(seals.map(async (s) => sealView(s, await listSealVersions(db, s.id)))) };
  });

  router.get('/v1/admin/seals/:id', auth, async (ctx) => {
    authorize(requireActor(ctx), 'seal.admin-read');
    ctx.body = await sealDetail(services.store.db, await requireSeal(services, ctx.params.id!));
  });

  router.post('/v1/admin/seals/:id/rotate', auth, async (ctx) => {
    sendChange(ctx, await requestChange(services, requireActor(ctx), 'seal.rotate', { sealId: ctx.params.id! }));
  });

  router.post('/v1/admin/seals/:id/versions/:version/revoke', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const version = parseVersionNumber(ctx.params.version);
    const body = await readJsonObject(ctx, JSON_LIMIT);
    sendChange(ctx, await requestChange(services, actor, 'seal.revoke', { ...body, sealId: ctx.params.id!, version }));
  });

  router.post('/v1/admin/seals/:id/versions/:version/destroy-key', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const version = parseVersionNumber(ctx.params.version);
    sendChange(ctx, await requestChange(services, actor, 'seal.destroy-key', { sealId: ctx.params.id!, version }));
  });

  router.put('/v1/admin/seals/:id/rotation-policy', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const body = await readJsonObject(ctx, JSON_LIMIT);
    const input = 'rotationPolicy' in body ? { sealId: ctx.params.id!, policy: body.rotationPolicy } : { sealId: ctx.params.id! };
    sendChange(ctx, await requestChange(services, actor, 'seal.rotation-policy', input), { resultOnly: true });
  });

  router.put('/v1/admin/seals/:id/two-person-control', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const body = await readJsonObject(ctx, JSON_LIMIT);
    sendChange(ctx, await requestChange(services, actor, 'seal.two-person', { sealId: ctx.params.id!, on: body.twoPersonControl }), { resultOnly: true });
  });

  document(openapi);
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const sealIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Seal id' };
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const common = ADMIN_PROBLEMS;
/** A certificate revocation's request body (seal versions here, licence-QR keys in admin-licence-qr.ts). */
export const REVOCATION_BODY = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['reason'],
        properties: {
          reason: { enum: ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn', 'aACompromise'] },
          revokedAt: { type: 'string', format: 'date-time', description: 'Only keyCompromise may be dated in the past; default now' },
        },
      },
      example: { reason: 'keyCompromise', revokedAt: '2026-11-30T09:00:00Z' },
    },
  },
};
const lifecycleResponses = {
  ...changeResponses({ 200: json(ref('LifecycleOutcome'), 'Carried out (two-person control does not apply): `executed: true` and the result.') }),
  404: problemResponse('No such seal or version.'),
  409: problemResponse('The version’s state does not allow it (e.g. destroying the active key, revoking twice).'),
  422: problemResponse('Invalid reason or time; `errors` names the field.'),
  503: problemResponse('The HSM or database is unavailable.'),
};

function document(openapi: OpenApiRegistry): void {
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: seals'], security: [{ bearer: [] }], ...o });
  const versionSchema = {
    type: 'object',
    properties: {
      version: { type: 'integer' },
      status: { enum: ['pending', 'active', 'retired', 'revoked', 'destroyed'] },
      algorithm: { type: 'string' },
      keyId: { type: 'string', description: 'CKA_ID of the key on the HSM (hex)' },
      keyLabel: { type: 'string' },
      certSerial: { type: ['string', 'null'] },
      notBefore: { type: ['string', 'null'], format: 'date-time' },
      notAfter: { type: ['string', 'null'], format: 'date-time' },
      createdAt: { type: 'string', format: 'date-time' },
      activatedAt: { type: ['string', 'null'], format: 'date-time' },
      retiredAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
      revocationReason: { type: ['string', 'null'] },
      destroyedAt: { type: ['string', 'null'], format: 'date-time' },
      signatureCount: { type: 'integer' },
    },
  };
  const rotationPolicy = {
    type: ['object', 'null'],
    properties: { everyDays: { type: 'number', exclusiveMinimum: 0 }, afterSignatures: { type: 'integer', minimum: 1 } },
    additionalProperties: false,
  };
  const schemas = {
    SealVersion: versionSchema,
    RotationPolicy: rotationPolicy,
    AdminSeal: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        organisation: { type: 'string' },
        creditCode: { type: 'string' },
        name: { type: 'string' },
        sealType: { type: 'string' },
        keyAlgorithm: { enum: ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'] },
        certValidityDays: { type: 'integer' },
        twoPersonControl: { type: 'boolean' },
        rotationPolicy: ref('RotationPolicy'),
        rotationPolicyApprovedBy: { type: ['array', 'null'], items: { type: 'string' }, description: 'Who approved the rotation policy (the scheduler runs only approved policies)' },
        isTest: { type: 'boolean' },
        appearance: { type: 'object', properties: { kind: { enum: ['generated', 'image'] }, diameterMm: { type: 'number' } } },
        activeVersion: { type: ['integer', 'null'] },
        versions: { type: 'array', items: ref('SealVersion') },
        certificate: { type: ['string', 'null'], description: 'PEM of the active version’s certificate (single-seal responses)' },
      },
    },
    NewSeal: {
      type: 'object',
      required: ['id', 'organisation', 'creditCode', 'name'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
        organisation: { type: 'string' },
        creditCode: { type: 'string', description: 'Unified social credit code (GB 32100), check character verified' },
        name: { type: 'string', description: 'e.g. 合同专用章' },
        sealType: { type: 'string', default: 'official' },
        keyAlgorithm: { enum: ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'], default: 'RSA-2048' },
        certValidityDays: { type: 'integer', minimum: 1, maximum: 3650, default: 730 },
        twoPersonControl: { type: 'boolean', default: false },
        rotationPolicy: ref('RotationPolicy'),
        appearance: {
          oneOf: [
            { type: 'object', required: ['kind'], properties: { kind: { const: 'generated' }, diameterMm: { type: 'number' } } },
            { type: 'object', required: ['kind', 'pngBase64'], properties: { kind: { const: 'image' }, pngBase64: { type: 'string' }, diameterMm: { type: 'number' } } },
          ],
        },
      },
    },
    ActionResult: {
      type: 'object',
      properties: {
        action: { enum: ['rotate', 'revoke', 'destroy-key'] },
        version: ref('SealVersion'),
        retired: { oneOf: [ref('SealVersion'), { type: 'null' }], description: 'rotate only: the version it retired' },
      },
    },
    LifecycleOutcome: {
      type: 'object',
      required: ['executed'],
      properties: { executed: { type: 'boolean' }, result: ref('ActionResult') },
    },
  };
  openapi.add(
    {
      '/v1/admin/seals': {
        post: op({
          operationId: 'createSeal',
          summary: 'Create a seal: its first HSM key and certificate',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: ref('NewSeal'),
                example: { id: 'contracts', organisation: '某某区行政审批局', creditCode: '11110105MB0123456F', name: '合同专用章', keyAlgorithm: 'EC-P256', rotationPolicy: { everyDays: 365 } },
              },
            },
          },
          description: 'In production the seal is always under two-person control, and creating it is itself a proposal.',
          responses: {
            ...changeResponses({ 201: json(ref('AdminSeal'), 'Created; Location names the seal.') }),
            409: problemResponse('A seal with this id exists.'),
            422: problemResponse('Invalid fields (credit code check character, algorithm, …); `errors` lists each.'),
            503: problemResponse('The HSM or database is unavailable.'),
          },
        }),
        get: op({
          operationId: 'adminListSeals',
          summary: 'Every seal with all its versions',
          responses: { 200: json({ type: 'object', properties: { seals: { type: 'array', items: ref('AdminSeal') } } }, 'The seals'), ...common },
        }),
      },
      '/v1/admin/seals/{id}': {
        get: op({
          operationId: 'adminGetSeal',
          summary: 'One seal: versions, statuses, certificate serials, the active certificate',
          parameters: [sealIdParam],
          responses: { 200: json(ref('AdminSeal'), 'The seal'), ...common, 404: problemResponse('No such seal.') },
        }),
      },
      '/v1/admin/seals/{id}/rotate': {
        post: op({
          operationId: 'rotateSeal',
          summary: 'New key and certificate become active; the previous version retires (still verifies, no longer signs)',
          parameters: [sealIdParam],
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/versions/{version}/revoke': {
        post: op({
          operationId: 'revokeSealVersion',
          summary: 'Revoke a version’s certificate (OCSP and the CRL report it at once)',
          parameters: [sealIdParam, versionParam],
          requestBody: REVOCATION_BODY,
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/versions/{version}/destroy-key': {
        post: op({
          operationId: 'destroySealKey',
          summary: 'Delete a retired or revoked version’s private key from the HSM; documents it sealed keep verifying',
          parameters: [sealIdParam, versionParam],
          responses: lifecycleResponses,
        }),
      },
      '/v1/admin/seals/{id}/rotation-policy': {
        put: op({
          operationId: 'setRotationPolicy',
          summary: 'Rotate automatically every N days and/or after N signatures (null removes the policy)',
          parameters: [sealIdParam],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['rotationPolicy'], properties: { rotationPolicy: ref('RotationPolicy') } }, example: { rotationPolicy: { everyDays: 365, afterSignatures: 100000 } } } } },
          description: 'The policy is stored with who approved it; the scheduler rotates only under an approved policy (two people where two-person control applies).',
          responses: { ...changeResponses({ 200: json(ref('AdminSeal'), 'The seal with its new policy') }), 404: problemResponse('No such seal.'), 422: problemResponse('Invalid policy.') },
        }),
      },
      '/v1/admin/seals/{id}/two-person-control': {
        put: op({
          operationId: 'setTwoPersonControl',
          summary: 'Switch two-person control on (at once) or off (proposed; refused in production, where it is always on)',
          parameters: [sealIdParam],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['twoPersonControl'], properties: { twoPersonControl: { type: 'boolean' } } }, example: { twoPersonControl: true } } } },
          responses: {
            ...changeResponses({ 200: json(ref('AdminSeal'), 'Switched') }),
            404: problemResponse('No such seal.'),
            409: problemResponse('Already so, or production (always on).'),
          },
        }),
      },
    },
    schemas,
  );
}
