/**
 * GET /v1/audit: the audit log (用印日志 and every other act) searched by actor, action and time, newest
 * first, or as CSV. Auditors and seal-admins. GET /v1/admin/audit/entries stays the in-order walk that
 * chain verification uses.
 */
import { authorize } from '../../access/policy.js';
import { searchAudit, type AuditFilters, type AuditRow } from '../../store/audit.js';
import type { Services } from '../../services.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { sendListing, type Listing } from '../listing.js';
import { readSearchQuery, timeFilter } from '../search-query.js';
import { listParameters, listResponses } from './search-docs.js';

export const AUDIT_FILTERS = ['actor', 'action', 'from', 'to'] as const;

/** The entry as the API shows it; details are parsed here, so a damaged row shows as text rather than failing the page. */
function entryView(r: AuditRow) {
  let details: unknown;
  try {
    details = JSON.parse(r.detailsJson);
  } catch {
    details = r.detailsJson;
  }
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details, hash: r.hash };
}

/** The audit log as a list with these filters (who may read it at all is the route's check). */
export function auditListing(services: Services, q: Partial<Record<(typeof AUDIT_FILTERS)[number], string>>): Listing<AuditRow> {
  const filters: AuditFilters = { actor: q.actor, action: q.action, from: timeFilter('from', q.from), to: timeFilter('to', q.to, true) };
  return {
    name: 'audit',
    page: (after, limit) => searchAudit(services.store.db, filters, after, limit),
    key: (r) => [r.at, r.seq],
    json: entryView,
    csv: [
      { header: 'seq', value: (r) => r.seq },
      { header: 'at', value: (r) => r.at },
      { header: 'actor', value: (r) => r.actor },
      { header: 'action', value: (r) => r.action },
      { header: 'subject', value: (r) => r.subject },
      { header: 'details', value: (r) => r.detailsJson },
      { header: 'hash', value: (r) => r.hash },
    ],
  };
}

export const registerAuditSearchRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  router.get('/v1/audit', authenticate(services), async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'audit.read');
    const query = readSearchQuery(ctx, AUDIT_FILTERS);
    await sendListing(ctx, services.secrets, actor, query, auditListing(services, query.filters));
  });

  openapi.add(
    {
      '/v1/audit': {
        get: {
          tags: ['Admin: audit'],
          operationId: 'searchAudit',
          summary: 'Search the audit log, newest first, or download it as CSV (auditors, seal-admins)',
          description:
            '`actor` is an actor label exactly as entries name it (person:NAME, client:NAME, break-glass:OSUSER, system:…); `action` exactly (e.g. stamp.create, licence.issue, seal.rotate). '
            + '`from` (inclusive) and `to` are dates (YYYY-MM-DD, a day in China; `to` includes that day) or date-times with an offset (`to` exclusive). '
            + 'Keyset-paginated on (at, seq): pass `nextCursor` back as `cursor` with the same filters. `Accept: text/csv` or `format=csv`: every matching entry as CSV (details as JSON text).',
          security: [{ bearer: [] }],
          parameters: listParameters({
            actor: { schema: { type: 'string' }, example: 'client:window-system' },
            action: { schema: { type: 'string' }, example: 'stamp.create' },
            from: { schema: { type: 'string' }, example: '2026-11-01' },
            to: { schema: { type: 'string' }, example: '2026-11-30T18:00:00+08:00' },
          }),
          responses: listResponses('#/components/schemas/AuditEntry', {
            items: [{ seq: 1042, at: '2026-11-30T02:15:04.125Z', actor: 'client:window-system', action: 'stamp.create', subject: '0b6f3f7e-8a54-4a0e-9d8c-3f6f0c1d2e4a', details: { sealId: 'approval', version: 2 }, hash: '7d1e…' }],
            nextCursor: 'eyJrIjpbIjIwMjYtMTEtMzBUMDI6MTU6MDQuMTI1WiIsMTA0Ml0sIm0iOiIuLi4ifQ',
          }, 'seq,at,actor,action,subject,details,hash\r\n1042,2026-11-30T02:15:04.125Z,client:window-system,stamp.create,0b6f3f7e-…,"{""sealId"":""approval"",""version"":2}",7d1e…\r\n',
          '403: needs the auditor or seal-admin role.'),
        },
      },
    },
    {
      AuditEntry: {
        type: 'object',
        properties: {
          seq: { type: 'integer' }, at: { type: 'string', format: 'date-time' }, actor: { type: 'string' }, action: { type: 'string' },
          subject: { type: ['string', 'null'] }, details: { type: 'object' }, hash: { type: 'string', description: 'The entry\'s chain hash (hex SHA-256)' },
        },
      },
    },
  );
};
