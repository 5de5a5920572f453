/**
 * How the signed QR code gets onto a licence whose hash it carries. The licence is rendered with the QR
 * square left blank and saved as the file's first revision; the payload's `pdf` is the SHA-256 of that
 * first revision (every byte up to and including the first "%%EOF" and the one end-of-line after it).
 * The QR code is then drawn by an incremental update (a second content stream on the page), and the seal's
 * certification signature and validation data follow as further updates, covering the QR code as well.
 * A verifier holding the issued PDF hashes its first revision and compares.
 */
import { deflateSync } from 'node:zlib';
import { PdfDict, PdfName, PdfStream, type PdfValue } from '../pdf/objects.js';
import { PdfReader } from '../pdf/reader.js';
import { IncrementalWriter } from '../pdf/writer.js';
import { qrContentStream } from './qr.js';
import type { PdfRect } from './render.js';

const EOF_MARK = Buffer.from('%%EOF', 'latin1');

/** The first revision as defined above; undefined when the file has no "%%EOF" at all. */
export function firstRevision(pdf: Uint8Array): Uint8Array | undefined {
  const at = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).indexOf(EOF_MARK);
  if (at < 0) return undefined;
  let end = at + EOF_MARK.length;
  if (pdf[end] === 0x0d) end++;
  if (pdf[end] === 0x0a) end++;
  return pdf.subarray(0, end);
}

/** `pdf` ending with an end-of-line after its %%EOF, so that it is exactly its own first revision once updates follow. */
export function withFinalEol(pdf: Uint8Array): Uint8Array {
  const last = pdf[pdf.length - 1];
  return last === 0x0a || last === 0x0d ? pdf : Buffer.concat([pdf, Buffer.from('\n')]);
}

/** Appends an incremental update drawing the QR code of `text` in `rect` (quiet zone included). */
export function addQrUpdate(pdf: Uint8Array, text: string, rect: PdfRect): Uint8Array {
  const reader = PdfReader.load(pdf);
  const page = reader.pages()[rect.page - 1];
  if (!page) throw new RangeError(`the licence has no page ${rect.page}`);
  const writer = new IncrementalWriter(reader);
  const content = Buffer.from(qrContentStream(text, rect.x, rect.y, rect.width, page.mediaBox[3] - page.mediaBox[1]), 'latin1');
  // Level 1: the rectangle list packs to a sixth of its size either way (1 KB more than level 6) in a quarter of the time.
  const stream = writer.add(new PdfStream(new PdfDict({ Filter: PdfName.of('FlateDecode') }), deflateSync(content, { level: 1 })));
  const existing = page.dict.get('Contents');
  const resolved = reader.resolve(existing);
  const contents: PdfValue[] = Array.isArray(resolved) ? [...resolved, stream] : existing ? [existing, stream] : [stream];
  writer.update(page.ref, page.dict.clone().set('Contents', contents));
  return Buffer.concat([pdf, writer.build().tail]);
}
