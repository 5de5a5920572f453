/**
 * POST /v1/stamp-batches: several documents of one case (一件事一次办) stamped as one unit — either
 * every document is stamped and recorded, or nothing is. GET /v1/stamp-batches/{id}: the batch record;
 * GET /v1/stamp-batches/{id}/zip: the same ZIP again (the client that made it, people whose role downloads stamped PDFs).
 */
import type { Context } from 'koa';
import { OneSealError, type FieldError } from '../../errors.js';
import type { Actor } from '../../access/actors.js';
import { loadRecordedBatch, stampBatchAndRecord, type RecordedBatch, type StampJob } from '../../stamping/record.js';
import { getStampBatch, listBatchStamps, type StampBatchRecord, type StampRecord } from '../../store/stamps.js';
import type { Services } from '../../services.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authorize, seesStamp } from '../../access/policy.js';
import { authenticate, requireActor } from '../auth.js';
import { problemResponse } from '../openapi.js';
import { checkSeals, handledStampOptions, idempotencyOf, readStampInput, requireStamper, withTimeout, type HandledStampOptions, type StampInput } from '../stamp-input.js';
import type { CommitGate } from '../../deadline.js';
import { zip } from '../../zip/write.js';
import { STAMP_OPTION_SCHEMA_PROPERTIES, commonProblems } from './stamp-docs.js';
import { stampViewFor } from './stamps.js';
import { UUID } from '../../store/ids.js';

export const MAX_BATCH_DOCUMENTS = 50;
const OVERRIDE = /^documents\[(\d+)\]\.(.+)$/;

const PLACEMENT_OPTIONS = new Set(['page', 'x', 'y', 'unit', 'anchor', 'field', 'invisible']);

/** Which way of placing the seal a set of options names, if any (`page` and `unit` alone only refine one). */
function placementKind(options: Record<string, string>): string | undefined {
  for (const kind of ['anchor', 'field', 'invisible'] as const) if (kind in options) return kind;
  return 'x' in options || 'y' in options ? 'position' : undefined;
}

/**
 * The options of document i: the shared ones, overridden by its `documents[i].<option>` fields. A
 * document that places its seal another way (an anchor where the batch gives coordinates, say) takes
 * none of the batch's placement options; one that only moves it (documents[2].x) keeps the rest.
 */
function documentOptions(shared: Record<string, string>, own: Record<string, string>): Record<string, string> {
  const ownKind = placementKind(own);
  const base = ownKind !== undefined && ownKind !== placementKind(shared)
    ? Object.fromEntries(Object.entries(shared).filter(([k]) => !PLACEMENT_OPTIONS.has(k)))
    : shared;
  return { ...base, ...own };
}

/**
 * Shared options apply to every document; `documents[i].<option>` fields override them for document i.
 * A problem every document shares is reported once under the shared option; any other names the
 * document by index and filename.
 */
async function batchOptions(ctx: Context, services: Services, input: StampInput): Promise<{ jobs: StampJob[]; caseNumber: string | null }> {
  const shared: Record<string, string> = {};
  const overrides = input.documents.map(() => ({}) as Record<string, string>);
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(input.fields)) {
    const m = OVERRIDE.exec(name);
    if (!m) shared[name] = value;
    else if (Number(m[1]) >= input.documents.length) errors.push({ field: name, message: `there is no document ${m[1]} (documents are numbered from 0)` });
    else if (m[2] === 'caseNumber') errors.push({ field: name, message: 'a batch is one case: give caseNumber once, for the whole batch' });
    else overrides[Number(m[1])]![m[2]!] = value;
  }
  const perDocument: FieldError[][] = [];
  const parsed: (HandledStampOptions | undefined)[] = [];
  for (const [i, override] of overrides.entries()) {
    try {
      parsed.push(await handledStampOptions(ctx, services, documentOptions(shared, override)));
    } catch (e) {
      // Refusals (an item not delegated, an option the item fixes) stand as they are; bad fields are gathered.
      if (!(e instanceof OneSealError) || !e.fields || e.kind !== 'bad-request') throw e;
      perDocument[i] = e.fields;
      parsed.push(undefined);
    }
  }
  const everywhere = (f: FieldError): boolean => input.documents.every((_, j) => perDocument[j]?.some((g) => g.field === f.field && g.message === f.message) && !(f.field in overrides[j]!));
  perDocument.forEach((fields, i) => {
    for (const f of fields ?? []) {
      const which = `document ${i}${input.documents[i]!.filename ? ` ("${input.documents[i]!.filename}")` : ''}`;
      const named = everywhere(f) ? f : { field: `documents[${i}].${f.field}`, message: `${which}: ${f.message}` };
      if (!errors.some((x) => x.field === named.field && x.message === named.message)) errors.push(named);
    }
  });
  if (errors.length) {
    throw new OneSealError('invalid-stamp-options', 'bad-request',
      `The batch options are invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}.`, { fields: errors });
  }
  const jobs = input.documents.map((doc, i) => ({ document: doc.data, filename: doc.filename, ...parsed[i]! }));
  return { jobs, caseNumber: jobs[0]?.caseNumber ?? null };
}

function entryName(index: number, filename: string | null): string {
  // Only the last path segment, so a hostile filename cannot climb out of the folder it is unpacked into.
  const base = (filename?.split(/[\\/]/).pop() || `document-${index}`).replace(/\.pdf$/i, '').replace(/[\u0000-\u001f]/g, '_');
  return `${String(index + 1).padStart(2, '0')}-${base}-stamped.pdf`;
}

/** The batch record as `actor` may see it: the case number is personal data like a stamp's (stampViewFor). */
function batchView(actor: Actor, batch: RecordedBatch['batch'], stamps: StampRecord[]) {
  const personal = seesStamp(actor, 'stamp.personal-data', batch);
  return {
    id: batch.id, clientId: batch.clientId, ...(personal ? { caseNumber: batch.caseNumber } : { personalData: 'masked' }), createdAt: batch.createdAt,
    documentCount: batch.documentCount, stamps: stamps.map((s) => stampViewFor(actor, s)),
  };
}

/** The batch's ZIP, as POST /v1/stamp-batches answers it and GET /v1/stamp-batches/{id}/zip gives it again. */
function sendBatch(ctx: Context, actor: Actor, result: RecordedBatch & { replayed: boolean }): void {
  const names = result.stamps.map((s, i) => entryName(i, s.record.filename));
  const manifest = {
    ...batchView(actor, result.batch, result.stamps.map((s) => s.record)),
    files: result.stamps.map((s, i) => ({ index: i, file: names[i], stampId: s.record.id, filename: s.record.filename, sha256: s.record.sha256Out })),
  };
  ctx.status = 200;
  ctx.type = 'application/zip';
  ctx.set('Stamp-Batch-Id', result.batch.id);
  ctx.set('Location', `/v1/stamp-batches/${result.batch.id}`);
  ctx.set('Content-Disposition', `attachment; filename="batch-${result.batch.id}.zip"`);
  if (result.replayed) ctx.set('Idempotent-Replayed', 'true');
  ctx.body = zip([
    ...result.stamps.map((s, i) => ({ name: names[i]!, data: s.pdf })),
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2)) },
  ], new Date(result.batch.createdAt));
}

export const registerStampBatchRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.post('/v1/stamp-batches', auth, async (ctx) => {
    const client = requireStamper(ctx);
    const idempotency = idempotencyOf(ctx, services);
    const work = async (gate: CommitGate) => {
      const input = await readStampInput(ctx, services, { maxDocuments: MAX_BATCH_DOCUMENTS });
      const { jobs, caseNumber } = await batchOptions(ctx, services, input);
      await checkSeals(ctx, services, jobs.map((j) => j.request.sealId));
      return stampBatchAndRecord(services, client, jobs, caseNumber, idempotency, gate);
    };
    sendBatch(ctx, client, await withTimeout(services.config.requestTimeoutMs, work));
  });

  /** The batch if the caller may do `action` on it; 404 otherwise, so other clients' batch ids reveal nothing. */
  async function visibleBatch(actor: Actor, id: string, action: 'stamp.read' | 'stamp.pdf'): Promise<StampBatchRecord> {
    authorize(actor, action);
    const batch = UUID.test(id) ? await getStampBatch(services.store.db, id) : undefined;
    if (!batch || !seesStamp(actor, action, batch)) {
      throw new OneSealError('batch-not-found', 'not-found', `There is no stamp batch "${id}" among yours.`);
    }
    return batch;
  }

  router.get('/v1/stamp-batches/:id', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const batch = await visibleBatch(actor, ctx.params.id!, 'stamp.read');
    ctx.body = batchView(actor, batch, await listBatchStamps(services.store.db, batch.id));
  });

  router.get('/v1/stamp-batches/:id/zip', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const batch = await visibleBatch(actor, ctx.params.id!, 'stamp.pdf');
    // Each stored PDF is checked against the SHA-256 it was recorded with as it is read.
    sendBatch(ctx, actor, { ...(await loadRecordedBatch(services, batch.id)), replayed: false });
  });

  openapi.add({
    '/v1/stamp-batches': {
      post: {
        operationId: 'createStampBatch',
        summary: 'Stamp several documents of one case as one unit',
        description:
          `Up to ${MAX_BATCH_DOCUMENTS} PDFs, each in a multipart file part named \`document\` (in order; they are numbered from 0). Option fields apply to every document; `
          + 'a field named `documents[i].<option>` overrides one option for document i (e.g. `documents[1].anchor`); a document placed another way (anchor, field or coordinates) than the batch takes none of the batch\'s placement options. `caseNumber` is given once for the whole batch. '
          + 'Every problem that is not the whole batch\'s names the document: `documents[i].<option>` and, in the message, its index and filename. '
          + 'Either every document is stamped and recorded, or none is: if one cannot be stamped the answer is 422 naming the document (index and filename) and why, and nothing is recorded. '
          + 'The answer is a ZIP (STORE method, so each PDF is byte for byte what was signed) holding the stamped PDFs, named `NN-<filename>-stamped.pdf`, and `manifest.json` '
          + '(the batch record: stamp ids, file names, SHA-256). ZIP rather than multipart/mixed because approval systems and the people behind them can save, archive and open a ZIP '
          + 'with standard tools and every language\'s standard library, whereas multipart/mixed responses need a parser most HTTP clients lack. Idempotency-Key works as for POST /v1/stamps.',
        security: [{ bearer: [] }],
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 128 } }],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['document'],
                properties: {
                  document: { type: 'array', items: { type: 'string', contentMediaType: 'application/pdf' }, maxItems: MAX_BATCH_DOCUMENTS },
                  ...STAMP_OPTION_SCHEMA_PROPERTIES,
                },
                additionalProperties: { type: 'string', description: 'documents[i].<option>: an option for document i only.' },
              },
              example: { document: ['(the bytes of 01-decision.pdf)', '(the bytes of 02-notice.pdf)'], seal: 'approval', anchor: '（盖章）', 'documents[1].page': '2' },
            },
          },
        },
        responses: {
          200: {
            description: 'A ZIP of the stamped PDFs and manifest.json.',
            headers: {
              'Stamp-Batch-Id': { schema: { type: 'string', format: 'uuid' } },
              Location: { schema: { type: 'string' }, description: '/v1/stamp-batches/{id}' },
            },
            content: { 'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } } },
          },
          ...commonProblems,
          404: problemResponse('A seal named does not exist.'),
          409: problemResponse('A request with this Idempotency-Key is still running.'),
          422: problemResponse('A document cannot be stamped: `documentIndex`, `filename` and `reason` say which and why; nothing was recorded.'),
        },
      },
    },
    '/v1/stamp-batches/{id}': {
      get: {
        operationId: 'getStampBatch',
        summary: 'The record of a stamp batch and its stamps',
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: {
          200: {
            description: 'The batch.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' }, clientId: { type: 'string' }, caseNumber: { type: ['string', 'null'] }, createdAt: { type: 'string' },
                    documentCount: { type: 'integer' }, stamps: { type: 'array', items: { $ref: '#/components/schemas/Stamp' } },
                  },
                },
              },
            },
          },
          401: commonProblems[401],
          404: problemResponse('No such batch among yours.'),
        },
      },
    },
    '/v1/stamp-batches/{id}/zip': {
      get: {
        operationId: 'getStampBatchZip',
        summary: 'Download a stamp batch\'s ZIP again',
        description: 'The stored PDFs (each checked against its recorded SHA-256) and manifest.json, as POST /v1/stamp-batches answered them. The client that made the batch, and people whose role may download stamped PDFs (stamp.pdf: auditors).',
        security: [{ bearer: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, example: '5b0e8a3c-2f1d-4c6e-9a7b-8d9e0f1a2b3c' }],
        responses: {
          200: {
            description: 'The ZIP (STORE method): NN-<filename>-stamped.pdf for each document, and manifest.json.',
            headers: { 'Stamp-Batch-Id': { schema: { type: 'string', format: 'uuid' } } },
            content: { 'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } } },
          },
          401: commonProblems[401],
          403: problemResponse('The caller may not download stamped PDFs (stamp.pdf); the problem names the role or scope.'),
          404: problemResponse('No such batch among yours.'),
        },
      },
    },
  });
};

