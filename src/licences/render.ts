/**
 * Renders a licence as an unsigned one-page PDF from its type's layout: a framed page with the title,
 * the fields as label–value rows (wrapped, shrunk to fit when long), the issuer block at the bottom right
 * with a square reserved for the seal over it, and the verification QR code with the licence identifier at
 * the bottom left. The seal and signature are added later by incremental update, so the file is saved
 * without object streams.
 */
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFRawStream, PDFRef, rgb, type PDFPage, type RGB } from '@cantoo/pdf-lib';
import { OneSealError, type FieldError } from '../errors.js';
import { DEFAULT_CJK_FONT, SubsetFont } from '../pdf/font.js';
import { formatNumber } from '../pdf/serialize.js';
import { MM } from '../stamp/units.js';
import { formatChineseDate, parseIsoDate } from '../standards/date.js';
import { parseLicenceId } from '../standards/licence-id.js';
import { decodeImageField } from './image-field.js';
import { pdfLibAllocator } from './pdf-lib-objects.js';
import { drawQrCode, qrQuietZone } from './qr.js';
import type { FieldDef, LicenceType } from './types.js';
import { assertValidLicenceData, type LicenceData } from './validate.js';
import { wrapText } from './wrap.js';

/** A rectangle in PDF user space (points, origin at the lower left); `page` counts from 1 as in src/stamp. */
export interface PdfRect {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LicenceRenderInput {
  type: LicenceType;
  /** Field values; validated against the type here. */
  data: unknown;
  /** GB/T 36904 identifier; its type code must be the type's and its issuer `issuer.creditCode`. */
  licenceId: string;
  issuer: { name: string; creditCode: string };
  /** Issue date, YYYY-MM-DD; printed under the issuer's name. */
  issuedOn: string;
  /** Where the public verification page lives, e.g. https://licences.example.gov.cn */
  publicBaseUrl: string;
  /** What the QR code encodes (default: the verification URL); with reserveQr, text of the final length, for the layout. */
  qrText?: string;
}

export interface LicenceRenderOptions {
  /** A single-face TrueType font covering the text (default: the Arphic Song face). */
  fontPath?: string;
  /** Creation date written into the document information (default: now). */
  now?: Date;
  /** Leave the QR square blank: the signed QR code is added by an incremental update (src/licences/qr-update.ts). */
  reserveQr?: boolean;
}

export interface RenderedLicence {
  pdf: Uint8Array;
  /** The square reserved for the seal, over the issuer's name and issue date. */
  sealRect: PdfRect;
  /** The QR code including its quiet zone. */
  qrRect: PdfRect;
  /** What the QR code encodes. */
  verificationUrl: string;
}

const INK = rgb(0.08, 0.08, 0.08);
const LABEL_INK = rgb(0.3, 0.3, 0.3);
const FRAME_INK = rgb(0.48, 0.15, 0.1);
/** Long values may shrink the body text down to this share of the type's font size before we give up. */
const MIN_SHRINK = 0.7;

/** The public page a licence's QR code leads to. */
export function verificationUrl(publicBaseUrl: string, licenceId: string): string {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OneSealError('invalid-public-url', 'internal', `the public base URL "${publicBaseUrl}" must be an http(s) URL`);
  }
  return `${publicBaseUrl.replace(/\/+$/, '')}/v/${licenceId}`;
}

/** Rejects text the font cannot draw, before anything is laid out: missing glyphs would print as blanks. */
function checkGlyphs(font: SubsetFont, type: LicenceType, data: LicenceData, issuerName: string): void {
  const fields: FieldError[] = [];
  const note = (field: string, text: string): void => {
    const missing = font.missing(text);
    if (missing.length > 0) fields.push({ field, message: `the licence font has no glyph for ${missing.map((c) => `“${c}”`).join(', ')}` });
  };
  for (const def of type.fields) if (def.kind !== 'image' && data[def.name]) note(def.name, data[def.name]!);
  note('issuer.name', issuerName);
  const fixed = [type.title.zh, type.title.en, type.layout.issuerLabel.zh, ...type.fields.map((f) => f.label.zh)].join('');
  if (font.missing(fixed).length > 0) {
    throw new OneSealError('font-missing-glyphs', 'internal', `the licence font cannot draw the ${type.id} labels: ${font.missing(fixed).join('')}`);
  }
  if (fields.length > 0) {
    throw new OneSealError('font-missing-glyphs', 'unprocessable', 'some characters cannot be printed with the licence font; use other characters', { fields });
  }
}

function checkInput(input: LicenceRenderInput): void {
  const id = parseLicenceId(input.licenceId);
  if (id.typeCode !== input.type.typeCode) {
    throw new OneSealError('licence-id-mismatch', 'internal', `licence ${input.licenceId} has type code ${id.typeCode}, not ${input.type.typeCode} (${input.type.id})`);
  }
  if (id.issuer !== input.issuer.creditCode) {
    throw new OneSealError('licence-id-mismatch', 'internal', `licence ${input.licenceId} names issuer ${id.issuer}, not ${input.issuer.creditCode}`);
  }
  if (!parseIsoDate(input.issuedOn)) {
    throw new OneSealError('invalid-licence-data', 'unprocessable', `the issue date "${input.issuedOn}" is not a real date written YYYY-MM-DD`, {
      fields: [{ field: 'issuedOn', message: 'must be a real date written YYYY-MM-DD' }],
    });
  }
  if (!input.issuer.name.trim()) throw new OneSealError('invalid-licence-data', 'unprocessable', 'the issuer needs a name to print on the licence');
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface Text {
  text: string;
  x: number;
  y: number;
  size: number;
  color: RGB;
}

interface Row {
  def: FieldDef;
  lines: string[];
}

/** A field value as printed: dates in the customary form 2025年01月10日 (the data keeps YYYY-MM-DD). */
function printed(def: FieldDef, value: string): string {
  const date = def.kind === 'date' || def.kind === 'date-or-long-term' ? parseIsoDate(value) : undefined;
  return date ? formatChineseDate(date) : value;
}

/**
 * Lays out the columns at the largest size (down to MIN_SHRINK of the type's) at which all rows fit the body.
 * The bottom band is not level (the QR code and the seal block differ in height): each column reaches down to
 * the highest of `floors` under it, else to the body's bottom.
 */
function layoutColumns(type: LicenceType, data: LicenceData, width: (text: string, size: number) => number, body: Box, floors: Box[]): Text[] {
  const { columns, fontSize } = type.layout;
  const defs = new Map(type.fields.map((f) => [f.name, f]));
  const gap = fontSize * 2;
  const colWidth = (body.x1 - body.x0 - gap * (columns.length - 1)) / columns.length;
  const heights = columns.map((_, i) => {
    const x0 = body.x0 + i * (colWidth + gap);
    const under = floors.filter((b) => b.x0 < x0 + colWidth && b.x1 > x0).map((b) => b.y1);
    return body.y1 - (under.length > 0 ? Math.max(...under) : body.y0);
  });

  for (let size = fontSize; size >= fontSize * MIN_SHRINK - 1e-9; size *= 0.94) {
    const s = size;
    const lineHeight = s * 1.45;
    const measure = (t: string): number => width(t, s);
    const laid = columns.map((names) => {
      const labelWidth = Math.max(...names.map((n) => measure(defs.get(n)!.label.zh))) + s * 1.2;
      const rows: Row[] = names.map((n) => {
        const value = printed(defs.get(n)!, data[n] ?? '');
        return { def: defs.get(n)!, lines: value === '' ? [''] : wrapText(value, colWidth - labelWidth, measure) };
      });
      const lineCount = rows.reduce((a, r) => a + r.lines.length, 0);
      return { labelWidth, rows, natural: lineCount * lineHeight + (rows.length - 1) * s * 0.6 };
    });
    if (laid.some((c, i) => c.natural > heights[i]!)) continue;

    const texts: Text[] = [];
    laid.forEach((col, i) => {
      const x = body.x0 + i * (colWidth + gap);
      // Spread short columns down the body a little, as printed licences do, but keep rows together.
      const rowGap = s * 0.6 + Math.min(s * 1.1, (heights[i]! - col.natural) / Math.max(1, col.rows.length - 1));
      let y = body.y1 - s * 0.9;
      for (const row of col.rows) {
        texts.push({ text: row.def.label.zh, x, y, size: s, color: LABEL_INK });
        row.lines.forEach((line, k) => texts.push({ text: line, x: x + col.labelWidth, y: y - k * lineHeight, size: s, color: INK }));
        y -= row.lines.length * lineHeight + rowGap;
      }
    });
    return texts;
  }
  const longest = type.fields.filter((f) => f.kind !== 'image').sort((a, b) => (data[b.name] ?? '').length - (data[a.name] ?? '').length)[0]!;
  throw new OneSealError('licence-layout-overflow', 'unprocessable', `the ${type.title.en.toLowerCase()} fields do not fit on one page; shorten the longest values`, {
    fields: [{ field: longest.name, message: `${longest.label.zh} (${longest.label.en}) is too long to fit on the licence` }],
  });
}

function drawFrame(page: PDFPage, box: Box, inset: number): void {
  const rect = (b: Box, thickness: number): void =>
    page.drawRectangle({ x: b.x0, y: b.y0, width: b.x1 - b.x0, height: b.y1 - b.y0, borderColor: FRAME_INK, borderWidth: thickness });
  rect(box, 1.6);
  rect({ x0: box.x0 + inset, y0: box.y0 + inset, x1: box.x1 - inset, y1: box.y1 - inset }, 0.5);
}

async function drawPhoto(doc: PDFDocument, page: PDFPage, value: string | undefined, box: Box): Promise<void> {
  page.drawRectangle({ x: box.x0, y: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0, borderColor: LABEL_INK, borderWidth: 0.4 });
  if (!value) return;
  const decoded = decodeImageField(value);
  if (typeof decoded === 'string') return; // unreachable: validated before layout
  const image = decoded.format === 'png' ? await doc.embedPng(decoded.bytes) : await doc.embedJpg(decoded.bytes);
  const scale = Math.min((box.x1 - box.x0) / image.width, (box.y1 - box.y0) / image.height);
  const [w, h] = [image.width * scale, image.height * scale];
  page.drawImage(image, { x: (box.x0 + box.x1 - w) / 2, y: (box.y0 + box.y1 - h) / 2, width: w, height: h });
}

/** The texts in one content stream of their own, in the subset font (the only font on the page, /F1). */
async function drawTexts(doc: PDFDocument, page: PDFPage, font: SubsetFont, texts: Text[]): Promise<void> {
  const n = formatNumber;
  const ops = ['BT'];
  for (const t of texts) {
    const { hex } = font.encode(t.text);
    ops.push(`/F1 ${n(t.size)} Tf`, `${n(t.color.red)} ${n(t.color.green)} ${n(t.color.blue)} rg`, `1 0 0 1 ${n(t.x)} ${n(t.y)} Tm`, `<${hex}> Tj`);
  }
  ops.push('ET', '');
  const fontRef = await font.buildObjects(pdfLibAllocator(doc.context));
  page.node.setFontDictionary(PDFName.of('F1'), PDFRef.of(fontRef.num, fontRef.gen));
  const content = PDFRawStream.of(doc.context.obj({ Filter: 'FlateDecode' }), deflateSync(Buffer.from(ops.join('\n'), 'latin1')));
  page.node.addContentStream(doc.context.register(content));
}

/** Renders `input` to an unsigned PDF; throws OneSealError 422 with per-field problems for bad data. */
export async function renderLicence(input: LicenceRenderInput, options: LicenceRenderOptions = {}): Promise<RenderedLicence> {
  const { type, issuer } = input;
  assertValidLicenceData(type, input.data);
  const data = input.data;
  checkInput(input);
  // Measuring costs no subsetting; only the text drawn (encoded below) goes into the embedded subset.
  const font = SubsetFont.load(options.fontPath ?? DEFAULT_CJK_FONT);
  checkGlyphs(font, type, data, issuer.name);
  const url = verificationUrl(input.publicBaseUrl, input.licenceId);
  const layout = type.layout;

  const doc = await PDFDocument.create();
  const [W, H] = [layout.page.width * MM, layout.page.height * MM];
  const page = doc.addPage([W, H]);
  const width = (t: string, s: number): number => font.widthOf(t, s);
  const texts: Text[] = [];
  const f = layout.fontSize;

  const m = layout.margin * MM;
  const frameInset = 1.5 * MM;
  drawFrame(page, { x0: m, y0: m, x1: W - m, y1: H - m }, frameInset);
  const pad = m + frameInset + 0.035 * Math.min(W, H);
  const content: Box = { x0: pad, y0: pad, x1: W - pad, y1: H - pad };

  // Title and English subtitle, centred.
  const T = Math.min(layout.titleSize, (content.x1 - content.x0) / width(type.title.zh, 1));
  const titleY = content.y1 - T * 0.9;
  texts.push({ text: type.title.zh, x: (W - width(type.title.zh, T)) / 2, y: titleY, size: T, color: INK });
  const S = Math.min(Math.max(6.5, T * 0.28), (content.x1 - content.x0) / width(type.title.en.toUpperCase(), 1));
  const subtitle = type.title.en.toUpperCase();
  const subtitleY = titleY - T * 0.3 - S * 1.1;
  texts.push({ text: subtitle, x: (W - width(subtitle, S)) / 2, y: subtitleY, size: S, color: LABEL_INK });

  // Bottom right: issuer label, name and date, with the seal square centred over them, all clear of the QR code.
  const sealSize = layout.seal.size * MM;
  const qrSize = layout.qr.size * MM;
  const blockRight = content.x1 - f;
  const issuerRoom = blockRight - (content.x0 + qrSize + f);
  const issuerLines: Array<[string, number, RGB]> = [
    [layout.issuerLabel.zh, f * 0.9, LABEL_INK],
    [issuer.name, f, INK],
    [formatChineseDate(parseIsoDate(input.issuedOn)!), f, INK],
  ];
  const shrink = Math.min(1, issuerRoom / Math.max(...issuerLines.map(([t, s]) => width(t, s))));
  if (shrink < MIN_SHRINK) {
    throw new OneSealError('issuer-name-too-long', 'unprocessable', `the issuer name "${issuer.name}" is too long to print on a ${type.title.en.toLowerCase()}`, {
      fields: [{ field: 'issuer.name', message: 'too long to fit beside the QR code; use a shorter form of the name' }],
    });
  }
  for (const line of issuerLines) line[1] *= shrink;
  const blockWidth = Math.max(...issuerLines.map(([t, s]) => width(t, s)));
  const blockHeight = issuerLines.reduce((a, [, s]) => a + s * 1.6, 0);
  const sealX = Math.max(content.x0 + qrSize + f, Math.min(blockRight - blockWidth / 2 - sealSize / 2, content.x1 - sealSize));
  const sealRect: PdfRect = { page: 1, x: sealX, y: content.y0, width: sealSize, height: sealSize };
  let lineY = content.y0 + sealSize / 2 + blockHeight / 2;
  for (const [text, s, color] of issuerLines) {
    lineY -= s * 1.6;
    texts.push({ text, x: blockRight - width(text, s), y: lineY + s * 0.45, size: s, color });
  }

  // Bottom left: the QR code with the identifier printed under it, kept clear of the seal square.
  const idRoom = sealRect.x - content.x0 - f;
  const idSize = Math.min(f * 0.65, idRoom / width(input.licenceId, 1));
  const qrRect: PdfRect = { page: 1, x: content.x0, y: content.y0 + idSize * 1.8, width: qrSize, height: qrSize };
  const qrText = input.qrText ?? url;
  const quietZone = options.reserveQr ? qrQuietZone(qrText, qrRect.x, qrRect.y, qrSize, H) : drawQrCode(page, qrText, qrRect.x, qrRect.y, qrSize).quietZone;
  // Start the identifier under the symbol's left edge when the room allows.
  const idX = content.x0 + Math.max(0, Math.min(quietZone, idRoom - width(input.licenceId, idSize)));
  texts.push({ text: input.licenceId, x: idX, y: content.y0 + idSize * 0.3, size: idSize, color: INK });

  // The body between the subtitle and the bottom band; the photo takes its top right corner.
  const body: Box = {
    x0: content.x0,
    y0: Math.max(qrRect.y + qrSize, sealRect.y + sealSize) + f * 0.8,
    x1: content.x1,
    y1: subtitleY - S - f * 1.2,
  };
  if (layout.photo) {
    const photo: Box = { x0: content.x1 - layout.photo.width * MM, y0: body.y1 - layout.photo.height * MM, x1: content.x1, y1: body.y1 };
    if (photo.y0 < body.y0) throw new OneSealError('licence-type-invalid', 'internal', `the ${type.id} photo box does not fit above the bottom band`);
    await drawPhoto(doc, page, data[layout.photo.field], photo);
    body.x1 = photo.x0 - f * 1.5;
  }
  const floors: Box[] = [
    { x0: content.x0, y0: content.y0, x1: content.x0 + qrSize, y1: qrRect.y + qrSize + f * 0.8 },
    { x0: Math.min(sealX, blockRight - blockWidth), y0: content.y0, x1: content.x1, y1: sealRect.y + sealSize + f * 0.8 },
  ];
  texts.push(...layoutColumns(type, data, width, body, floors));
  await drawTexts(doc, page, font, texts);

  doc.setTitle(`${type.title.zh} ${input.licenceId}`);
  doc.setSubject(input.licenceId);
  doc.setAuthor(issuer.name);
  doc.setCreator('OneSeal');
  doc.setProducer('OneSeal');
  doc.setLanguage('zh-CN');
  const now = options.now ?? new Date();
  doc.setCreationDate(now);
  doc.setModificationDate(now);
  const pdf = await doc.save({ useObjectStreams: false });
  return { pdf, sealRect, qrRect, verificationUrl: url };
}
