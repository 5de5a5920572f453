/**
 * GET /v1/stamps: the stamp register (用印记录), searched and paged, or as CSV for the monthly usage
 * report (用印统计). A system client sees only its own stamps whatever it filters on; auditors and
 * operators see every stamp, operators without file names and case numbers — and may not filter on them
 * either, since a filter that matches tells what it matched.
 */
import type { Actor } from '../../access/actors.js';
import { allows, authorize } from '../../access/policy.js';
import { findClientByName, getClient } from '../../store/clients.js';
import { searchStamps, type StampFilters, type StampView } from '../../store/stamps.js';
import type { CsvColumn } from '../../search/csv.js';
import type { Services } from '../../services.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { sendListing, type Listing } from '../listing.js';
import { readSearchQuery, timeFilter } from '../search-query.js';
import { listParameters, listResponses } from './search-docs.js';
import { stampViewFor } from './stamps.js';

export const STAMP_FILTERS = ['caseNumber', 'itemCode', 'department', 'centre', 'client', 'seal', 'from', 'to', 'filename'] as const;
const PERSONAL_FILTERS = ['caseNumber', 'filename'] as const;

const COLUMNS: readonly (CsvColumn<StampView> & { personal?: true })[] = [
  { header: 'id', value: (s) => s.id },
  { header: 'createdAt', value: (s) => s.createdAt },
  { header: 'clientId', value: (s) => s.clientId },
  { header: 'clientName', value: (s) => s.clientName },
  { header: 'sealId', value: (s) => s.sealId },
  { header: 'sealVersion', value: (s) => s.sealVersion },
  { header: 'certSerial', value: (s) => s.certSerial },
  { header: 'level', value: (s) => s.level },
  { header: 'itemCode', value: (s) => s.itemCode },
  { header: 'department', value: (s) => s.department },
  { header: 'centre', value: (s) => s.centreCode },
  { header: 'caseNumber', value: (s) => s.caseNumber, personal: true },
  { header: 'filename', value: (s) => s.filename, personal: true },
  { header: 'batchId', value: (s) => s.batchId },
  { header: 'sha256Before', value: (s) => s.sha256In },
  { header: 'sha256After', value: (s) => s.sha256Out },
];

/** The stamp register as `actor` may list it with these filters: a client its own stamps, people by their roles. */
export async function stampListing(services: Services, actor: Actor, q: Partial<Record<(typeof STAMP_FILTERS)[number], string>>): Promise<Listing<StampView>> {
  const db = services.store.db;
  if (PERSONAL_FILTERS.some((f) => q[f] !== undefined)) authorize(actor, 'stamp.personal-data');
  // A client's own stamps only: the scope is one more condition, so no filter or cursor can widen it.
  const filters: StampFilters = {
    ownerClientId: actor.kind === 'client' ? actor.id : undefined,
    // A client by id or by name; a name no client has matches nothing.
    clientId: q.client === undefined ? undefined : ((await getClient(db, q.client)) ?? (await findClientByName(db, q.client)))?.id ?? q.client,
    sealId: q.seal, caseNumber: q.caseNumber, itemCode: q.itemCode, department: q.department, centreCode: q.centre, filename: q.filename,
    from: timeFilter('from', q.from), to: timeFilter('to', q.to, true),
  };
  // Clients see their own personal data; people only with the role (the table's own-stamp rule, per row).
  const personal = actor.kind === 'client' || allows(actor, 'stamp.personal-data');
  return {
    name: 'stamps',
    page: (after, limit) => searchStamps(db, filters, after, limit),
    key: (s) => [s.createdAt, s.id],
    json: (s) => stampViewFor(actor, s),
    csv: COLUMNS.filter((c) => personal || !c.personal),
  };
}

export const registerStampSearchRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  router.get('/v1/stamps', authenticate(services), async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'stamp.read');
    const query = readSearchQuery(ctx, STAMP_FILTERS);
    await sendListing(ctx, services.secrets, actor, query, await stampListing(services, actor, query.filters));
  });

  openapi.add({
    '/v1/stamps': {
      get: {
        operationId: 'searchStamps',
        summary: 'Search the stamp register (用印记录), newest first, or download it as CSV',
        description:
          'Filters combine (all must hold). `caseNumber`, `itemCode`, `seal` and `filename` match exactly; `client` is a client id or name; `from` (inclusive) and `to` are dates '
          + '(YYYY-MM-DD, a day in China; `to` includes that day) or date-times with an offset (`to` exclusive). A system client sees only its own stamps; auditors and operators see every stamp, '
          + 'operators without `caseNumber` and `filename` (`personalData: "masked"`), and filtering on those two needs the same permission (403 otherwise). '
          + 'Pages are keyset-paginated on (createdAt, id): pass `nextCursor` back as `cursor` with the same filters; stamps made meanwhile never repeat or shift a page. '
          + 'With `Accept: text/csv` or `format=csv` every matching stamp is streamed as CSV (RFC 4180, UTF-8 with a byte order mark; cells starting with = + - @ prefixed with \').',
        security: [{ bearer: [] }],
        parameters: listParameters({
          caseNumber: { schema: { type: 'string' }, example: 'BJ-2026-000123', description: 'The approval case (办件) number.' },
          itemCode: { schema: { type: 'string' }, example: '11110000000000000X4001', description: 'The service item (事项) code.' },
          department: { schema: { type: 'string' }, example: '市场监管', description: 'The department of the catalogue item stamped for.' },
          centre: { schema: { type: 'string' }, example: 'dongcun', description: 'The service centre that handled the item (its code).' },
          client: { schema: { type: 'string' }, example: 'window-system', description: 'The client that asked for the stamp: id or name.' },
          seal: { schema: { type: 'string' }, example: 'approval', description: 'Seal id.' },
          from: { schema: { type: 'string' }, example: '2026-11-01' },
          to: { schema: { type: 'string' }, example: '2026-11-30' },
          filename: { schema: { type: 'string' }, example: '营业执照申请书.pdf', description: 'The uploaded file name, exactly.' },
        }),
        responses: listResponses('#/components/schemas/Stamp', {
          items: [{
            id: '0b6f3f7e-8a54-4a0e-9d8c-3f6f0c1d2e4a', client: { id: '5f0c…', name: 'window-system' }, createdAt: '2026-11-30T02:15:04.123Z',
            seal: { id: 'approval', version: 2, certSerial: '4a1f…' }, sha256: { before: '9f86…', after: '2c26…' }, level: 'B-T',
            placement: { requested: { kind: 'anchor', text: '（盖章）' }, placed: { page: 1, rect: [380, 96, 500, 216] } },
            caseNumber: 'BJ-2026-000123', itemCode: '11110000000000000X4001', filename: '营业执照申请书.pdf', batchId: null, pdfUrl: '/v1/stamps/0b6f3f7e-8a54-4a0e-9d8c-3f6f0c1d2e4a/pdf',
          }],
          nextCursor: 'eyJrIjpbIjIwMjYtMTEtMzBUMDI6MTU6MDQuMTIzWiIsIjBiNmYuLi4iXSwibSI6Ii4uLiJ9',
        }, 'id,createdAt,clientId,clientName,sealId,sealVersion,certSerial,level,itemCode,department,centre,caseNumber,filename,batchId,sha256Before,sha256After\r\n'
          + '0b6f3f7e-…,2026-11-30T02:15:04.123Z,5f0c…,window-system,approval,2,4a1f…,B-T,11110000000000000X4001,BJ-2026-000123,营业执照申请书.pdf,,9f86…,2c26…\r\n',
        '403: the caller lacks stamp.read (or stamp.personal-data for caseNumber and filename filters); the problem names the role or scope.'),
      },
    },
  });
};
