/**
 * One file from a multipart/form-data body (RFC 7578), for plain HTML upload forms that must work
 * without JavaScript. The body is read whole under the caller's size limit first (src/api/body.ts).
 */
import type { Context } from 'koa';
import { OneSealError } from '../errors.js';
import { readBody } from './body.js';

function badForm(message: string): OneSealError {
  return new OneSealError('invalid-form', 'bad-request', message);
}

/** The content of the part named `field`; throws OneSealError 400 when the form has no such file. */
export async function readMultipartFile(ctx: Context, options: { limit: number; field: string }): Promise<Buffer> {
  const boundary = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(ctx.get('Content-Type'));
  const body = await readBody(ctx, { limit: options.limit, types: ['multipart/form-data'] });
  if (!boundary) throw badForm('The multipart/form-data body names no boundary.');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`, 'latin1');
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const partStart = start + delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break;
    const headerEnd = body.indexOf('\r\n\r\n', partStart);
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), partStart);
    if (headerEnd < 0 || next < 0 || headerEnd > next) throw badForm('The multipart/form-data body is cut off or malformed.');
    const headers = body.subarray(partStart, headerEnd).toString('utf8');
    const disposition = /^content-disposition:\s*form-data;([^\r\n]*)/im.exec(headers)?.[1] ?? '';
    if (/(?:^|;)\s*name="([^"]*)"/.exec(disposition)?.[1] === options.field) return body.subarray(headerEnd + 4, next);
    start = next + 2;
  }
  throw badForm(`The form has no "${options.field}" file; choose a file and send the form again.`);
}
