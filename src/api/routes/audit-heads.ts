/**
 * The audit log for people: reading its entries (auditors, seal-admins) and signing the chain head on
 * demand (the server also signs it periodically), e.g. before a backup or an inspection.
 */
import { authorize } from '../../access/policy.js';
import { signAuditHead } from '../../audit/heads.js';
import { OneSealError } from '../../errors.js';
import { auditRowsAfter } from '../../store/audit.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { problemResponse } from '../openapi.js';

const MAX_PAGE = 500;

export const registerAuditHeadRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/admin/audit/entries', auth, async (ctx) => {
    authorize(requireActor(ctx), 'audit.read');
    const after = ctx.query.after === undefined ? 0 : Number(ctx.query.after);
    const limit = ctx.query.limit === undefined ? 100 : Number(ctx.query.limit);
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new OneSealError('invalid-query', 'bad-request', `after must be an entry number (0 or more) and limit 1 to ${MAX_PAGE}.`);
    }
    const rows = await auditRowsAfter(services.store.db, after, limit);
    ctx.body = {
      entries: rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.detailsJson) as unknown, hash: r.hash })),
      next: rows.length === limit ? rows.at(-1)!.seq : null,
    };
  });

  router.post('/v1/admin/audit/heads', auth, async (ctx) => {
    authorize(requireActor(ctx), 'audit.sign-head');
    const { signer, certificate } = services.authority.audit;
    const signed = await signAuditHead({ db: services.store.db, signer, certificate });
    ctx.status = signed?.created ? 201 : 200;
    ctx.body = { signed: signed?.created ?? false, head: signed?.head ?? null };
  });

  const json = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/AuditHeadResult' } } } });
  openapi.add(
    {
      '/v1/admin/audit/entries': {
        get: {
          tags: ['Admin: audit'],
          operationId: 'listAuditEntries',
          summary: 'Audit log entries in order (auditors, seal-admins); page with after=<seq>',
          security: [{ bearer: [] }],
          parameters: [{ name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 } }],
          responses: {
            200: {
              description: 'Entries; each names its actor: person:NAME, client:NAME, break-glass:OSUSER or system:….',
              content: { 'application/json': { schema: { type: 'object', properties: { entries: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer' }, at: { type: 'string' }, actor: { type: 'string' }, action: { type: 'string' }, subject: { type: ['string', 'null'] }, details: { type: 'object' }, hash: { type: 'string' } } } }, next: { type: ['integer', 'null'] } } } } },
            },
            400: problemResponse('`after` is not an entry number or `limit` is out of range (`invalid-query`).'),
            401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
            403: problemResponse('Needs the auditor or seal-admin role.'),
          },
        },
      },
      '/v1/admin/audit/heads': {
        post: {
          tags: ['Admin: audit'],
          operationId: 'signAuditHead',
          summary: 'Sign the audit chain head now',
          description: 'Signs the latest audit log entry (seq and hash) with the audit key in the HSM, after checking the entries since the last signed head. `oneseal audit verify` checks these signatures.',
          security: [{ bearer: [] }],
          responses: {
            201: json('Signed: the new head.'),
            200: json('Nothing new to sign: the latest head is the current tip (`signed: false`), or the log is empty (`head: null`).'),
            401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
            403: problemResponse('Needs the seal-admin, auditor or operator role.'),
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
