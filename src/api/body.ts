import type { Context } from 'koa';
import { OneSealError } from '../errors.js';

export interface BodyOptions {
  /** Bytes. */
  limit: number;
  /** Accepted media types, e.g. ['application/pdf']; checked before reading. */
  types: string[];
}

export function tooLarge(limit: number): OneSealError {
  const mb = limit / (1024 * 1024);
  return new OneSealError('body-too-large', 'too-large', `The request body is over the ${Number.isInteger(mb) ? `${mb} MB` : `${limit}-byte`} limit.`, {
    extra: { limitBytes: limit },
  });
}

/**
 * Feeds the request body to `onChunk` with a hard size limit: refused up front when Content-Length says
 * it is too big, and cut off while streaming when a chunked body grows past the limit (memory stays
 * bounded either way). A client that hangs up mid-body makes the socket fail with ECONNRESET ("aborted"),
 * the code a lost database connection has too: it leaves as `client-aborted`, counted and logged as the
 * client's doing, never mistaken for an outage.
 */
export async function streamBody(ctx: Context, limit: number, onChunk: (chunk: Buffer) => void): Promise<number> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  if (declared > limit) throw tooLarge(limit);
  let size = 0;
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        // Stop reading; the connection closes after the response so the rest is never buffered.
        ctx.set('Connection', 'close');
        throw tooLarge(limit);
      }
      onChunk(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof OneSealError || ctx.req.complete) throw e;
    throw new OneSealError('client-aborted', 'bad-request', 'The client closed the connection before the request body was complete.', { cause: e });
  }
  return size;
}

/** Reads the raw body of one of `types`, up to `limit` bytes (streamBody). */
export async function readBody(ctx: Context, { limit, types }: BodyOptions): Promise<Buffer> {
  if (!ctx.is(types)) {
    throw new OneSealError('unsupported-media-type', 'unsupported-media',
      `Send the body as ${types.join(' or ')}${ctx.get('Content-Type') ? `, not ${ctx.get('Content-Type')}` : ' with a Content-Type header'}.`);
  }
  const chunks: Buffer[] = [];
  const size = await streamBody(ctx, limit, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks, size);
}

export async function readJson(ctx: Context, limit: number, types: readonly string[] = ['application/json']): Promise<unknown> {
  const body = await readBody(ctx, { limit, types: [...types] });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new OneSealError('invalid-json', 'bad-request', `The body is not valid JSON: ${(e as Error).message}`);
  }
}

/** A JSON object body; `optional`: no body at all reads as {} (e.g. an approval without a digest). */
export async function readJsonObject(ctx: Context, limit: number, options: { optional?: boolean } = {}): Promise<Record<string, unknown>> {
  if (options.optional && !ctx.get('Content-Type') && !Number(ctx.get('Content-Length'))) return {};
  const body = await readJson(ctx, limit);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OneSealError('invalid-json', 'bad-request', 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}
