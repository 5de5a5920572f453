/**
 * TrueType subsetting by copying glyph programs: the tables a PDF viewer needs for a CIDFontType2 with
 * an Identity CIDToGIDMap (head, hhea, maxp, hmtx, loca, glyf and the hinting tables cvt, fpgm, prep,
 * as fontkit's subsetter writes them), with the glyphs renumbered in the order given. A licence embeds a
 * fresh subset of its own text every time; fontkit decodes and re-encodes every glyph through its
 * generic table structures, which cost about ten times the copying done here.
 */

/** The font's tables, located once per font file. */
export class TrueTypeTables {
  private readonly tables = new Map<string, Buffer>();
  readonly numGlyphs: number;
  private readonly longLoca: boolean;
  private readonly numberOfHMetrics: number;

  constructor(bytes: Uint8Array) {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = b.readUInt16BE(4);
    for (let i = 0; i < count; i++) {
      const at = 12 + i * 16;
      const offset = b.readUInt32BE(at + 8);
      const length = b.readUInt32BE(at + 12);
      if (offset + length > b.length) throw new RangeError(`the font's ${b.toString('latin1', at, at + 4)} table lies outside the file`);
      this.tables.set(b.toString('latin1', at, at + 4), b.subarray(offset, offset + length));
    }
    for (const tag of ['head', 'hhea', 'maxp', 'hmtx', 'loca', 'glyf']) {
      if (!this.tables.has(tag)) throw new RangeError(`the font has no ${tag} table`);
    }
    this.longLoca = this.table('head').readInt16BE(50) === 1;
    this.numGlyphs = this.table('maxp').readUInt16BE(4);
    this.numberOfHMetrics = this.table('hhea').readUInt16BE(34);
  }

  private table(tag: string): Buffer {
    return this.tables.get(tag)!;
  }

  /** The glyph program of `gid` (empty for a glyph without outline). */
  glyph(gid: number): Buffer {
    const loca = this.table('loca');
    const [start, end] = this.longLoca ? [loca.readUInt32BE(gid * 4), loca.readUInt32BE(gid * 4 + 4)] : [loca.readUInt16BE(gid * 2) * 2, loca.readUInt16BE(gid * 2 + 2) * 2];
    return this.table('glyf').subarray(start, Math.max(start, end));
  }

  /** Advance width and left side bearing of `gid`, in font units. */
  metrics(gid: number): [number, number] {
    const hmtx = this.table('hmtx');
    const n = this.numberOfHMetrics;
    if (gid < n) return [hmtx.readUInt16BE(gid * 4), hmtx.readInt16BE(gid * 4 + 2)];
    return [hmtx.readUInt16BE((n - 1) * 4), hmtx.readInt16BE(n * 4 + (gid - n) * 2)];
  }

  /**
   * A TrueType file holding `gids` as glyphs 0, 1, 2…; `gids[0]` should be 0 (.notdef). Glyphs that
   * composite glyphs are built from are added after them and the references renumbered.
   */
  subset(gids: readonly number[]): Buffer {
    const order = [...gids];
    const index = new Map(order.map((g, i) => [g, i]));
    const programs: Buffer[] = [];
    for (let i = 0; i < order.length; i++) {
      let program = this.glyph(order[i]!);
      if (program.length >= 10 && program.readInt16BE(0) < 0) {
        program = Buffer.from(program);
        renumberComponents(program, (old) => {
          let to = index.get(old);
          if (to === undefined) {
            to = order.length;
            order.push(old);
            index.set(old, to);
          }
          return to;
        });
      }
      programs.push(program);
    }

    const loca = Buffer.alloc((order.length + 1) * 4);
    const hmtx = Buffer.alloc(order.length * 4);
    const padded: Buffer[] = [];
    let offset = 0;
    order.forEach((gid, i) => {
      loca.writeUInt32BE(offset, i * 4);
      const [advance, lsb] = this.metrics(gid);
      hmtx.writeUInt16BE(advance, i * 4);
      hmtx.writeInt16BE(lsb, i * 4 + 2);
      const program = programs[i]!;
      padded.push(program);
      const pad = (4 - (program.length % 4)) % 4;
      if (pad) padded.push(Buffer.alloc(pad));
      offset += program.length + pad;
    });
    loca.writeUInt32BE(offset, order.length * 4);

    const head = Buffer.from(this.table('head'));
    head.writeUInt32BE(0, 8); // checkSumAdjustment, set below
    head.writeInt16BE(1, 50); // long loca offsets
    const hhea = Buffer.from(this.table('hhea'));
    hhea.writeUInt16BE(order.length, 34);
    const maxp = Buffer.from(this.table('maxp'));
    maxp.writeUInt16BE(order.length, 4);

    const out: [string, Buffer][] = [['head', head], ['hhea', hhea], ['loca', loca], ['maxp', maxp]];
    for (const tag of ['cvt ', 'prep']) if (this.tables.has(tag)) out.push([tag, this.table(tag)]);
    out.push(['glyf', Buffer.concat(padded)], ['hmtx', hmtx]);
    if (this.tables.has('fpgm')) out.push(['fpgm', this.table('fpgm')]);
    return assemble(out);
  }
}

const ARG_1_AND_2_ARE_WORDS = 0x0001;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;

/** Rewrites the glyph index of every component of a composite glyph program in place. */
function renumberComponents(program: Buffer, to: (gid: number) => number): void {
  let at = 10;
  for (;;) {
    const flags = program.readUInt16BE(at);
    program.writeUInt16BE(to(program.readUInt16BE(at + 2)), at + 2);
    at += 4 + (flags & ARG_1_AND_2_ARE_WORDS ? 4 : 2);
    if (flags & WE_HAVE_A_SCALE) at += 2;
    else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) at += 4;
    else if (flags & WE_HAVE_A_TWO_BY_TWO) at += 8;
    if (!(flags & MORE_COMPONENTS)) return;
  }
}

function checksum(data: Buffer): number {
  let sum = 0;
  const whole = data.length - (data.length % 4);
  for (let i = 0; i < whole; i += 4) sum = (sum + data.readUInt32BE(i)) >>> 0;
  if (whole < data.length) {
    const tail = Buffer.alloc(4);
    data.copy(tail, 0, whole);
    sum = (sum + tail.readUInt32BE(0)) >>> 0;
  }
  return sum;
}

/** The sfnt file: offset table, table records sorted by tag, tables 4-byte aligned, head's checkSumAdjustment set. */
function assemble(tables: [string, Buffer][]): Buffer {
  tables.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const n = tables.length;
  const log2 = Math.floor(Math.log2(n));
  const dir = Buffer.alloc(12 + n * 16);
  dir.writeUInt32BE(0x00010000, 0);
  dir.writeUInt16BE(n, 4);
  dir.writeUInt16BE(2 ** log2 * 16, 6);
  dir.writeUInt16BE(log2, 8);
  dir.writeUInt16BE(n * 16 - 2 ** log2 * 16, 10);
  const parts: Buffer[] = [dir];
  let offset = dir.length;
  tables.forEach(([tag, data], i) => {
    const at = 12 + i * 16;
    dir.write(tag, at, 4, 'latin1');
    dir.writeUInt32BE(checksum(data), at + 4);
    dir.writeUInt32BE(offset, at + 8);
    dir.writeUInt32BE(data.length, at + 12);
    parts.push(data);
    const pad = (4 - (data.length % 4)) % 4;
    if (pad) parts.push(Buffer.alloc(pad));
    offset += data.length + pad;
  });
  const file = Buffer.concat(parts);
  const headAt = dir.readUInt32BE(12 + tables.findIndex(([tag]) => tag === 'head') * 16 + 8);
  // The whole file's checksum is the directory's plus the tables' (each starts aligned, padded with zeros).
  let sum = checksum(dir);
  for (let i = 0; i < n; i++) sum = (sum + dir.readUInt32BE(12 + i * 16 + 4)) >>> 0;
  file.writeUInt32BE((0xb1b0afba - sum) >>> 0, headAt + 8);
  return file;
}
