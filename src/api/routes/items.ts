/**
 * The item catalogue, service centres and delegations over HTTP: GET /v1/items (who may stamp or issue
 * reads it), POST /v1/items/import (a CSV or JSON catalogue: all rows or none), GET and POST
 * /v1/admin/centres, and POST /v1/admin/delegations (and …/revoke): changes under two-person control.
 */
import { requestChange } from '../../access/two-person.js';
import { OneSealError } from '../../errors.js';
import { importItems, readItems } from '../../items/catalogue.js';
import { formatOf } from '../../items/catalogue-file.js';
import { addCentre, readCentres } from '../../items/centres.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readBody, readJsonObject } from '../body.js';
import { ADMIN_PROBLEMS, changeResponses, sendChange } from '../change-response.js';
import { problemResponse } from '../openapi.js';

/** 300 items of a few hundred bytes each; a catalogue far larger is a mistake. */
const CATALOGUE_LIMIT = 2 * 1024 * 1024;
const CSV_EXAMPLE = 'code,name,department,seal,level,placement,certify,reasonTemplate,licenceType,overridable\n'
  + 'SCJG-0101,食品经营许可,市场监管,approval,B-LT,anchor:（盖章）,,,food-business-licence,placement|level\n';

export const registerItemRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/items', auth, async (ctx) => {
    const department = typeof ctx.query.department === 'string' ? ctx.query.department : undefined;
    ctx.body = { items: await readItems(services, requireActor(ctx), department ? { department } : {}) };
  });

  router.post('/v1/items/import', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const format = formatOf(undefined, ctx.get('Content-Type'));
    if (!format) {
      throw new OneSealError('unsupported-media-type', 'unsupported-media', 'Send the catalogue as text/csv (a header row, then one item per line) or application/json (an array of items).');
    }
    const body = await readBody(ctx, { limit: CATALOGUE_LIMIT, types: ['text/csv', 'application/json'] });
    ctx.body = await importItems(services, actor, body.toString('utf8'), format);
  });

  router.get('/v1/admin/centres', auth, async (ctx) => {
    ctx.body = { centres: await readCentres(services, requireActor(ctx)) };
  });

  router.post('/v1/admin/centres', auth, async (ctx) => {
    const centre = await addCentre(services, requireActor(ctx), await readJsonObject(ctx, 16 * 1024));
    ctx.status = 201;
    ctx.body = { code: centre.code, name: centre.name, createdAt: centre.createdAt };
  });

  router.post('/v1/admin/delegations', auth, async (ctx) => {
    sendChange(ctx, await requestChange(services, requireActor(ctx), 'delegation.create', await readJsonObject(ctx, 16 * 1024)), { resultOnly: true });
  });

  router.post('/v1/admin/delegations/revoke', auth, async (ctx) => {
    sendChange(ctx, await requestChange(services, requireActor(ctx), 'delegation.revoke', await readJsonObject(ctx, 16 * 1024)), { resultOnly: true });
  });

  const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
  const op = (tag: string, o: Record<string, unknown>) => ({ tags: [tag], security: [{ bearer: [] }], ...o });
  const badBody = { 400: problemResponse('The body is not JSON, or not an object.') };
  const delegation = {
    required: true,
    content: { 'application/json': { schema: { type: 'object', required: ['item', 'centre'], properties: { item: { type: 'string' }, centre: { type: 'string' } } }, example: { item: 'SCJG-0101', centre: 'dongcun' } } },
  };
  const delegationResponses = {
    ...changeResponses({ 200: json({ type: 'object', properties: { item: { type: 'string' }, centre: { type: 'string' }, delegated: { type: 'boolean' } } }, 'Carried out (break-glass)') }),
    ...badBody,
    404: problemResponse('No such item or centre.'),
    409: problemResponse('Nothing to change: the item is already (or not) delegated to the centre.'),
  };
  openapi.add({
    '/v1/items': {
      get: op('Items and centres', {
        operationId: 'listItems',
        summary: 'The item catalogue (事项目录) with each item\'s stamp profile',
        parameters: [{ name: 'department', in: 'query', required: false, schema: { type: 'string' }, example: '市场监管' }],
        responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }, 'The items'), 400: problemResponse('Bad query.'), ...ADMIN_PROBLEMS },
      }),
    },
    '/v1/items/import': {
      post: op('Items and centres', {
        operationId: 'importItems',
        summary: 'Import items (added or replaced by code): every row is checked, and one bad row changes nothing',
        description: 'Columns: code, name, department, seal, level (B-B…B-LTA), placement (anchor:TEXT, field:NAME, position:PAGE,X,Y in mm, invisible), certify (1-3), reasonTemplate (with {handling} and {item}; {department} optional), licenceType, overridable (placement|level|certify|straddle|contactInfo).',
        requestBody: {
          required: true,
          content: {
            'text/csv': { schema: { type: 'string' }, example: CSV_EXAMPLE },
            'application/json': { schema: { type: 'array', items: { type: 'object' } }, example: [{ code: 'SCJG-0101', name: '食品经营许可', department: '市场监管', seal: 'approval', placement: 'anchor:（盖章）', licenceType: 'food-business-licence' }] },
          },
        },
        responses: {
          200: json({ type: 'object', properties: { imported: { type: 'integer' }, items: { type: 'array', items: { type: 'object' } } } }, 'Imported'),
          400: problemResponse('The body could not be read.'),
          ...ADMIN_PROBLEMS,
          415: problemResponse('Neither text/csv nor application/json.'),
          422: problemResponse('Bad rows: `errors` lists each problem with its line and column; nothing was changed.'),
        },
      }),
    },
    '/v1/admin/centres': {
      get: op('Items and centres', { operationId: 'listCentres', summary: 'Service centres and the items delegated to each', responses: { 200: json({ type: 'object' }, 'The centres'), 400: problemResponse('Bad request.'), ...ADMIN_PROBLEMS } }),
      post: op('Items and centres', {
        operationId: 'addCentre',
        summary: 'Add a service centre (便民服务中心); it handles nothing until items are delegated to it',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['code', 'name'], properties: { code: { type: 'string' }, name: { type: 'string' } } }, example: { code: 'dongcun', name: '东村镇便民服务中心' } } } },
        responses: { 201: json({ type: 'object' }, 'Added'), ...badBody, ...ADMIN_PROBLEMS, 409: problemResponse('A centre with this code exists.'), 422: problemResponse('Bad code or name.') },
      }),
    },
    '/v1/admin/delegations': { post: op('Items and centres', { operationId: 'delegateItem', summary: 'Delegate an item to a centre (two-person control)', requestBody: delegation, responses: delegationResponses }) },
    '/v1/admin/delegations/revoke': { post: op('Items and centres', { operationId: 'undelegateItem', summary: 'Take an item back from a centre (two-person control); refused at once on approval', requestBody: delegation, responses: delegationResponses }) },
  });
};
