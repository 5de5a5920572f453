/**
 * POST /v1/stamps (stamp one PDF), GET /v1/stamps/{id} (its record), GET /v1/stamps/{id}/pdf (the
 * stored output). A client sees only its own stamps; auditors and operators read every record.
 */
import type { Context } from 'koa';
import { OneSealError } from '../../errors.js';
import type { Services } from '../../services.js';
import { newestDocument } from '../../archive/documents.js';
import { stampAndRecord, type RecordedStamp } from '../../stamping/record.js';
import { getStampView, type StampRecord, type StampView } from '../../store/stamps.js';
import type { ServiceRouteRegistrar } from '../app.js';
import type { Actor } from '../../access/actors.js';
import { seesStamp, authorize } from '../../access/policy.js';
import { authenticate, requireActor } from '../auth.js';
import { problemResponse } from '../openapi.js';
import { STAMP_OPTION_NAMES } from '../stamp-options.js';
import { checkSeals, handledStampOptions, idempotencyOf, readStampInput, requireStamper, withTimeout } from '../stamp-input.js';
import type { CommitGate } from '../../deadline.js';
import { STAMP_OPTION_SCHEMA_PROPERTIES, STAMP_SCHEMAS, commonProblems } from './stamp-docs.js';
import { UUID } from '../../store/ids.js';

export function stampView(s: StampView | (StampRecord & { clientName?: string })) {
  return {
    id: s.id,
    client: { id: s.clientId, ...(s.clientName ? { name: s.clientName } : {}) },
    createdAt: s.createdAt,
    seal: { id: s.sealId, version: s.sealVersion, certSerial: s.certSerial },
    sha256: { before: s.sha256In, after: s.sha256Out },
    level: s.level,
    placement: s.placement,
    caseNumber: s.caseNumber,
    itemCode: s.itemCode,
    department: s.department,
    centre: s.centreCode,
    filename: s.filename,
    batchId: s.batchId,
    pdfUrl: `/v1/stamps/${s.id}/pdf`,
  };
}

/**
 * The record as this actor may see it: without stamp.personal-data (operators) the file name and case
 * number, which name applicants, are left out and `personalData: "masked"` says so.
 */
export function stampViewFor(actor: Actor, s: StampView | StampRecord) {
  const view = stampView(s);
  if (seesStamp(actor, 'stamp.personal-data', s)) return view;
  const { caseNumber: _case, filename: _file, ...rest } = view;
  return { ...rest, personalData: 'masked' as const };
}

/** The stamp if the caller may see it; 404 otherwise, so ids of other clients' stamps reveal nothing. */
export async function visibleStamp(actor: Actor, services: Services, id: string, action: 'stamp.read' | 'stamp.pdf'): Promise<StampView> {
  authorize(actor, action);
  const stamp = UUID.test(id) ? await getStampView(services.store.db, id) : undefined;
  if (!stamp || !seesStamp(actor, action, stamp)) {
    throw new OneSealError('stamp-not-found', 'not-found', `There is no stamp "${id}" among your stamps.`);
  }
  return stamp;
}

function downloadName(filename: string | null, id: string): string {
  const base = (filename ?? id).replace(/\.pdf$/i, '');
  return `${base}-stamped.pdf`;
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The stored output of a stamp in its newest copy — long-term renewals (src/archive) append validation
 * data and time-stamps to it (the caller checked stamp.pdf); 404 when it was not kept.
 */
export async function storedPdf(services: Services, stamp: StampView): Promise<Buffer> {
  if (!stamp.outputPath) throw new OneSealError('stamp-output-not-kept', 'not-found', `The output of stamp "${stamp.id}" was not kept.`);
  // The read connection: a download (its PDF may be a row) never queues behind the commits of stamps in flight.
  return (await newestDocument({ db: services.store.reads, dataDir: services.config.dataDir }, 'stamp', stamp.id)).pdf;
}

export async function sendStoredPdf(ctx: Context, services: Services, stamp: StampView): Promise<void> {
  const pdf = await storedPdf(services, stamp);
  ctx.type = 'application/pdf';
  ctx.set('Stamp-Id', stamp.id);
  ctx.set('Content-Disposition', contentDisposition(downloadName(stamp.filename, stamp.id)));
  ctx.body = pdf;
}

export function sendStampedPdf(ctx: Context, stamp: RecordedStamp, replayed: boolean): void {
  ctx.status = 200;
  ctx.type = 'application/pdf';
  ctx.set('Stamp-Id', stamp.record.id);
  ctx.set('Location', `/v1/stamps/${stamp.record.id}`);
  ctx.set('Content-Disposition', contentDisposition(downloadName(stamp.record.filename, stamp.record.id)));
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
  ctx.body = stamp.pdf;
}

export const registerStampRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.post('/v1/stamps', auth, async (ctx) => {
    const client = requireStamper(ctx);
    const idempotency = idempotencyOf(ctx, services);
    const work = async (gate: CommitGate) => {
      const input = await readStampInput(ctx, services, { maxDocuments: 1 });
      const options = await handledStampOptions(ctx, services, input.fields);
      await checkSeals(ctx, services, [options.request.sealId]);
      const [doc] = input.documents;
      return stampAndRecord(services, client, { document: doc!.data, filename: doc!.filename, ...options }, idempotency, gate);
    };
    const result = await withTimeout(services.config.requestTimeoutMs, work);
    sendStampedPdf(ctx, result, result.replayed);
  });

  router.get('/v1/stamps/:id', auth, async (ctx) => {
    const actor = requireActor(ctx);
    ctx.body = stampViewFor(actor, await visibleStamp(actor, services, ctx.params.id!, 'stamp.read'));
  });

  router.get('/v1/stamps/:id/pdf', auth, async (ctx) => {
    await sendStoredPdf(ctx, services, await visibleStamp(requireActor(ctx), services, ctx.params.id!, 'stamp.pdf'));
  });

  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
  openapi.add({
    '/v1/stamps': {
      post: {
        operationId: 'createStamp',
        summary: 'Stamp (seal and sign) one PDF',
        description:
          'Places the seal visibly (by page and coordinates, on a text anchor, into an existing empty signature field, or invisibly) and adds a PAdES signature made in the HSM. '
          + 'Send multipart/form-data with the PDF in the file part `document` and the options as form fields, or the PDF as an application/pdf body with the options in the query string. '
          + 'Unknown options are refused (a typo must not silently stamp in the wrong place). The stamp is recorded, with an audit entry, in the same transaction that makes it final. '
          + 'With an Idempotency-Key, a repeat of the same request (same document bytes and options) returns the same stamp and byte-identical PDF without signing again; the same key with a different request is refused with 422; '
          + 'a repeat while the first request still runs waits for its result.',
        security: [{ bearer: [] }],
        parameters: [
          { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 128 }, description: 'Makes retries safe: one stamp per key and client.' },
          ...STAMP_OPTION_NAMES.map((name) => ({ name, in: 'query', required: false, schema: STAMP_OPTION_SCHEMA_PROPERTIES[name], description: 'With an application/pdf body only.' })),
        ],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['document'],
                properties: { document: { type: 'string', contentMediaType: 'application/pdf', description: 'The PDF to stamp.' }, ...STAMP_OPTION_SCHEMA_PROPERTIES },
              },
              encoding: { document: { contentType: 'application/pdf' } },
              example: { document: '(the bytes of letter.pdf)', seal: 'approval', anchor: '（盖章）', level: 'B-T' },
            },
            'application/pdf': {
              schema: { type: 'string', contentMediaType: 'application/pdf' },
              example: '(the bytes of letter.pdf; options in the query: ?seal=approval&page=1&x=150&y=60)',
            },
          },
        },
        responses: {
          200: {
            description: 'The stamped, signed PDF.',
            headers: {
              'Stamp-Id': { schema: { type: 'string', format: 'uuid' }, description: 'The id of the recorded stamp.' },
              Location: { schema: { type: 'string' }, description: '/v1/stamps/{id}: the stamp record.' },
              'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] }, description: 'Present when this is the stored result of an earlier request with the same Idempotency-Key.' },
            },
            content: { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } },
          },
          ...commonProblems,
          404: problemResponse('The seal does not exist (the problem names it), or the document has no such signature field.'),
          409: problemResponse(
            'A request with this Idempotency-Key is still running (retry with the same key); or the document is certified and does not allow this seal (no changes allowed, or the seal would cover its text: place it beside the text or sign invisibly).',
          ),
          422: problemResponse('The document cannot be stamped (broken or encrypted PDF, anchor text not found, page out of range), or the Idempotency-Key was used for a different request.'),
        },
      },
    },
    '/v1/stamps/{id}': {
      get: {
        operationId: 'getStamp',
        summary: 'The record of a stamp',
        description: 'Who asked and when, the seal and its version, the signing certificate serial, the SHA-256 of the document before and after, the level, the placement, case number and item code. Clients see their own stamps; auditors and operators every record, operators without the file name and case number (`personalData: "masked"`).',
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          200: { description: 'The stamp record.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Stamp' } } } },
          401: commonProblems[401],
          404: problemResponse('No such stamp among yours.'),
        },
      },
    },
    '/v1/stamps/{id}/pdf': {
      get: {
        operationId: 'getStampPdf',
        summary: 'The stamped PDF as it was returned',
        security: [{ bearer: [] }],
        parameters: [idParam],
        responses: {
          200: { description: 'The stored output, byte for byte.', content: { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } } },
          401: commonProblems[401],
          404: problemResponse('No such stamp among yours.'),
        },
      },
    },
  }, STAMP_SCHEMAS);
};
