/**
 * One file from a multipart/form-data body (RFC 7578), for upload forms and single-document
 * endpoints; parsing and limits are the streaming parser's (form-data.ts).
 */
import type { Context } from 'koa';
import { OneSealError } from '../errors.js';
import { readFormData } from './form-data.js';

/**
 * The content of the part named `field` (or, failing that, one of `alsoAccepted`: older names kept
 * working); throws OneSealError 400 when the form has none of them.
 */
export async function readMultipartFile(ctx: Context, options: { limit: number; field: string; alsoAccepted?: readonly string[] }): Promise<Buffer> {
  const parts = await readFormData(ctx, { limit: options.limit, maxParts: 20 });
  const part = [options.field, ...(options.alsoAccepted ?? [])].map((name) => parts.find((p) => p.name === name)).find(Boolean);
  if (!part) throw new OneSealError('invalid-form', 'bad-request', `The form has no "${options.field}" file; choose a file and send the form again.`);
  return part.data;
}
