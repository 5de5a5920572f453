/**
 * A small streaming multipart/form-data reader (RFC 7578). It parses the request as it arrives and
 * counts raw bytes, so an over-size upload is refused as soon as it crosses the limit instead of
 * after it has been buffered. Parts are returned whole (a PDF must be complete before it is signed).
 */
import type { Context } from 'koa';
import { OneSealError } from '../errors.js';
import { streamBody } from './body.js';

export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export interface FormDataLimits {
  /** Whole body, bytes. */
  limit: number;
  /** Parts without a filename (option fields), bytes each. */
  fieldLimit?: number;
  maxParts?: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 8 * 1024;

function bad(message: string): OneSealError {
  return new OneSealError('invalid-multipart', 'bad-request', `The multipart/form-data body is malformed: ${message}.`);
}

export function multipartBoundary(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw bad('the Content-Type header has no boundary parameter');
  return boundary;
}

type PartHeaders = Omit<FormPart, 'data'>;

function parsePartHeaders(raw: string): PartHeaders {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of raw.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(`a part header line "${line.slice(0, 60)}" has no name`);
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') disposition = value;
    else if (key === 'content-type') contentType = value;
  }
  if (!disposition || !/^form-data\b/i.test(disposition)) throw bad('a part has no "Content-Disposition: form-data" header');
  const param = (p: string) => {
    const m = new RegExp(`;\\s*${p}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(disposition!) ?? new RegExp(`;\\s*${p}=([^;\\s"]+)`, 'i').exec(disposition!);
    return m?.[1]?.replace(/\\(.)/g, '$1');
  };
  const name = param('name');
  if (!name) throw bad('a part has no name in its Content-Disposition');
  const filename = param('filename');
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) };
}

/**
 * Parses chunks as they come: `pending` holds only the bytes that might still be the start of a
 * delimiter; everything before it is committed to the current part.
 */
export class FormDataParser {
  private readonly delimiter: Buffer;
  // A leading CRLF lets the first delimiter (which has none) be found like every other one.
  private pending: Buffer = Buffer.from(CRLF);
  private state: 'preamble' | 'headers' | 'body' | 'done' = 'preamble';
  private current: { headers: PartHeaders; chunks: Buffer[]; size: number } | undefined;
  private readonly parts: FormPart[] = [];

  constructor(boundary: string, private readonly limits: Required<Omit<FormDataLimits, 'limit'>>) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  write(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.state === 'done') {
        this.pending = Buffer.alloc(0); // the epilogue is ignored
        return;
      }
      if (this.state === 'headers') {
        const end = this.pending.indexOf(HEADER_END);
        if (end < 0) {
          if (this.pending.length > MAX_HEADER_BYTES) throw bad('a part\'s headers are over 8 KB');
          return;
        }
        if (this.parts.length >= this.limits.maxParts) throw bad(`more than ${this.limits.maxParts} parts`);
        this.current = { headers: parsePartHeaders(this.pending.subarray(0, end).toString('utf8')), chunks: [], size: 0 };
        this.pending = this.pending.subarray(end + HEADER_END.length);
        this.state = 'body';
        continue;
      }
      const at = this.pending.indexOf(this.delimiter);
      if (at < 0) {
        // Keep what could be the first bytes of a delimiter split across chunks.
        const cut = Math.max(0, this.pending.length - (this.delimiter.length - 1));
        this.commit(this.pending.subarray(0, cut));
        this.pending = this.pending.subarray(cut);
        return;
      }
      this.commit(this.pending.subarray(0, at));
      const after = at + this.delimiter.length;
      if (this.pending.length < after + 2) {
        this.pending = this.pending.subarray(at);
        return;
      }
      if (this.state === 'body') {
        const { headers, chunks, size } = this.current!;
        this.parts.push({ ...headers, data: Buffer.concat(chunks, size) });
        this.current = undefined;
      }
      const next = this.pending.subarray(after, after + 2);
      if (next.toString('latin1') === '--') this.state = 'done';
      else if (next.equals(CRLF)) this.state = 'headers';
      else throw bad('a boundary is followed by neither CRLF nor "--"');
      this.pending = this.pending.subarray(after + 2);
    }
  }

  /** Bytes before a delimiter: part content in a body, ignored in the preamble. */
  private commit(bytes: Buffer): void {
    if (this.state !== 'body' || bytes.length === 0) return;
    const part = this.current!;
    if (part.headers.filename === undefined && part.size + bytes.length > this.limits.fieldLimit) {
      throw new OneSealError('field-too-large', 'too-large', `The form field "${part.headers.name}" is over ${this.limits.fieldLimit} bytes.`,
        { fields: [{ field: part.headers.name, message: `over ${this.limits.fieldLimit} bytes` }] });
    }
    part.chunks.push(Buffer.from(bytes)); // a copy: `pending` is a view that is about to be dropped
    part.size += bytes.length;
  }

  end(): FormPart[] {
    if (this.state !== 'done') throw bad('the body ends before the closing boundary');
    return this.parts;
  }
}

/** Reads a multipart/form-data request body, enforcing the size limit while it streams in. */
export async function readFormData(ctx: Context, limits: FormDataLimits): Promise<FormPart[]> {
  const parser = new FormDataParser(multipartBoundary(ctx.get('Content-Type')), {
    fieldLimit: limits.fieldLimit ?? 64 * 1024,
    maxParts: limits.maxParts ?? 200,
  });
  await streamBody(ctx, limits.limit, (chunk) => parser.write(chunk));
  return parser.end();
}
