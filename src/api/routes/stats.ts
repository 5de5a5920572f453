/**
 * GET /v1/stats/stamps?by=department|item|centre&from=&to=: how many stamps each department, item or
 * handling centre made in a period, with the catalogue's and the centres' names.
 */
import { authorize } from '../../access/policy.js';
import { OneSealError, type FieldError } from '../../errors.js';
import { listCentres, listItems } from '../../store/items.js';
import { countStampsBy, type StampGrouping } from '../../store/stamps.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { ADMIN_PROBLEMS } from '../change-response.js';
import { problemResponse } from '../openapi.js';

const GROUPINGS: readonly StampGrouping[] = ['department', 'item', 'centre'];
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A date or a date-time as given → an ISO time (a bare date is midnight China time, as the bureau counts days). */
function instant(v: string): string | undefined {
  if (!DATE.test(v)) return undefined;
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00+08:00` : v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export const registerStatsRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  router.get('/v1/stats/stamps', authenticate(services), async (ctx) => {
    authorize(requireActor(ctx), 'stats.read');
    const errors: FieldError[] = [];
    const by = ctx.query.by as StampGrouping;
    if (!GROUPINGS.includes(by)) errors.push({ field: 'by', message: `must be one of ${GROUPINGS.join(', ')}` });
    const range: { from?: string; to?: string } = {};
    for (const f of ['from', 'to'] as const) {
      const v = ctx.query[f];
      if (v === undefined) continue;
      const at = typeof v === 'string' ? instant(v) : undefined;
      if (at) range[f] = at;
      else errors.push({ field: f, message: 'must be a date (YYYY-MM-DD, China time) or an ISO 8601 date-time' });
    }
    if (errors.length) {
      throw new OneSealError('invalid-stats-query', 'bad-request', `The query is invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, { fields: errors });
    }
    // The reads' connection: on SQLite a long period's count then holds up no stamp's commit.
    const db = services.store.reads;
    const names = new Map<string, string>(by === 'item' ? (await listItems(db)).map((i) => [i.code, i.name])
      : by === 'centre' ? (await listCentres(db)).map((c) => [c.code, c.name]) : []);
    const groups = (await countStampsBy(db, by, range)).map((g) => ({
      key: g.key ?? (by === 'centre' ? 'district-hall' : 'none'),
      ...(g.key && names.has(g.key) ? { name: names.get(g.key) } : {}),
      count: g.count,
    })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    ctx.body = { by, from: range.from ?? null, to: range.to ?? null, total: groups.reduce((n, g) => n + g.count, 0), groups };
  });

  openapi.add({
    '/v1/stats/stamps': {
      get: {
        operationId: 'stampStatistics',
        tags: ['Items and centres'],
        summary: 'Stamps per department, item or handling centre in a period',
        description: 'Groups without a department or item ("none": no item named) and stamps made by the district hall ("district-hall") are listed too. Latency is in /metrics (oneseal_{department,item,centre}_stamp_seconds).',
        security: [{ bearer: [] }],
        parameters: [
          { name: 'by', in: 'query', required: true, schema: { enum: GROUPINGS }, example: 'centre' },
          { name: 'from', in: 'query', required: false, schema: { type: 'string' }, example: '2026-12-01', description: 'Inclusive; a date is midnight China time' },
          { name: 'to', in: 'query', required: false, schema: { type: 'string' }, example: '2027-01-01', description: 'Exclusive' },
        ],
        responses: {
          200: { description: 'Counts, largest first', content: { 'application/json': { schema: { type: 'object' }, example: { by: 'centre', from: '2026-11-30T16:00:00.000Z', to: null, total: 3, groups: [{ key: 'dongcun', name: '东村镇便民服务中心', count: 2 }, { key: 'district-hall', count: 1 }] } } } },
          400: problemResponse('Unknown grouping or a bad date; `errors` names each.'),
          ...ADMIN_PROBLEMS,
        },
      },
    },
  });
};
