import { deflateSync, inflateSync } from 'node:zlib';
import { OneSealError } from '../errors.js';
import { PdfDict, PdfStream, name } from '../pdf/objects.js';
import { formatNumber } from '../pdf/serialize.js';
import { inkState } from './seal.js';
import { AppearanceTemplate, TemplateRecorder } from './template.js';

export interface DecodedPng {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB) colour samples per pixel, 8 bits each. */
  colors: 1 | 3;
  /** Colour samples, row-major, no filter bytes. */
  pixels: Uint8Array;
  /** One alpha sample per pixel, or undefined when the image has no alpha channel. */
  alpha?: Uint8Array;
}

/** Seal impressions are scans of a few centimetres; this bounds memory for hostile uploads. */
const MAX_PIXELS = 4096 * 4096;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Colour type → samples per pixel, for the types we take (8-bit, not palette).
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function bad(message: string, cause?: unknown): OneSealError {
  return new OneSealError('invalid-seal-image', 'unprocessable', message, { cause });
}

/** Undoes PNG filtering (types 0–4) in place over `raw` (rows prefixed by their filter byte). */
function unfilter(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x]!;
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[prev + x]! : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
      let p: number;
      switch (type) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >>> 1;
          break;
        case 4: {
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw bad(`the PNG has an unknown row filter type ${type}`);
      }
      out[row + x] = (v + p) & 0xff;
    }
  }
  return out;
}

/** Decodes an 8-bit, non-interlaced gray, gray+alpha, RGB or RGBA PNG. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw bad('the seal image is not a PNG file');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (data.length !== len) throw bad('the PNG file is truncated');
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8]!;
      colorType = data[9]!;
      if (depth !== 8 || CHANNELS[colorType] === undefined) {
        throw bad(
          `the seal PNG is ${depth}-bit ${colorType === 3 ? 'palette' : `colour type ${colorType}`}; save it as 8-bit RGBA (truecolour with alpha)`,
        );
      }
      if (data[12] !== 0) throw bad('the seal PNG is interlaced; save it without interlacing');
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) {
        throw bad(`the seal PNG is ${width}×${height} pixels; at most ${MAX_PIXELS} pixels are accepted`);
      }
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (colorType < 0 || idat.length === 0) throw bad('the PNG file has no image header or data');
  const channels = CHANNELS[colorType]!;
  const expected = height * (width * channels + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (e) {
    throw bad('the PNG image data is corrupt or larger than its header says', e);
  }
  if (raw.length !== expected) throw bad('the PNG image data is shorter than its header says');
  const all = unfilter(raw, width, height, channels);
  const hasAlpha = channels === 2 || channels === 4;
  const colors = hasAlpha ? ((channels - 1) as 1 | 3) : (channels as 1 | 3);
  if (!hasAlpha) return { width, height, colors, pixels: all };
  const pixels = new Uint8Array(width * height * colors);
  const alpha = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < width * height; i++) {
    for (let k = 0; k < colors; k++) pixels[i * colors + k] = all[j++]!;
    alpha[i] = all[j++]!;
  }
  return { width, height, colors, pixels, alpha };
}

function imageStream(width: number, height: number, colorSpace: 'DeviceRGB' | 'DeviceGray', data: Uint8Array): PdfStream {
  return new PdfStream(
    new PdfDict({
      Type: name('XObject'),
      Subtype: name('Image'),
      Width: width,
      Height: height,
      ColorSpace: name(colorSpace),
      BitsPerComponent: 8,
      Filter: name('FlateDecode'),
    }),
    deflateSync(data, { level: 9 }),
  );
}

export interface ImageSealSize {
  /** Width of the impression on the page, in points. */
  width: number;
  /** Height in points; by default from the image's aspect ratio. */
  height?: number;
}

/**
 * A registered seal impression (PNG with transparency) as a template: Image XObject with an
 * /SMask for the alpha channel, drawn by a Form XObject of the requested size.
 */
export function buildImageSealAppearance(png: Uint8Array, size: ImageSealSize): AppearanceTemplate {
  if (!(size.width > 0) || (size.height !== undefined && !(size.height > 0))) {
    throw new OneSealError('invalid-seal-spec', 'bad-request', 'the impression size must be positive', {
      fields: [{ field: 'size', message: 'width and height must be positive numbers of points' }],
    });
  }
  const img = decodePng(png);
  const w = size.width;
  const h = size.height ?? (size.width * img.height) / img.width;
  const rec = new TemplateRecorder();
  const image = imageStream(img.width, img.height, img.colors === 3 ? 'DeviceRGB' : 'DeviceGray', img.pixels);
  if (img.alpha && img.alpha.some((a) => a !== 255)) {
    image.dict.set('SMask', rec.add(imageStream(img.width, img.height, 'DeviceGray', img.alpha)));
  }
  const imageRef = rec.add(image);
  const content = `q /GS1 gs ${formatNumber(w)} 0 0 ${formatNumber(h)} 0 0 cm /Im1 Do Q\n`;
  const form = rec.add(
    new PdfStream(
      new PdfDict({
        Type: name('XObject'),
        Subtype: name('Form'),
        BBox: [0, 0, w, h],
        Resources: new PdfDict({ XObject: new PdfDict({ Im1: imageRef }), ExtGState: new PdfDict({ GS1: inkState() }) }),
        Filter: name('FlateDecode'),
      }),
      deflateSync(Buffer.from(content, 'latin1')),
    ),
  );
  return rec.finish(form, w, h);
}
