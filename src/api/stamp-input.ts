/**
 * Reads what a stamp request carries: the PDF(s) and the option fields, from multipart/form-data or
 * from an application/pdf body with the options in the query string. Checks the caller may use the
 * seals named, before any signing work starts.
 */
import type { Context } from 'koa';
import { runWithDeadline, type CommitGate } from '../deadline.js';
import { OneSealError } from '../errors.js';
import type { Services } from '../services.js';
import type { ClientActor } from '../access/actors.js';
import { authorize, authorizeSeal } from '../access/policy.js';
import { requireActor } from './auth.js';
import { readBody } from './body.js';
import { readFormData } from './form-data.js';
import { resolveHandling, withProfile } from '../items/handling.js';
import { IDEMPOTENCY_KEY } from '../stamping/idempotency.js';
import { parseStampOptions, type StampOptions } from './stamp-options.js';
import type { IdempotencyOption } from '../stamping/record.js';

export interface UploadedDocument {
  data: Buffer;
  filename: string | null;
}

export interface StampInput {
  documents: UploadedDocument[];
  fields: Record<string, string>;
}

const DOCUMENT_FIELD = 'document';

function badField(field: string, message: string): OneSealError {
  return new OneSealError('invalid-stamp-request', 'bad-request', `${field}: ${message}.`, { fields: [{ field, message }] });
}

export async function readStampInput(ctx: Context, services: Services, opts: { maxDocuments: number }): Promise<StampInput> {
  const limit = services.config.maxUploadBytes;
  if (ctx.is('multipart/form-data')) {
    const parts = await readFormData(ctx, { limit, maxParts: opts.maxDocuments * 20 + 20 });
    const documents: UploadedDocument[] = [];
    const fields: Record<string, string> = {};
    for (const part of parts) {
      if (part.name === DOCUMENT_FIELD) {
        if (documents.length >= opts.maxDocuments) {
          throw badField(DOCUMENT_FIELD, opts.maxDocuments === 1 ? 'send one document per request (POST /v1/stamp-batches takes several)' : `at most ${opts.maxDocuments} documents per batch`);
        }
        documents.push({ data: part.data, filename: part.filename ?? null });
      } else if (part.filename !== undefined) {
        throw badField(part.name, `is a file; the only file part is "${DOCUMENT_FIELD}"`);
      } else if (part.name in fields) {
        throw badField(part.name, 'is given more than once');
      } else {
        fields[part.name] = part.data.toString('utf8');
      }
    }
    if (documents.length === 0) throw badField(DOCUMENT_FIELD, 'required: the PDF to stamp, as a file part');
    return { documents, fields };
  }
  if (opts.maxDocuments > 1 || !ctx.is('application/pdf')) {
    const given = ctx.get('Content-Type') ? `, not ${ctx.get('Content-Type')}` : '';
    throw new OneSealError('unsupported-media-type', 'unsupported-media', opts.maxDocuments > 1
      ? `Send a batch as multipart/form-data with one "document" file part per PDF${given}.`
      : `Send multipart/form-data (the PDF in the file part "document", options as fields) or an application/pdf body (options in the query string)${given}.`);
  }
  const data = await readBody(ctx, { limit, types: ['application/pdf'] });
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (Array.isArray(value)) throw badField(name, 'is given more than once');
    if (value !== undefined) fields[name] = value;
  }
  return { documents: [{ data, filename: null }], fields };
}

/** 403 for a seal the client was not granted (without saying whether it exists), 404 for an unknown one. */
export async function checkSeals(ctx: Context, services: Services, sealIds: Iterable<string>): Promise<void> {
  for (const sealId of new Set(sealIds)) {
    authorizeSeal(requireActor(ctx), 'stamp.create', sealId);
    if (!(await sealExists(services, sealId))) {
      throw new OneSealError('seal-not-found', 'not-found', `There is no seal "${sealId}"; GET /v1/seals lists the seals you may use.`,
        { fields: [{ field: 'seal', message: `no seal "${sealId}"` }] });
    }
  }
}

/**
 * Asks the stamper's short-lived cache of signing material, which the stamp reads next anyway: one
 * database read per request less. Seals are never deleted, so a seal found there still exists. Other
 * failures of the material (no active version, key missing) are the stamp's to report, as before.
 */
async function sealExists(services: Services, sealId: string): Promise<boolean> {
  try {
    await services.stamper.materialOf(sealId);
    return true;
  } catch (e) {
    return !(e instanceof OneSealError && e.code === 'seal-not-found');
  }
}

/** The stamping client (the policy allows stamping to the stamps scope only). */
export function requireStamper(ctx: Context): ClientActor {
  const actor = requireActor(ctx);
  authorize(actor, 'stamp.create');
  return actor as ClientActor;
}

/** The only seal granted to the client, used when a request names none. */
export function defaultSeal(ctx: Context): string | undefined {
  const client = requireStamper(ctx);
  return client.seals.length === 1 ? client.seals[0] : undefined;
}

/** What a stamp job records about who handled it. */
export interface HandledStampOptions extends StampOptions {
  department: string | null;
  centreCode: string | null;
}

/**
 * One document's options: with an item named, the caller's right to handle it checked (403 for a
 * centre's client naming none, or one not delegated to its centre) and the item's profile applied.
 */
export async function handledStampOptions(ctx: Context, services: Services, raw: Record<string, string>): Promise<HandledStampOptions> {
  const itemCode = raw.itemCode?.trim() || null;
  const handling = await resolveHandling(services.store.db, requireStamper(ctx), itemCode, 'stamp');
  const options = parseStampOptions(handling ? withProfile(raw, handling) : raw, { defaultSeal: defaultSeal(ctx) });
  return { ...options, department: handling?.item.department ?? null, centreCode: handling?.centre?.code ?? null };
}

/** The request's Idempotency-Key, if any; a repeat waits for the first request up to the request time-out. */
export function idempotencyOf(ctx: Context, services: Services): IdempotencyOption | undefined {
  const key = ctx.get('Idempotency-Key');
  if (!key) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw badField('Idempotency-Key', 'must be 1 to 128 visible ASCII characters (a UUID is a good choice)');
  }
  return { key, waitMs: services.config.requestTimeoutMs };
}

/**
 * Runs `work` with the request time-out. On time-out the client gets 503 at once and the work is
 * cancelled: it stops at its next check (a signature already inside the HSM finishes, unused) and is
 * never recorded. A retry with the same Idempotency-Key then does the work afresh.
 */
export function withTimeout<T>(ms: number, work: (gate: CommitGate) => Promise<T>): Promise<T> {
  return runWithDeadline(ms, work, () => new OneSealError('request-timeout', 'timeout',
    `The request took longer than ${Math.round(ms / 1000)} s and was cancelled: nothing was stamped or recorded. `
    + 'Retry (with the same Idempotency-Key, if you sent one) to do it again.',
    { retryAfter: 5, extra: { outcome: 'cancelled' } }));
}
