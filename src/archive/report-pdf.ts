/**
 * The printable validation report of one archived document: an A4 PDF in Chinese (with the English
 * beside it, as the CLI prints it), for the paper file of a case. Text only, in the CJK font the
 * licences use, subset into the file.
 */
import { readFileSync } from 'node:fs';
import { PDFDocument, rgb } from '@cantoo/pdf-lib';
import { pdfLibFontkit } from '../licences/fontkit-adapter.js';
import { wrapText } from '../licences/wrap.js';
import { DEFAULT_CJK_FONT } from '../pdf/font.js';
import type { Report } from '../verify/index.js';
import { textReport } from '../verify/text-report.js';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const SIZE = 9.5;
const LEADING = SIZE * 1.5;

export interface ReportHeading {
  /** e.g. "盖章文件 stamp 0f…" */
  title: string;
  lines: string[];
}

export async function reportPdf(heading: ReportHeading, file: string, report: Report, fontPath = DEFAULT_CJK_FONT): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(pdfLibFontkit);
  doc.setTitle(`验证报告 ${heading.title}`);
  doc.setProducer('OneSeal');
  const font = await doc.embedFont(readFileSync(fontPath), { subset: true });
  const width = A4[0] - 2 * MARGIN;
  const measure = (t: string): number => font.widthOfTextAtSize(t, SIZE);
  const body = [...heading.lines, '', ...textReport(file, report).split('\n')].flatMap((l) => (l === '' ? [''] : wrapText(l, width, measure)));
  let page = doc.addPage(A4);
  let y = A4[1] - MARGIN;
  page.drawText('电子文件验证报告 Validation report', { x: MARGIN, y, size: 16, font, color: rgb(0.55, 0, 0) });
  y -= 24;
  page.drawText(heading.title, { x: MARGIN, y, size: 11, font });
  y -= 22;
  for (const line of body) {
    if (y < MARGIN) {
      page = doc.addPage(A4);
      y = A4[1] - MARGIN;
    }
    if (line !== '') page.drawText(line, { x: MARGIN, y, size: SIZE, font });
    y -= LEADING;
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
