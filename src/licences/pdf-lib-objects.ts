/**
 * Objects built with src/pdf (the subset font of src/pdf/font.ts) added to a pdf-lib document, which
 * still lays out the licence page and embeds its photo.
 */
import { PDFArray, PDFBool, PDFDict, PDFHexString, PDFName, PDFNull, PDFNumber, PDFRawStream, PDFRef, type PDFContext, type PDFObject } from '@cantoo/pdf-lib';
import type { PdfAllocator } from '../pdf/font.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../pdf/objects.js';

function dictOf(context: PDFContext, d: PdfDict): PDFDict {
  const out = PDFDict.withContext(context);
  for (const [key, value] of d.entries()) out.set(PDFName.of(key), toPdfLib(context, value));
  return out;
}

function toPdfLib(context: PDFContext, v: PdfValue): PDFObject {
  if (v === null) return PDFNull;
  if (typeof v === 'boolean') return v ? PDFBool.True : PDFBool.False;
  if (typeof v === 'number') return PDFNumber.of(v);
  if (v instanceof PdfName) return PDFName.of(v.name);
  if (v instanceof PdfString) return PDFHexString.of(Buffer.from(v.bytes).toString('hex'));
  if (v instanceof PdfRef) return PDFRef.of(v.num, v.gen);
  if (v instanceof PdfDict) return dictOf(context, v);
  if (v instanceof PdfStream) return PDFRawStream.of(dictOf(context, v.dict), v.data);
  const array = PDFArray.withContext(context);
  for (const item of v) array.push(toPdfLib(context, item));
  return array;
}

/** Registers each object added as an indirect object of the pdf-lib document. */
export function pdfLibAllocator(context: PDFContext): PdfAllocator {
  return {
    add(value: PdfValue): PdfRef {
      const ref = context.register(toPdfLib(context, value));
      return new PdfRef(ref.objectNumber, ref.generationNumber);
    },
  };
}
