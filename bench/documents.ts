/**
 * The benchmark's documents: the one-page LibreOffice approval letter from fixtures/, and generated
 * 100-page and ~50 MB documents (the large one carries an incompressible image, as scans do).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { findPackageRoot } from '../src/package-root.js';

export interface BenchDocument {
  name: string;
  bytes: Buffer;
  path: string;
}

async function manyPages(pages: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Approval file, page ${i} of ${pages}`, { x: 72, y: 770, size: 14, font });
    for (let l = 0; l < 40; l++) page.drawText(`Line ${l} of the case record on page ${i}.`, { x: 72, y: 740 - l * 16, size: 10, font });
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** A ~`mb` MB PDF: one page showing a large raw image (random bytes do not compress, like scanned paper). */
async function large(mb: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const side = Math.floor(Math.sqrt((mb * 1024 * 1024) / 3));
  const image = doc.context.stream(randomBytes(side * side * 3), {
    Type: 'XObject',
    Subtype: 'Image',
    Width: side,
    Height: side,
    ColorSpace: 'DeviceRGB',
    BitsPerComponent: 8,
  });
  const imageRef = doc.context.register(image);
  const page = doc.addPage([595, 842]);
  page.node.setXObject(doc.context.obj('Im1') as never, imageRef);
  const content = doc.context.stream('q 500 0 0 500 47 171 cm /Im1 Do Q');
  page.node.set(doc.context.obj('Contents') as never, doc.context.register(content));
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

export async function benchDocuments(dir: string): Promise<BenchDocument[]> {
  const letter = readFileSync(join(findPackageRoot(), 'fixtures', 'approval-letter.pdf'));
  const docs: [string, Buffer][] = [
    ['1 page', letter],
    ['100 pages', await manyPages(100)],
    ['50 MB', await large(50)],
  ];
  return docs.map(([name, bytes]) => {
    const path = join(dir, `${name.replace(/\W+/g, '-')}.pdf`);
    writeFileSync(path, bytes);
    return { name, bytes, path };
  });
}
