import zlib from 'node:zlib';
import { PdfError } from '../errors.js';
import { PdfDict, PdfName, PdfStream, type PdfValue } from './objects.js';
import type { PdfLimits } from './limits.js';

/** Follows an indirect reference; the reader supplies it so filters never see a PdfRef. */
export type Resolver = (v: PdfValue | undefined) => PdfValue | undefined;

function damaged(message: string): PdfError {
  return new PdfError('invalid-pdf', `The PDF is damaged: ${message}.`);
}

function tooLarge(limit: number): PdfError {
  return new PdfError(
    'pdf-limit',
    `A stream in the PDF decompresses to more than ${limit} bytes; OneSeal refuses it as a likely decompression bomb.`,
  );
}

/**
 * Decodes a stream's data through its /Filter chain. Every stage is capped at
 * `limits.maxDecodedStreamBytes`, so a few kilobytes of crafted Flate data cannot exhaust memory.
 */
export function decodeStreamData(stream: PdfStream, limits: PdfLimits, resolve: Resolver): Uint8Array {
  const filterValue = resolve(stream.dict.get('Filter'));
  const parmsValue = resolve(stream.dict.get('DecodeParms'));
  const filters = filterValue instanceof PdfName ? [filterValue] : Array.isArray(filterValue) ? filterValue : [];
  if (filters.length > limits.maxFilters) {
    throw new PdfError('pdf-limit', `A stream in the PDF has ${filters.length} filters; at most ${limits.maxFilters} are accepted.`);
  }
  let data = stream.data;
  filters.forEach((f, i) => {
    const filter = resolve(f);
    if (!(filter instanceof PdfName)) throw damaged('a stream /Filter is not a name');
    const p = resolve(Array.isArray(parmsValue) ? parmsValue[i] : i === 0 ? parmsValue : undefined);
    data = applyFilter(filter.name, data, p instanceof PdfDict ? p : undefined, limits.maxDecodedStreamBytes, resolve);
  });
  return data;
}

function applyFilter(
  filter: string,
  data: Uint8Array,
  parms: PdfDict | undefined,
  max: number,
  resolve: Resolver,
): Uint8Array {
  switch (filter) {
    case 'FlateDecode':
    case 'Fl':
      return predict(inflate(data, max), parms, resolve);
    case 'LZWDecode':
    case 'LZW': {
      const early = resolve(parms?.get('EarlyChange'));
      return predict(lzwDecode(data, max, early !== 0), parms, resolve);
    }
    case 'ASCIIHexDecode':
    case 'AHx':
      return asciiHexDecode(data);
    case 'ASCII85Decode':
    case 'A85':
      return ascii85Decode(data, max);
    case 'RunLengthDecode':
    case 'RL':
      return runLengthDecode(data, max);
    case 'Crypt': {
      // Only the Identity crypt filter can appear in a file we accept (encrypted files are refused).
      const n = resolve(parms?.get('Name'));
      if (n === undefined || (n instanceof PdfName && n.name === 'Identity')) return data;
      throw new PdfError('encrypted-pdf', 'The PDF has encrypted streams; remove the password protection and try again.');
    }
    default:
      throw new PdfError(
        'invalid-pdf',
        `The PDF uses the stream filter /${filter}, which OneSeal cannot decode where it needs to read the data.`,
      );
  }
}

function inflate(data: Uint8Array, max: number): Uint8Array {
  // Z_SYNC_FLUSH returns what a truncated stream holds instead of failing, as other readers do.
  const opts = { maxOutputLength: max, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    return zlib.inflateSync(data, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max);
    try {
      // Some writers emit raw deflate data without the zlib header.
      return zlib.inflateRawSync(data, opts);
    } catch (e2) {
      if ((e2 as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max);
      throw damaged('a Flate-compressed stream cannot be decompressed');
    }
  }
}

function intParm(parms: PdfDict | undefined, key: string, dflt: number, resolve: Resolver): number {
  const v = resolve(parms?.get(key));
  return typeof v === 'number' && Number.isInteger(v) ? v : dflt;
}

/** Undoes the TIFF (2) or PNG (≥ 10) predictor named in /DecodeParms. */
function predict(data: Uint8Array, parms: PdfDict | undefined, resolve: Resolver): Uint8Array {
  const predictor = intParm(parms, 'Predictor', 1, resolve);
  if (predictor <= 1) return data;
  const colors = intParm(parms, 'Colors', 1, resolve);
  const bpc = intParm(parms, 'BitsPerComponent', 8, resolve);
  const columns = intParm(parms, 'Columns', 1, resolve);
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bpc) || columns < 1 || columns > 1 << 24) {
    throw damaged('a stream has invalid predictor parameters');
  }
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) throw new PdfError('invalid-pdf', `The PDF uses a TIFF predictor with ${bpc}-bit components, which OneSeal does not support.`);
    const out = Uint8Array.from(data);
    for (let row = 0; row + rowLen <= out.length; row += rowLen) {
      for (let i = bpp; i < rowLen; i++) out[row + i] = (out[row + i]! + out[row + i - bpp]!) & 0xff;
    }
    return out;
  }
  if (predictor < 10) throw damaged(`a stream uses the unknown predictor ${predictor}`);
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = new Uint8Array(rows * rowLen);
  let prev = new Uint8Array(rowLen);
  for (let r = 0; r < rows; r++) {
    const src = r * (rowLen + 1);
    const type = data[src]!;
    const cur = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const x = data[src + 1 + i]!;
      const left = i >= bpp ? cur[i - bpp]! : 0;
      const up = prev[i]!;
      const upLeft = i >= bpp ? prev[i - bpp]! : 0;
      switch (type) {
        case 0: cur[i] = x; break;
        case 1: cur[i] = (x + left) & 0xff; break;
        case 2: cur[i] = (x + up) & 0xff; break;
        case 3: cur[i] = (x + ((left + up) >> 1)) & 0xff; break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left), pb = Math.abs(p - up), pc = Math.abs(p - upLeft);
          cur[i] = (x + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft)) & 0xff;
          break;
        }
        default:
          throw damaged(`a stream has an invalid PNG predictor row type ${type}`);
      }
    }
    prev = cur;
  }
  return out;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;

function asciiHexDecode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((data.length + 1) >> 1);
  let n = 0;
  let hi = -1;
  for (const c of data) {
    if (c === 0x3e /* > */) break;
    if (isWs(c)) continue;
    const v = HEX[c]!;
    if (v < 0) throw damaged('an ASCIIHex stream has an invalid character');
    if (hi < 0) hi = v;
    else {
      out[n++] = (hi << 4) | v;
      hi = -1;
    }
  }
  if (hi >= 0) out[n++] = hi << 4;
  return out.subarray(0, n);
}

function ascii85Decode(data: Uint8Array, max: number): Uint8Array {
  const out: number[] = [];
  const group: number[] = [];
  const flush = (count: number): void => {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 85 + (i < group.length ? group[i]! : 84);
    if (v > 0xffffffff) throw damaged('an ASCII85 stream has an invalid group');
    for (let i = 0; i < count; i++) out.push((v >>> (24 - 8 * i)) & 0xff);
    group.length = 0;
  };
  let i = 0;
  if (data[0] === 0x3c && data[1] === 0x7e) i = 2; // optional "<~"
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x7e /* ~ */) break;
    if (isWs(c)) continue;
    if (c === 0x7a /* z */ && group.length === 0) out.push(0, 0, 0, 0);
    else if (c >= 0x21 && c <= 0x75) {
      group.push(c - 0x21);
      if (group.length === 5) flush(4);
    } else throw damaged('an ASCII85 stream has an invalid character');
    if (out.length > max) throw tooLarge(max);
  }
  if (group.length === 1) throw damaged('an ASCII85 stream ends in a one-character group');
  if (group.length > 0) flush(group.length - 1);
  return Uint8Array.from(out);
}

function runLengthDecode(data: Uint8Array, max: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let i = 0;
  while (i < data.length) {
    const len = data[i++]!;
    if (len === 128) break;
    let chunk: Uint8Array;
    if (len < 128) {
      chunk = data.subarray(i, i + len + 1);
      i += len + 1;
    } else {
      chunk = new Uint8Array(257 - len).fill(data[i++] ?? 0);
    }
    total += chunk.length;
    if (total > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function lzwDecode(data: Uint8Array, max: number, earlyChange: boolean): Uint8Array {
  const out: number[] = [];
  let dict: number[][] = [];
  const reset = (): void => {
    dict = [];
    for (let i = 0; i < 256; i++) dict.push([i]);
    dict.push([], []); // 256 clear, 257 EOD
  };
  reset();
  let codeLen = 9;
  let bitBuf = 0;
  let bitCount = 0;
  let prev: number[] | undefined;
  for (let i = 0; i < data.length; ) {
    while (bitCount < codeLen && i < data.length) {
      bitBuf = ((bitBuf << 8) | data[i++]!) & 0xffffff;
      bitCount += 8;
    }
    if (bitCount < codeLen) break;
    const code = (bitBuf >>> (bitCount - codeLen)) & ((1 << codeLen) - 1);
    bitCount -= codeLen;
    if (code === 256) {
      reset();
      codeLen = 9;
      prev = undefined;
      continue;
    }
    if (code === 257) break;
    let entry: number[];
    if (code < dict.length) entry = dict[code]!;
    else if (code === dict.length && prev) entry = [...prev, prev[0]!];
    else throw damaged('an LZW stream has an invalid code');
    for (const b of entry) out.push(b);
    if (out.length > max) throw tooLarge(max);
    if (prev && dict.length < 4096) dict.push([...prev, entry[0]!]);
    prev = entry;
    const next = dict.length + (earlyChange ? 1 : 0);
    if (next >= 2048) codeLen = 12;
    else if (next >= 1024) codeLen = 11;
    else if (next >= 512) codeLen = 10;
  }
  return Uint8Array.from(out);
}
