/**
 * What one stamp request may ask of the service, checked from the cross-reference data and the page
 * tree's root alone, before any page is read or any appearance built: a document over a limit is
 * refused at once instead of occupying a worker for seconds.
 */
import { OneSealError } from '../errors.js';
import { PdfDict } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';

export interface DocumentLimits {
  /** Pages one document may have. */
  maxPages: number;
  /** Pages a 骑缝章 may span: every page gets its own clipped slice and annotation. */
  maxStraddlePages: number;
  /** Objects (cross-reference entries) one document may have. */
  maxObjects: number;
}

/** A 42 mm seal over 500 sheets is already slices a tenth of a millimetre wide. */
export const DEFAULT_DOCUMENT_LIMITS: Readonly<DocumentLimits> = Object.freeze({ maxPages: 10_000, maxStraddlePages: 500, maxObjects: 2_000_000 });

/** The page count the page tree's root declares (a liar is caught later, when the pages are counted). */
export function declaredPageCount(reader: PdfReader): number {
  const root = reader.resolve(reader.catalog().get('Pages'));
  const count = root instanceof PdfDict ? reader.resolve(root.get('Count')) : undefined;
  return typeof count === 'number' && Number.isFinite(count) && count > 0 ? Math.floor(count) : 0;
}

/** Throws 413 (document over a size limit) or 422 (a paging seal over too many pages). */
export function checkDocumentLimits(limits: DocumentLimits, doc: { objects: number; pages: number }, straddle: boolean): void {
  if (doc.objects > limits.maxObjects) {
    throw new OneSealError('document-too-many-objects', 'too-large',
      `The document has ${doc.objects} objects; at most ${limits.maxObjects} are accepted.`,
      { extra: { objects: doc.objects, limit: limits.maxObjects } });
  }
  if (doc.pages > limits.maxPages) {
    throw new OneSealError('document-too-many-pages', 'too-large',
      `The document has ${doc.pages} pages; at most ${limits.maxPages} are accepted.`,
      { extra: { pages: doc.pages, limit: limits.maxPages } });
  }
  if (straddle && doc.pages > limits.maxStraddlePages) {
    throw new OneSealError('straddle-too-many-pages', 'unprocessable',
      `A paging seal (骑缝章) can span at most ${limits.maxStraddlePages} pages; this document has ${doc.pages}. Split the document, or stamp it without straddle.`,
      { fields: [{ field: 'straddle', message: `at most ${limits.maxStraddlePages} pages` }], extra: { pages: doc.pages, limit: limits.maxStraddlePages } });
  }
}
