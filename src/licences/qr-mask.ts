/**
 * The QR symbol qrcode's `create` makes, with the mask it would choose, at a fraction of its cost.
 * qrcode chooses the mask by applying each of the 8 to its bit matrix through per-module method calls
 * and scoring each with four more passes of them: for a licence's signed payload (85×85 modules) that
 * was more than half of the whole encoding. Here the symbol is encoded once with mask 0, and the 8
 * candidates are scored on plain arrays with qrcode's own rules (mask-pattern.js: the same penalties,
 * the same order, the first lowest wins), so the chosen mask and every module stay exactly as before.
 */
import QRCode, { type BitMatrix, type QRCodeSegment } from 'qrcode';

type Level = 'L' | 'M' | 'Q' | 'H';

/** Whether mask `p` flips the module at (row, col): ISO/IEC 18004 table 10, as qrcode's getMaskAt. */
function flips(p: number, i: number, j: number): boolean {
  switch (p) {
    case 0: return (i + j) % 2 === 0;
    case 1: return i % 2 === 0;
    case 2: return j % 3 === 0;
    case 3: return (i + j) % 3 === 0;
    case 4: return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0;
    case 5: return ((i * j) % 2) + ((i * j) % 3) === 0;
    case 6: return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0;
    default: return (((i * j) % 3) + ((i + j) % 2)) % 2 === 0;
  }
}

/** The 15 format bits of a level (its 2-bit code) and mask: BCH(15,5) with the fixed XOR mask, as qrcode's format-info.js. */
function formatBits(levelBits: number, mask: number): number {
  const data = (levelBits << 3) | mask;
  let d = data << 10;
  const G15 = 0b10100110111;
  for (let bit = 14; bit >= 10; bit--) if (d & (1 << bit)) d ^= G15 << (bit - 10);
  return ((data << 10) | d) ^ 0b101010000010010;
}

/** Where format bit i goes, twice (qrcode's setupFormatInfo): the indexes into the row-major module array. */
function formatPositions(size: number): Array<[number, number]> {
  const at = (row: number, col: number): number => row * size + col;
  return Array.from({ length: 15 }, (_, i) => [
    i < 6 ? at(i, 8) : i < 8 ? at(i + 1, 8) : at(size - 15 + i, 8),
    i < 8 ? at(8, size - i - 1) : i < 9 ? at(8, 15 - i) : at(8, 15 - i - 1),
  ]);
}

/** 1 when n is 0, else 0 (for 0 ≤ n < 2³¹), without a branch: the modules are noise, so branches on them mispredict. */
const isZero = (n: number): number => (n - 1) >>> 31;

/**
 * qrcode's penalty (N1 + N2 + N3 + N4 of mask-pattern.js) of a row-major module array, in one pass
 * over the rows that keeps each column's run and last 11 modules in `columns` (3 entries per column).
 * N1 (runs of L ≥ 5 modules of one colour score L − 2) is summed as it goes: 3 when a run reaches 5,
 * 1 for each module after that.
 */
function penalty(m: Uint8Array, size: number, columns: Int32Array): number {
  columns.fill(0);
  let runs = 0;
  let patterns = 0;
  let blocks = 0;
  let dark = 0;
  for (let row = 0; row < size; row++) {
    let run = 0;
    let last = 2;
    let bits = 0;
    const at = row * size;
    for (let col = 0; col < size; col++) {
      const v = m[at + col]!;
      dark += v;
      // N1 along the row, then down the column (a column's last colour is kept as colour + 1, 0: none yet).
      run = run * isZero(v ^ last) + 1;
      last = v;
      runs += ((4 - run) >>> 31) + 2 * isZero(run ^ 5);
      const c = col * 3;
      const colRun = columns[c]! * isZero(columns[c + 1]! ^ (v + 1)) + 1;
      columns[c] = colRun;
      columns[c + 1] = v + 1;
      runs += ((4 - colRun) >>> 31) + 2 * isZero(colRun ^ 5);
      // N3: 1:1:3:1:1 with four light modules on one side, along the row and down the column.
      bits = ((bits << 1) & 0x7ff) | v;
      if (col >= 10 && (bits === 0x5d0 || bits === 0x05d)) patterns++;
      const colBits = ((columns[c + 2]! << 1) & 0x7ff) | v;
      columns[c + 2] = colBits;
      if (row >= 10 && (colBits === 0x5d0 || colBits === 0x05d)) patterns++;
      // N2: 2×2 blocks of one colour (a sum of 0 or 4), counted at their top-left module.
      if (row < size - 1 && col < size - 1) blocks += isZero((v + m[at + col + 1]! + m[at + size + col]! + m[at + size + col + 1]!) & 3);
    }
  }
  // N4: how far the share of dark modules is from half, in steps of 5 %.
  return runs + blocks * 3 + patterns * 40 + Math.abs(Math.ceil((dark * 100) / m.length / 5) - 10) * 10;
}

/** Per symbol size, the 8 masks as arrays (1: the mask flips that module), built once. */
const maskTables = new Map<number, Uint8Array[]>();

function masksOf(size: number): Uint8Array[] {
  let tables = maskTables.get(size);
  if (!tables) {
    tables = Array.from({ length: 8 }, (_, p) => {
      const t = new Uint8Array(size * size);
      for (let row = 0, i = 0; row < size; row++) for (let col = 0; col < size; col++, i++) t[i] = flips(p, row, col) ? 1 : 0;
      return t;
    });
    maskTables.set(size, tables);
  }
  return tables;
}

/** The modules under mask `p` (`base`: reserved modules as they are, data modules unmasked; `free`: 1 at data modules) with p's format bits, into `out`. */
function remasked(base: Uint8Array, free: Uint8Array, mask: Uint8Array, format: Array<[number, number]>, formatBitsOfP: number, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) out[i] = base[i]! ^ (mask[i]! & free[i]!);
  format.forEach(([a, b], i) => (out[a] = out[b] = (formatBitsOfP >> i) & 1));
}

/** `QRCode.create(data, { errorCorrectionLevel: level })`'s modules and mask, chosen as qrcode chooses them. */
export function createQr(data: string | QRCodeSegment[], level: Level): { modules: BitMatrix; maskPattern: number } {
  const symbol = QRCode.create(data, { errorCorrectionLevel: level, maskPattern: 0 });
  const { modules } = symbol;
  const size = modules.size;
  const masks = masksOf(size);
  const free = new Uint8Array(size * size);
  const base = new Uint8Array(size * size);
  for (let i = 0; i < base.length; i++) {
    free[i] = modules.reservedBit[i] ? 0 : 1;
    base[i] = modules.data[i]! ^ (masks[0]![i]! & free[i]!);
  }
  const format = formatPositions(size);
  const levelBits = symbol.errorCorrectionLevel.bit;
  const candidate = new Uint8Array(size * size);
  const columns = new Int32Array(size * 3);
  let best = 0;
  let lowest = Infinity;
  for (let p = 0; p < 8; p++) {
    remasked(base, free, masks[p]!, format, formatBits(levelBits, p), candidate);
    const score = penalty(candidate, size, columns);
    if (score < lowest) {
      lowest = score;
      best = p;
    }
  }
  if (best !== 0) {
    remasked(base, free, masks[best]!, format, formatBits(levelBits, best), candidate);
    modules.data.set(candidate);
  }
  return { modules, maskPattern: best };
}
