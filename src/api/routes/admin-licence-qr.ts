/**
 * The licence-QR key's lifecycle for seal-admins: rotate it, revoke a key's certificate, each through
 * src/access/two-person.ts like a seal's key (carried out at once, or proposed for a second seal-admin).
 * The keys themselves, with kid and status, are public in the trust list.
 */
import { requestChange } from '../../access/two-person.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJsonObject } from '../body.js';
import { changeResponses, sendChange } from '../change-response.js';
import { problemResponse, type OpenApiRegistry } from '../openapi.js';
import { REVOCATION_BODY } from './admin-seals.js';

const JSON_LIMIT = 16 * 1024;

export const registerAdminLicenceQrRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.post('/v1/admin/licence-qr/rotate', auth, async (ctx) => {
    sendChange(ctx, await requestChange(services, requireActor(ctx), 'licence-qr.rotate', {}));
  });

  router.post('/v1/admin/licence-qr/keys/:kid/revoke', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const body = await readJsonObject(ctx, JSON_LIMIT);
    sendChange(ctx, await requestChange(services, actor, 'licence-qr.revoke', { ...body, kid: ctx.params.kid! }));
  });

  document(openapi);
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });

function document(openapi: OpenApiRegistry): void {
  const op = (o: Record<string, unknown>) => ({ tags: ['Admin: seals'], security: [{ bearer: [] }], ...o });
  const outcome = (result: Record<string, unknown>) => json({ type: 'object', required: ['executed'], properties: { executed: { type: 'boolean' }, result: { type: 'object', properties: result } } },
    'Carried out (two-person control does not apply): `executed: true` and the result.');
  const kid = { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'First 8 bytes of SHA-256 over the certificate’s DER, hex (as in the trust list)' };
  openapi.add({
    '/v1/admin/licence-qr/rotate': {
      post: op({
        operationId: 'rotateLicenceQrKey',
        summary: 'A new licence-QR key and certificate sign from now on; the previous key retires and stays in the trust list, so QR codes it signed still verify',
        description: 'Under two-person control as the licence-issuing seal is (always in production): then a proposal (202) for a second seal-admin.',
        responses: {
          ...changeResponses({ 200: outcome({ action: { const: 'rotate' }, kid, retired: { ...kid, type: ['string', 'null'] } }) }),
          503: problemResponse('The HSM or database is unavailable.'),
        },
      }),
    },
    '/v1/admin/licence-qr/keys/{kid}/revoke': {
      post: op({
        operationId: 'revokeLicenceQrKey',
        summary: 'Revoke a licence-QR key’s certificate: offline verifiers reject payloads claiming an issue time after the revocation; those signed before still verify',
        description: 'An active key retires with it: licences cannot be issued until the next rotation.',
        parameters: [{ name: 'kid', in: 'path', required: true, schema: kid }],
        requestBody: REVOCATION_BODY,
        responses: {
          ...changeResponses({ 200: outcome({ action: { const: 'revoke' }, kid, status: { enum: ['active', 'retired'] }, wasActive: { type: 'boolean', description: 'The key was the active one: no key signs until the next rotation' }, reason: { type: 'string' }, revokedAt: { type: ['string', 'null'], format: 'date-time' } }) }),
          404: problemResponse('No licence-QR key with this kid.'),
          409: problemResponse('Already revoked.'),
          422: problemResponse('Invalid kid, reason or time; `errors` names the field.'),
          503: problemResponse('The HSM or database is unavailable.'),
        },
      }),
    },
  });
}
