/**
 * GET /v1/seals and /v1/seals/{id}: the seals the caller may see (a stamping client: those it was
 * granted; the verify scope and people: all), each with its current version's certificate, so an
 * approval system can show and pin what its documents are signed with.
 */
import type { Context } from 'koa';
import { OneSealError } from '../../errors.js';
import type { Services } from '../../services.js';
import { derToPem } from '../../pki/der.js';
import { activeSealVersion, getSeal, listSeals, type SealRecord } from '../../store/seals.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authorizeSeal, seesSeal, authorize } from '../../access/policy.js';
import { authenticate, requireActor } from '../auth.js';
import { problemResponse } from '../openapi.js';
import { commonProblems } from './stamp-docs.js';

async function sealView(services: Services, seal: SealRecord) {
  const version = await activeSealVersion(services.store.db, seal.id);
  return {
    id: seal.id,
    name: seal.name,
    organisation: seal.organisation,
    creditCode: seal.creditCode,
    type: seal.sealType,
    isTest: seal.isTest,
    currentVersion: version
      ? {
        version: version.version,
        status: version.status,
        algorithm: version.algorithm,
        certSerial: version.certSerial,
        notBefore: version.notBefore,
        notAfter: version.notAfter,
        certificate: version.certificate ? derToPem(version.certificate, 'CERTIFICATE') : null,
      }
      : null,
  };
}

async function visibleSeal(ctx: Context, services: Services, id: string): Promise<SealRecord> {
  authorizeSeal(requireActor(ctx), 'seal.read', id);
  const seal = await getSeal(services.store.db, id);
  if (!seal) throw new OneSealError('seal-not-found', 'not-found', `There is no seal "${id}".`);
  return seal;
}

const SEAL_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    organisation: { type: 'string' },
    creditCode: { type: 'string', description: 'Unified social credit code (GB 32100) of the organisation' },
    type: { type: 'string' },
    isTest: { type: 'boolean' },
    currentVersion: {
      type: ['object', 'null'],
      description: 'The active key version: the one new stamps are signed with',
      properties: {
        version: { type: 'integer' }, status: { type: 'string' }, algorithm: { type: 'string' }, certSerial: { type: 'string' },
        notBefore: { type: 'string', format: 'date-time' }, notAfter: { type: 'string', format: 'date-time' },
        certificate: { type: 'string', description: 'PEM' },
      },
    },
  },
};

export const registerSealReadRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/seals', auth, async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'seal.read');
    const seals = (await listSeals(services.store.db)).filter((s) => seesSeal(actor, s.id));
    ctx.body = { seals: await Promise.all(seals.map((s) => sealView(services, s))) };
  });

  router.get('/v1/seals/:id', auth, async (ctx) => {
    ctx.body = await sealView(services, await visibleSeal(ctx, services, ctx.params.id!));
  });

  openapi.add({
    '/v1/seals': {
      get: {
        operationId: 'listSeals',
        summary: 'The seals the caller may see: a stamping client those it was granted, the verify scope and people all',
        security: [{ bearer: [] }],
        responses: {
          200: { description: 'The seals.', content: { 'application/json': { schema: { type: 'object', properties: { seals: { type: 'array', items: { $ref: '#/components/schemas/Seal' } } } } } } },
          401: commonProblems[401],
          429: commonProblems[429],
        },
      },
    },
    '/v1/seals/{id}': {
      get: {
        operationId: 'getSeal',
        summary: 'One seal, its current version and certificate',
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: { description: 'The seal.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Seal' } } } },
          401: commonProblems[401],
          403: problemResponse('The seal was not granted to this client, or the caller lacks the scope or role; the problem names it.'),
          404: problemResponse('No such seal.'),
        },
      },
    },
  }, { Seal: SEAL_SCHEMA });
};
