/**
 * GET /v1/licences: the licence register searched and paged, or as CSV. Licence officers and auditors
 * see every licence, a system client with the licences scope those it issued of the types it is still
 * granted. Holders' personal data as for one licence: in full to officers and the issuing client, masked
 * for auditors — who may search by holder only among licences of organisations, whose name and credit
 * code are public, so a search cannot tell them whether a person holds a licence.
 */
import type { Actor } from '../../access/actors.js';
import { allows, authorize, seesPersonalData } from '../../access/policy.js';
import { chinaDate, effectiveStatus, licenceDeps, type LicenceDeps } from '../../licences/service.js';
import { holderIsOrganisation, publicHolder } from '../../licences/masking.js';
import type { LicenceTypeRegistry } from '../../licences/registry.js';
import type { CsvColumn } from '../../search/csv.js';
import { searchLicences, type LicenceFilters, type LicenceRecord } from '../../store/licences.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { sendListing, type Listing } from '../listing.js';
import { oneOf, readSearchQuery, timeFilter } from '../search-query.js';
import { viewFor } from './licences.js';
import { listParameters, listResponses } from './search-docs.js';

export const LICENCE_FILTERS = ['type', 'holderId', 'holderName', 'status', 'issuedFrom', 'issuedTo'] as const;
export const LICENCE_STATUSES = ['valid', 'expired', 'superseded', 'revoked'] as const;

/** The types a search may return: the client's grants, and organisations only for a holder search without personal data. */
function typeScope(registry: LicenceTypeRegistry, actor: Actor, holderSearch: boolean): readonly string[] | undefined {
  let types: string[] | undefined = actor.kind === 'client' ? [...actor.licenceTypes] : undefined;
  if (holderSearch && !allows(actor, 'licence.personal-data')) {
    const organisations = registry.list().filter(holderIsOrganisation).map((t) => t.id);
    types = (types ?? organisations).filter((t) => organisations.includes(t));
  }
  return types;
}

function csvColumns(registry: LicenceTypeRegistry, actor: Actor, today: string): CsvColumn<LicenceRecord>[] {
  const holder = (r: LicenceRecord) => (seesPersonalData(actor, r) ? { name: r.holderName, id: r.holderId } : publicHolder(registry.get(r.typeId), { name: r.holderName, id: r.holderId }));
  return [
    { header: 'id', value: (r) => r.id },
    { header: 'type', value: (r) => r.typeId },
    { header: 'status', value: (r) => effectiveStatus(r, today) },
    { header: 'serial', value: (r) => r.serial },
    { header: 'version', value: (r) => r.version },
    { header: 'holderName', value: (r) => holder(r).name },
    { header: 'holderId', value: (r) => holder(r).id },
    { header: 'issuerName', value: (r) => r.issuerName },
    { header: 'issuerCreditCode', value: (r) => r.issuerCode },
    { header: 'validFrom', value: (r) => r.validFrom },
    { header: 'validTo', value: (r) => r.validTo },
    { header: 'issuedAt', value: (r) => r.issuedAt },
    { header: 'issuedBy', value: (r) => r.issuedBy },
    { header: 'revokedAt', value: (r) => r.revokedAt },
    { header: 'revocationReason', value: (r) => r.revocationReason },
    { header: 'sha256', value: (r) => r.sha256 },
  ];
}

/** The filters of a licence search as `actor` may run it (scoped to its grants; holders only among organisations without personal data). */
function licenceFiltersFor(registry: LicenceTypeRegistry, actor: Actor, q: Partial<Record<(typeof LICENCE_FILTERS)[number], string>>, today: string): LicenceFilters {
  return {
    ownerClientId: actor.kind === 'client' ? actor.id : undefined,
    typeIds: typeScope(registry, actor, q.holderId !== undefined || q.holderName !== undefined),
    typeId: oneOf('type', q.type, registry.list().map((t) => t.id)), holderId: q.holderId, holderName: q.holderName, status: oneOf('status', q.status, LICENCE_STATUSES), today,
    issuedFrom: timeFilter('issuedFrom', q.issuedFrom), issuedTo: timeFilter('issuedTo', q.issuedTo, true),
  };
}

/** The licence register as `actor` may list it with these filters. */
export function licenceListing(deps: LicenceDeps, actor: Actor, q: Partial<Record<(typeof LICENCE_FILTERS)[number], string>>): Listing<LicenceRecord> {
  const today = chinaDate(new Date());
  const filters = licenceFiltersFor(deps.registry, actor, q, today);
  return {
    name: 'licences',
    page: (after, limit) => searchLicences(deps.db, filters, after, limit),
    key: (r) => [r.issuedAt, r.id],
    json: (r) => viewFor(deps, actor, r),
    csv: csvColumns(deps.registry, actor, today),
  };
}

export const registerLicenceSearchRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const deps = licenceDeps(services);
  const typeIds = deps.registry.list().map((t) => t.id);

  router.get('/v1/licences', authenticate(services), async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'licence.read');
    const query = readSearchQuery(ctx, LICENCE_FILTERS);
    await sendListing(ctx, services.secrets, actor, query, licenceListing(deps, actor, query.filters));
  });

  openapi.add({
    '/v1/licences': {
      get: {
        operationId: 'searchLicences',
        summary: 'Search the licence register (电子证照), newest issue first, or download it as CSV',
        description:
          'Filters combine (all must hold); `holderId` and `holderName` match exactly. `status` is the effective status (`expired`: valid but past its validTo, as the public page says). '
          + '`issuedFrom` (inclusive) and `issuedTo` are dates (YYYY-MM-DD, a day in China; `issuedTo` includes that day) or date-times with an offset (`issuedTo` exclusive). '
          + 'Licence officers and auditors see every licence, a system client with the licences scope the licences it issued of the types it is still granted. '
          + 'Auditors get holders masked (`personalData: "masked"`) and searching by holder finds only licences of organisations (public registration data). '
          + 'Keyset-paginated on (issuedAt, id): pass `nextCursor` back as `cursor` with the same filters. `Accept: text/csv` or `format=csv`: every matching licence as CSV.',
        security: [{ bearer: [] }],
        parameters: listParameters({
          type: { schema: { type: 'string', enum: typeIds }, example: 'business-licence', description: 'Licence type id.' },
          holderId: { schema: { type: 'string' }, example: '91110108MA01ABCD2X', description: 'The holder\'s unified social credit code or ID number.' },
          holderName: { schema: { type: 'string' }, example: '北京示例科技有限公司' },
          status: { schema: { type: 'string', enum: [...LICENCE_STATUSES] }, example: 'valid' },
          issuedFrom: { schema: { type: 'string' }, example: '2026-11-01' },
          issuedTo: { schema: { type: 'string' }, example: '2026-11-30' },
        }),
        responses: listResponses('#/components/schemas/Licence', {
          items: [{
            id: '1.2.156.3005.2.11100000000000000X001.11110108000000000A.00000001.001.K', type: 'business-licence', status: 'valid',
            verifyUrl: 'https://oneseal.example.gov.cn/v/1.2.156.3005.2.…', pdfUrl: 'https://oneseal.example.gov.cn/v1/licences/1.2.156.3005.2.…/pdf',
            serial: '00000001', version: 1, holder: { name: '北京示例科技有限公司', id: '91110108MA01ABCD2X' }, issuer: { name: '某某区行政审批局', creditCode: '11110108000000000A' },
            validFrom: '2026-11-02', validTo: '长期', issuedAt: '2026-11-02T01:20:00.000Z', signedAt: '2026-11-02T01:20:00.000Z',
            seal: { id: 'approval', name: '行政审批专用章', version: 2, certSerial: '4a1f…' }, sha256: '2c26…', supersedes: null, supersededBy: null, revokedAt: null, revocationReason: null,
            data: { name: '北京示例科技有限公司', creditCode: '91110108MA01ABCD2X' },
          }],
          nextCursor: null,
        }, 'id,type,status,serial,version,holderName,holderId,issuerName,issuerCreditCode,validFrom,validTo,issuedAt,issuedBy,revokedAt,revocationReason,sha256\r\n'
          + '1.2.156.3005.2.…,business-licence,valid,00000001,1,北京示例科技有限公司,91110108MA01ABCD2X,某某区行政审批局,11110108000000000A,2026-11-02,长期,2026-11-02T01:20:00.000Z,person:lo,,,2c26…\r\n',
        '403: the caller lacks licence.read (licence-officer, auditor, or the licences scope).'),
      },
    },
  });
};
