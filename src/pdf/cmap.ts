import { PdfName, PdfString, isName, type PdfValue } from './objects.js';
import { DAMAGED, PdfKeyword, PdfParser } from './parser.js';

/** A byte-length class of codes: codes of `bytes` bytes from `low` to `high`. */
interface CodespaceRange {
  bytes: number;
  low: number;
  high: number;
}

/**
 * Ranges of integer keys with a value each, looked up in O(log n): hostile fonts can carry
 * hundreds of thousands of ranges and pages can draw as many glyphs. When ranges overlap (broken
 * maps), the one starting last wins, as in a linear scan from the end.
 */
export class RangeTable<T> {
  private items: { lo: number; hi: number; value: T }[] = [];
  private sorted = true;
  /** maxHi[i]: the highest `hi` among items[0..i], so a lookup knows when to stop walking back. */
  private maxHi: number[] = [];

  add(lo: number, hi: number, value: T): void {
    if (hi < lo) return;
    this.items.push({ lo, hi, value });
    this.sorted = false;
  }

  find(k: number): { lo: number; value: T } | undefined {
    if (!this.sorted) {
      this.items.sort((a, b) => a.lo - b.lo);
      let m = -Infinity;
      this.maxHi = this.items.map((r) => (m = Math.max(m, r.hi)));
      this.sorted = true;
    }
    let a = 0;
    let b = this.items.length - 1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (this.items[mid]!.lo <= k) a = mid + 1;
      else b = mid - 1;
    }
    for (let i = b; i >= 0 && this.maxHi[i]! >= k; i--) {
      if (this.items[i]!.hi >= k) return this.items[i];
    }
    return undefined;
  }
}

/** Caps the work a hostile CMap can cause; real ones have a few thousand entries at most. */
const MAX_ENTRIES = 200_000;
/** Real CMaps have a handful of codespace ranges; each is tried for every code. */
const MAX_CODESPACES = 64;

const SECTIONS = new Set(['begincodespacerange', 'beginbfchar', 'beginbfrange', 'begincidchar', 'begincidrange']);

/** Codes of 1–4 bytes are keyed with their length so <0041> and <41> stay distinct. */
const key = (code: number, bytes: number): number => bytes * 0x1_0000_0000 + code;

function codeOf(s: PdfString): number {
  let c = 0;
  for (const b of s.bytes.subarray(0, 4)) c = c * 256 + b;
  return c;
}

function utf16(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

/**
 * A CMap as embedded in PDFs: a /ToUnicode map (bfchar/bfrange: code → text) or an embedded
 * /Encoding CMap of a composite font (cidchar/cidrange: code → CID). Both carry codespace ranges,
 * which tell how a string of bytes splits into codes.
 */
export class CMap {
  readonly codespaces: CodespaceRange[] = [];
  private readonly chars = new Map<number, string>();
  /** bfrange: the text for the range's first code (or one text per code). */
  private readonly ranges = new RangeTable<string | string[]>();
  private readonly cids = new Map<number, number>();
  private readonly cidRanges = new RangeTable<number>();
  /** A `usecmap` parent, when its name was resolvable (only the Identity CMaps are). */
  private identityParent = false;
  /** 1 for vertical writing ("/WMode 1 def"). */
  wmode = 0;

  /** Parses a CMap program. Unknown or damaged parts are skipped: a partial map still helps. */
  static parse(data: Uint8Array): CMap {
    const cmap = new CMap();
    const p = new PdfParser(data);
    const stack: PdfValue[] = [];
    let entries = 0;
    while (!p.atEnd && entries < MAX_ENTRIES) {
      const v = p.parseTolerant();
      if (v === DAMAGED) continue;
      if (!(v instanceof PdfKeyword)) {
        if (stack.length < 8) stack.push(v);
        else stack.splice(0, stack.length, v);
        continue;
      }
      const word = v.word;
      if (word === 'usecmap') {
        const parent = stack[stack.length - 1];
        if (parent instanceof PdfName && /^Identity-[HV]$/.test(parent.name)) cmap.identityParent = true;
      } else if (word === 'def' && isName(stack[stack.length - 2], 'WMode') && stack[stack.length - 1] === 1) {
        cmap.wmode = 1;
      } else if (SECTIONS.has(word)) {
        entries += cmap.readSection(p, word.slice(5), MAX_ENTRIES - entries);
      }
      stack.length = 0;
    }
    return cmap;
  }

  /** Reads the entries of one begin…end section; returns how many it read. */
  private readSection(p: PdfParser, kind: string, budget: number): number {
    const row: PdfValue[] = [];
    let n = 0;
    while (!p.atEnd && n < budget) {
      const v = p.parseTolerant();
      if (v === DAMAGED) continue;
      if (v instanceof PdfKeyword) {
        break; // its end, or in a damaged map whatever comes next
      }
      row.push(v);
      const width = kind.endsWith('range') && kind !== 'codespacerange' ? 3 : 2;
      if (row.length < width) continue;
      this.addEntry(kind, row);
      row.length = 0;
      n++;
    }
    return n;
  }

  private addEntry(kind: string, row: PdfValue[]): void {
    const [a, b, c] = row;
    if (!(a instanceof PdfString) || a.bytes.length === 0 || a.bytes.length > 4) return;
    const bytes = a.bytes.length;
    const low = codeOf(a);
    switch (kind) {
      case 'codespacerange':
        if (b instanceof PdfString && this.codespaces.length < MAX_CODESPACES) {
          this.codespaces.push({ bytes, low, high: codeOf(b) });
        }
        return;
      case 'bfchar':
        if (b instanceof PdfString) this.chars.set(key(low, bytes), utf16(b.bytes));
        else if (b instanceof PdfName) this.chars.set(key(low, bytes), b.name);
        return;
      case 'bfrange':
        if (!(b instanceof PdfString)) return;
        if (c instanceof PdfString) this.ranges.add(key(low, bytes), key(codeOf(b), bytes), utf16(c.bytes));
        else if (Array.isArray(c)) {
          const texts = c.map((d) => (d instanceof PdfString ? utf16(d.bytes) : ''));
          this.ranges.add(key(low, bytes), key(codeOf(b), bytes), texts);
        }
        return;
      case 'cidchar':
        if (typeof b === 'number') this.cids.set(key(low, bytes), b);
        return;
      case 'cidrange':
        if (b instanceof PdfString && typeof c === 'number') this.cidRanges.add(key(low, bytes), key(codeOf(b), bytes), c);
        return;
    }
  }

  /**
   * Splits off the next code at `pos`: the codespace range it falls in decides its length. Bytes in
   * no range are taken with the shortest length that has a range whose first byte matches, as the
   * PDF spec's fallback (9.7.6.3) asks, or `fallbackBytes` when there are no codespaces.
   */
  nextCode(data: Uint8Array, pos: number, fallbackBytes: number): { code: number; bytes: number } {
    if (this.codespaces.length === 0) return readCode(data, pos, fallbackBytes);
    let partial = 0;
    for (const r of this.codespaces) {
      if (pos + r.bytes > data.length) continue;
      const { code } = readCode(data, pos, r.bytes);
      if (withinBytewise(code, r)) return { code, bytes: r.bytes };
      const shift = 2 ** (8 * (r.bytes - 1));
      const first = data[pos]!;
      if (partial === 0 && first >= Math.floor(r.low / shift) && first <= Math.floor(r.high / shift)) partial = r.bytes;
    }
    return readCode(data, pos, partial || Math.min(...this.codespaces.map((r) => r.bytes)));
  }

  /** The text a code stands for, or undefined when the map does not cover it. */
  unicode(code: number, bytes: number): string | undefined {
    const k = key(code, bytes);
    const direct = this.chars.get(k);
    if (direct !== undefined) return direct;
    const r = this.ranges.find(k);
    if (!r) return undefined;
    const offset = k - r.lo;
    if (Array.isArray(r.value)) return r.value[offset];
    if (r.value.length === 0) return undefined;
    // The last code unit counts up through the range (a bfrange never crosses a surrogate change).
    const last = r.value.charCodeAt(r.value.length - 1) + offset;
    return r.value.slice(0, -1) + String.fromCharCode(last & 0xffff);
  }

  /** The CID of a code in an encoding CMap; Identity when the map says so. */
  cid(code: number, bytes: number): number | undefined {
    const k = key(code, bytes);
    const direct = this.cids.get(k);
    if (direct !== undefined) return direct;
    const r = this.cidRanges.find(k);
    if (r) return r.value + (k - r.lo);
    return this.identityParent ? code : undefined;
  }
}

function readCode(data: Uint8Array, pos: number, bytes: number): { code: number; bytes: number } {
  const n = Math.max(1, Math.min(bytes, data.length - pos));
  let code = 0;
  for (let i = 0; i < n; i++) code = code * 256 + data[pos + i]!;
  return { code, bytes: n };
}

/** Codespace ranges bound each byte separately: <8140> <9FFC> holds <8240> but not <81FD>. */
function withinBytewise(code: number, r: CodespaceRange): boolean {
  for (let i = r.bytes - 1; i >= 0; i--) {
    const shift = 2 ** (8 * i);
    const b = Math.floor(code / shift) % 256;
    if (b < Math.floor(r.low / shift) % 256 || b > Math.floor(r.high / shift) % 256) return false;
  }
  return true;
}
