import { randomUUID } from 'node:crypto';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';
import type { PdfReader } from './reader.js';
import { PdfOutput, serializeIndirect, serializeValue } from './serialize.js';
import type { XrefEntry } from './xref.js';

export interface BuildResult {
  /** Bytes to append to the input: the document is `Buffer.concat([reader.bytes, tail])`. */
  tail: Buffer;
  /** Offset inside `tail` of each written "N G obj". */
  objectOffsets: Map<number, number>;
  /** Absolute offset of the new cross-reference section (the new startxref). */
  startxref: number;
}

/**
 * Appends one incremental update: only the added and changed objects plus a new cross-reference
 * section, so the input bytes (and any signatures over them) stay untouched.
 */
export class IncrementalWriter {
  private readonly objects = new Map<number, { gen: number; value: PdfValue }>();
  private nextNum: number;

  constructor(readonly reader: PdfReader) {
    if (!reader.isLatest) throw new RangeError('an incremental update must be written on the latest revision');
    this.nextNum = reader.size;
  }

  /** Adds a new object; its number is ≥ reader.size. The value may still be changed until build(). */
  add(value: PdfValue): PdfRef {
    const num = this.nextNum++;
    this.objects.set(num, { gen: 0, value });
    return new PdfRef(num, 0);
  }

  /** Replaces an existing object (or one added here) in the new revision. */
  update(ref: PdfRef | number, value: PdfValue): void {
    const num = typeof ref === 'number' ? ref : ref.num;
    const mine = this.objects.get(num);
    if (mine) {
      mine.value = value;
      return;
    }
    const e = this.existingEntry(num);
    if (!e || e.type === 'free') throw new RangeError(`object ${num} does not exist in the PDF`);
    this.objects.set(num, { gen: e.gen, value });
  }

  build(): BuildResult {
    const { reader } = this;
    const base = reader.bytes.length;
    const out = new PdfOutput();
    const last = reader.bytes[base - 1];
    if (last !== 0x0a && last !== 0x0d) out.text('\n');

    const entries = new Map<number, XrefEntry>();
    const objectOffsets = new Map<number, number>();
    for (const num of [...this.objects.keys()].sort((a, b) => a - b)) {
      const { gen, value } = this.objects.get(num)!;
      objectOffsets.set(num, out.length);
      entries.set(num, { type: 'used', offset: base + out.length, gen });
      serializeIndirect(num, gen, value, out);
    }

    // A damaged file's xref chain cannot be trusted: the update then carries a complete xref of
    // what the repair found, so every reader sees the same objects we did.
    const full = reader.repaired;
    let kind = reader.revisions.at(-1)!.xrefKind;
    if (full) {
      entries.set(0, { type: 'free', gen: 65535 });
      for (const [num, e] of reader.reconstruction().entries) {
        if (!entries.has(num)) entries.set(num, e);
        if (e.type === 'compressed') kind = 'stream';
      }
    }

    const trailer = new PdfDict();
    const root = this.findRoot();
    if (root) trailer.set('Root', root);
    const info = reader.trailer.get('Info');
    if (info !== undefined) trailer.set('Info', info);
    // Even a complete xref keeps /Prev when there is a real previous section: signed revisions stay visible.
    const prev = reader.revisions.at(-1)!.startxref;
    if (prev >= 0) trailer.set('Prev', prev);
    trailer.set('ID', this.ids());

    const startxref = base + out.length;
    let size = Math.max(reader.size, this.nextNum);
    if (kind === 'table') {
      trailer.set('Size', size);
      out.text(xrefTable(entries) + 'trailer\n');
      serializeValue(orderTrailer(trailer), out);
      out.text('\n');
    } else {
      const num = size++;
      entries.set(num, { type: 'used', offset: startxref, gen: 0 });
      trailer.set('Size', size);
      objectOffsets.set(num, out.length);
      serializeIndirect(num, 0, xrefStream(entries, orderTrailer(trailer)), out);
    }
    out.text(`startxref\n${startxref}\n%%EOF\n`);
    return { tail: out.toBuffer(), objectOffsets, startxref };
  }

  private existingEntry(num: number): XrefEntry | undefined {
    const e = this.reader.xrefEntry(num);
    if (e && e.type !== 'free') return e;
    return this.reader.repaired ? this.reader.reconstruction().entries.get(num) : e;
  }

  private findRoot(): PdfValue | undefined {
    const revs = this.reader.revisions;
    for (let i = revs.length - 1; i >= 0; i--) {
      const r = revs[i]!.trailer.get('Root');
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /**
   * Keeps the document's permanent first ID; the second changes with every update. A random UUID:
   * node draws those from a cached entropy pool, where randomBytes(16) asks OpenSSL on every stamp.
   */
  private ids(): PdfString[] {
    const fresh = new PdfString(Buffer.from(randomUUID().replaceAll('-', ''), 'hex'), true);
    const old = this.reader.resolve(this.reader.trailer.get('ID'));
    const first = Array.isArray(old) ? this.reader.resolve(old[0]) : undefined;
    return [first instanceof PdfString ? new PdfString(first.bytes, true) : fresh, fresh];
  }
}

const TRAILER_ORDER = ['Type', 'Size', 'Root', 'Info', 'Prev', 'ID'];
function orderTrailer(t: PdfDict): PdfDict {
  const out = new PdfDict();
  for (const k of TRAILER_ORDER) if (t.has(k)) out.set(k, t.get(k)!);
  return out;
}

/** Consecutive runs of object numbers: the subsections of a table, the /Index of a stream. */
function runs(nums: number[]): [start: number, count: number][] {
  const out: [number, number][] = [];
  for (const n of nums) {
    const r = out.at(-1);
    if (r && r[0] + r[1] === n) r[1]++;
    else out.push([n, 1]);
  }
  return out;
}

function xrefTable(entries: Map<number, XrefEntry>): string {
  const nums = [...entries.keys()].sort((a, b) => a - b);
  let s = 'xref\n';
  let i = 0;
  for (const [start, count] of runs(nums)) {
    s += `${start} ${count}\n`;
    for (const n of nums.slice(i, i + count)) {
      const e = entries.get(n)!;
      if (e.type === 'compressed') throw new Error('compressed entries need a cross-reference stream');
      const off = e.type === 'used' ? e.offset : 0;
      s += `${String(off).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} ${e.type === 'used' ? 'n' : 'f'}\r\n`;
    }
    i += count;
  }
  return s;
}

function byteWidth(max: number): number {
  let w = 1;
  while (max >= 256 ** w) w++;
  return w;
}

function xrefStream(entries: Map<number, XrefEntry>, trailer: PdfDict): PdfStream {
  const nums = [...entries.keys()].sort((a, b) => a - b);
  const fields = nums.map((n): [number, number, number] => {
    const e = entries.get(n)!;
    if (e.type === 'free') return [0, 0, e.gen];
    if (e.type === 'used') return [1, e.offset, e.gen];
    return [2, e.stream, e.index];
  });
  // A loop, not Math.max(...): a repaired file's full xref can have millions of rows.
  let max1 = 0;
  let max2 = 0;
  for (const f of fields) {
    if (f[1] > max1) max1 = f[1];
    if (f[2] > max2) max2 = f[2];
  }
  const w1 = byteWidth(max1);
  const w2 = byteWidth(max2);
  const row = 1 + w1 + w2;
  const data = Buffer.alloc(nums.length * row);
  fields.forEach(([t, a, b], i) => {
    data[i * row] = t;
    data.writeUIntBE(a, i * row + 1, w1);
    data.writeUIntBE(b, i * row + 1 + w1, w2);
  });
  const d = new PdfDict({ Type: PdfName.of('XRef') });
  for (const [k, v] of trailer.entries()) d.set(k, v);
  d.set('W', [1, w1, w2]);
  d.set('Index', runs(nums).flat());
  return new PdfStream(d, data);
}
