/**
 * Signing the audit chain head on demand (the server also signs it periodically): for an
 * administrator who wants the log pinned now, e.g. before a backup or an inspection.
 */
import { signAuditHead } from '../../audit/heads.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireAdmin } from '../auth.js';
import { problemResponse } from '../openapi.js';

export const registerAuditHeadRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  router.post('/v1/admin/audit/heads', authenticate(services), async (ctx) => {
    requireAdmin(ctx);
    const { signer, certificate } = services.authority.audit;
    const signed = await signAuditHead({ db: services.store.db, signer, certificate });
    ctx.status = signed?.created ? 201 : 200;
    ctx.body = { signed: signed?.created ?? false, head: signed?.head ?? null };
  });

  const json = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/AuditHeadResult' } } } });
  openapi.add(
    {
      '/v1/admin/audit/heads': {
        post: {
          tags: ['Admin: audit'],
          summary: 'Sign the audit chain head now',
          description: 'Signs the latest audit log entry (seq and hash) with the audit key in the HSM, after checking the entries since the last signed head. `oneseal audit verify` checks these signatures.',
          security: [{ bearer: [] }],
          responses: {
            201: json('Signed: the new head.'),
            200: json('Nothing new to sign: the latest head is the current tip (`signed: false`), or the log is empty (`head: null`).'),
            401: problemResponse('No API key, or a wrong or revoked one.'),
            403: problemResponse('The client is not an administrator.'),
            409: problemResponse('The entries since the last signed head do not verify (`audit-chain-broken`); nothing was signed.'),
            503: problemResponse('The HSM or database is unavailable.'),
          },
        },
      },
    },
    {
      AuditHeadResult: {
        type: 'object',
        required: ['signed', 'head'],
        properties: {
          signed: { type: 'boolean', description: 'true when this request created the head' },
          head: {
            type: ['object', 'null'],
            properties: {
              seq: { type: 'integer', description: 'The audit entry the head pins, with every entry before it' },
              hash: { type: 'string', description: 'That entry’s chain hash (hex SHA-256)' },
              signature: { type: 'string', description: 'Base64 signature by the audit key over the canonical JSON {"hash","seq","signedAt","statement":"oneseal-audit-head"}' },
              signedAt: { type: 'string', format: 'date-time' },
              keyRole: { const: 'audit' },
            },
          },
        },
      },
    },
  );
};
