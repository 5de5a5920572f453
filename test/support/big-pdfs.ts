/** Pathological but valid PDFs for the limits and isolation tests, written directly (pdf-lib takes minutes for 20,000 pages). */
import { craftPdf } from './pdfs.js';

/**
 * `pages` A4 pages sharing one content stream, flat page tree; `padding` more objects that nothing uses
 * (an object count without the pages); `filler` bytes of an unused stream (a big file that parses fast).
 */
export function manyPagesPdf(pages: number, opts: { padding?: number; filler?: number } = {}): Buffer {
  const content = '0 0 m 100 100 l S';
  const objects: Record<number, string | Buffer> = {
    1: '<< /Type /Catalog /Pages 2 0 R >>',
    3: `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  };
  const kids: string[] = [];
  for (let i = 0; i < pages; i++) {
    objects[4 + i] = '<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>';
    kids.push(`${4 + i} 0 R`);
  }
  objects[2] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} /MediaBox [0 0 595 842] >>`;
  let next = 4 + pages;
  for (let i = 0; i < (opts.padding ?? 0); i++) objects[next++] = 'null';
  if (opts.filler) {
    objects[next++] = Buffer.concat([Buffer.from(`<< /Length ${opts.filler} >>\nstream\n`), Buffer.alloc(opts.filler, 0x20), Buffer.from('\nendstream')]);
  }
  return craftPdf(objects);
}
