import zlib from 'node:zlib';
import { serialize } from '../src/pdf/serialize.js';
import type { Rng } from './rng.js';
import type { SeedDoc } from './seeds.js';

/** What a mutator works from: a seed document, the input's generator and the shared bomb payload. */
export interface MutationContext {
  seed: SeedDoc;
  rng: Rng;
  /** Zlib data that inflates to a huge run of zeros (see makeBomb). */
  bomb: Buffer;
}

export interface Mutator {
  name: string;
  apply(ctx: MutationContext): Buffer;
}

/** Zlib-compressed zeros: `size` bytes inflate from about size/1000 bytes. Streamed, so `size` may be 1 GB. */
export async function makeBomb(size: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const zeros = Buffer.alloc(Math.min(size, 1 << 20));
  for (let left = size; left > 0; left -= zeros.length) {
    const chunk = left >= zeros.length ? zeros : zeros.subarray(0, left);
    if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return Buffer.concat(chunks);
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Numbers that break naive integer handling: sign, 32/53-bit edges, exponents, fractions, overflow to Infinity. */
const HOSTILE_NUMBERS = [
  '0', '-1', '1', '3.5', '-0', '2147483647', '2147483648', '4294967296', '9007199254740993', '99999999999',
  '5000001', '1e9', '1' + '0'.repeat(400), '.', '--5', '+', '00000000000000000000001',
];

/** Every match of `re` (global) in the seed's latin1 text. */
function matches(text: string, re: RegExp): RegExpExecArray[] {
  return [...text.matchAll(re)];
}

function replaceAt(buf: Uint8Array, start: number, end: number, insert: string | Uint8Array): Buffer {
  return Buffer.concat([buf.subarray(0, start), typeof insert === 'string' ? bytes(insert) : insert, buf.subarray(end)]);
}

/** Objects (with their header) as "N G obj … endobj" spans of the seed. */
function objectSpans(text: string): { num: number; start: number; end: number }[] {
  const spans: { num: number; start: number; end: number }[] = [];
  for (const m of matches(text, /(?<![0-9])(\d+)\s+(\d+)\s+obj\b/g)) {
    const end = text.indexOf('endobj', m.index);
    if (end > 0) spans.push({ num: Number(m[1]), start: m.index, end: end + 6 });
  }
  return spans;
}

/**
 * Appends an incremental update with raw object bodies and a classic xref table. Bodies are raw
 * bytes, not PdfValues, because the hostile ones (100,000-deep arrays) cannot be serialised.
 */
export function appendUpdate(
  seed: SeedDoc,
  objects: [num: number, body: string | Buffer][],
  o: { trailer?: string; prev?: string; root?: string; base?: Buffer } = {},
): Buffer {
  const base = o.base ?? seed.bytes;
  const parts: Buffer[] = [base, bytes('\n')];
  let pos = base.length + 1;
  const offsets: [number, number][] = [];
  for (const [num, body] of objects) {
    const b = Buffer.concat([bytes(`${num} 0 obj\n`), typeof body === 'string' ? bytes(body) : body, bytes('\nendobj\n')]);
    offsets.push([num, pos]);
    parts.push(b);
    pos += b.length;
  }
  let xref = 'xref\n';
  for (const [num, off] of offsets) xref += `${num} 1\n${String(off).padStart(10, '0')} 00000 n\r\n`;
  const size = Math.max(seed.size, ...objects.map(([n]) => n + 1));
  const root = o.root ?? `${seed.root.num} ${seed.root.gen} R`;
  xref += `trailer\n<< /Size ${size} /Root ${root} /Prev ${o.prev ?? seed.startxref} ${o.trailer ?? ''} >>\nstartxref\n${pos}\n%%EOF\n`;
  parts.push(bytes(xref));
  return Buffer.concat(parts);
}

/** The first page's dictionary re-serialised with some entries replaced by raw text. */
function pageWith(seed: SeedDoc, raw: Record<string, string>, index = 0): [number, string] {
  const page = seed.pages[index] ?? seed.pages[0]!;
  const d = page.dict.clone();
  for (const k of Object.keys(raw)) d.delete(k);
  const text = serialize(d).toString('latin1');
  const extra = Object.entries(raw)
    .map(([k, v]) => ` /${k} ${v}`)
    .join('');
  return [page.ref.num, text.slice(0, -2) + extra + '>>'];
}

const streamBody = (dict: string, data: Buffer | string): Buffer =>
  Buffer.concat([bytes(`<< ${dict} /Length ${data.length} >>\nstream\n`), typeof data === 'string' ? bytes(data) : data, bytes('\nendstream')]);

function nested(depth: number, kind: 'array' | 'dict', closed: boolean): string {
  const open = kind === 'array' ? '[' : '<< /A ';
  const close = kind === 'array' ? ']' : ' >>';
  return open.repeat(depth) + '0' + (closed ? close.repeat(depth) : '');
}

const FONT = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
const TEXT = 'BT /F1 12 Tf 72 720 Td (Signature of the licensing officer) Tj ET';

export const BYTE_MUTATORS: Mutator[] = [
  {
    name: 'flip-bytes',
    apply({ seed, rng }) {
      const out = Buffer.from(seed.bytes);
      const special = bytes('()<>[]/%\n\r 09R#\\');
      for (let k = 1 + rng.int(16); k > 0; k--) {
        const i = rng.int(out.length);
        out[i] = rng.chance(0.5) ? out[i]! ^ (1 << rng.int(8)) : rng.chance(0.5) ? special[rng.int(special.length)]! : rng.int(256);
      }
      return out;
    },
  },
  {
    name: 'truncate',
    apply({ seed, rng }) {
      const len = seed.bytes.length;
      // Half the cuts land in the last 2 KB, where the trailer and xref live.
      const at = rng.chance(0.5) ? len - 1 - rng.int(Math.min(len, 2048)) : rng.int(len);
      return Buffer.from(seed.bytes.subarray(0, Math.max(0, at)));
    },
  },
  {
    name: 'splice',
    apply({ seed, rng }) {
      const b = seed.bytes;
      const from = rng.int(b.length);
      const piece = b.subarray(from, from + 1 + rng.int(4096));
      const at = rng.int(b.length);
      const cut = rng.chance(0.5) ? rng.int(4096) : 0;
      return Buffer.concat([b.subarray(0, at), piece, b.subarray(Math.min(b.length, at + cut))]);
    },
  },
  {
    name: 'duplicate-object',
    apply({ seed, rng }) {
      const b = seed.bytes;
      const spans = objectSpans(latin1(b));
      if (spans.length === 0) return Buffer.from(b);
      const s = rng.pick(spans);
      const copy = b.subarray(s.start, s.end);
      let changed: Buffer = Buffer.from(copy);
      if (rng.chance(0.5)) {
        // A later copy with different content: "the last one wins" in repair, the xref in normal reading.
        const k = rng.int(changed.length);
        changed[k] = rng.int(256);
      }
      const at = rng.pick([s.end, rng.int(b.length), b.lastIndexOf('xref'), b.lastIndexOf('startxref')].filter((x) => x >= 0));
      const times = rng.chance(0.2) ? 200 : 1;
      return Buffer.concat([b.subarray(0, at), bytes('\n'), ...Array<Buffer>(times).fill(changed), bytes('\n'), b.subarray(at)]);
    },
  },
  {
    name: 'xref-offsets',
    apply({ seed, rng }) {
      const text = latin1(seed.bytes);
      const rows = matches(text, /(\d{10}) (\d{5}) ([nf])/g);
      if (rows.length === 0) return hugeNumbers(seed, rng);
      const out = Buffer.from(seed.bytes);
      const spans = objectSpans(text);
      for (let k = 1 + rng.int(Math.min(rows.length, 8)); k > 0; k--) {
        const row = rng.pick(rows);
        const old = Number(row[1]);
        const v = rng.pick([0, 1, out.length - 1, out.length, 9_999_999_999, old + 1, old - 1, rng.int(out.length), spans.length ? rng.pick(spans).start : 0]);
        const field = String(Math.max(0, v)).padStart(10, '0').slice(-10);
        out.write(field, row.index, 'latin1');
        if (rng.chance(0.2)) out.write(rng.pick(['n', 'f', 'x']), row.index + 17, 'latin1');
      }
      return out;
    },
  },
  {
    name: 'startxref',
    apply({ seed, rng }) {
      const b = seed.bytes;
      const at = b.lastIndexOf('startxref');
      const m = /^startxref\s+(\S+)/.exec(latin1(b.subarray(at, at + 40)));
      if (at < 0 || !m) return Buffer.from(b);
      const start = at + m[0].length - m[1]!.length;
      const spans = objectSpans(latin1(b));
      const value = rng.pick([
        '0', '-1', String(b.length), String(b.length + 1000), String(rng.int(b.length)), '99999999999999999999', '1e5',
        String(spans.length ? rng.pick(spans).start : 0), String(seed.startxref + 1), String(seed.startxref - 1), '',
      ]);
      return replaceAt(b, start, start + m[1]!.length, value);
    },
  },
  { name: 'huge-numbers', apply: ({ seed, rng }) => hugeNumbers(seed, rng) },
  {
    name: 'length-lie',
    apply({ seed, rng }) {
      const text = latin1(seed.bytes);
      const lens = matches(text, /\/Length\s+(\d+(?:\s+\d+\s+R)?)/g);
      if (lens.length === 0) return hugeNumbers(seed, rng);
      const m = rng.pick(lens);
      const n = Number.parseInt(m[1]!, 10);
      const lie = rng.pick([
        String(n + 1), String(n - 1), String(n * 2), '0', '-5', '2.5', '999999999', '1' + '0'.repeat(30), `${seed.size + 50} 0 R`,
        `${seed.root.num} 0 R`, '(x)', '/Length', `${Math.max(0, n - 100)}`,
      ]);
      const start = m.index + m[0].length - m[1]!.length;
      return replaceAt(seed.bytes, start, start + m[1]!.length, lie);
    },
  },
  {
    name: 'byterange',
    apply({ seed, rng }) {
      const text = latin1(seed.bytes);
      const ranges = matches(text, /\/ByteRange\s*\[([^\]]*)\]/g);
      if (ranges.length === 0) return hugeNumbers(seed, rng);
      const m = rng.pick(ranges);
      const nums = m[1]!.trim().split(/\s+/).map(Number);
      const len = seed.bytes.length;
      const choice = rng.int(6);
      let inner: string;
      if (choice === 0) inner = nums.map((x) => (rng.chance(0.5) ? rng.pick(HOSTILE_NUMBERS) : String(x))).join(' ');
      else if (choice === 1) inner = [nums[0], nums[1], nums[2], len * 2].join(' ');
      else if (choice === 2) inner = [nums[2], nums[3], nums[0], nums[1]].join(' ');
      else if (choice === 3) inner = rng.pick(['', '0', '0 1', '0 1 2 3 4 5', '0 0 0 0', `0 ${len} 0 0`, '1 0 R 2 3 4', '(a) (b) (c) (d)']);
      else if (choice === 4) inner = [0, rng.int(len), rng.int(len), rng.int(len)].join(' ');
      else inner = [0, nums[1]! + 1, nums[2]! - 1, nums[3]].join(' ');
      // Keep the length when possible, so the signature's other offsets stay put.
      const width = m[1]!.length;
      const padded = inner.length <= width ? inner.padEnd(width, ' ') : inner;
      const start = m.index + m[0].indexOf('[') + 1;
      return replaceAt(seed.bytes, start, start + width, padded);
    },
  },
  {
    name: 'contents',
    apply({ seed, rng }) {
      const text = latin1(seed.bytes);
      const sigs = matches(text, /\/Contents\s*<([0-9A-Fa-f\s]{200,})>/g);
      if (sigs.length === 0) return hugeNumbers(seed, rng);
      const m = rng.pick(sigs);
      const start = m.index + m[0].indexOf('<') + 1;
      const hex = m[1]!;
      const choice = rng.int(5);
      let repl: string;
      if (choice === 0) {
        // Flip a few hex digits inside the DER.
        const chars = hex.split('');
        for (let k = 1 + rng.int(8); k > 0; k--) chars[rng.int(Math.min(chars.length, 4000))] = rng.pick('0123456789abcdef'.split(''));
        repl = chars.join('');
      } else if (choice === 1) {
        // A DER length that claims far more than is there.
        repl = rng.pick(['3084ffffffff', '3080', '30820000', '3089ffffffffffffffffff', '06092a864886f70d0107020000']) + hex.slice(12);
      } else if (choice === 2) repl = hex.slice(0, rng.int(hex.length));
      else if (choice === 3) repl = rng.pick(['', 'zz', '0', '00'.repeat(hex.length / 2)]).padEnd(hex.length, '0');
      else repl = hex.replace(/^(.{0,40})/, (s) => s.split('').reverse().join(''));
      return replaceAt(seed.bytes, start, start + hex.length, repl);
    },
  },
];

function hugeNumbers(seed: SeedDoc, rng: Rng): Buffer {
  const text = latin1(seed.bytes);
  const sites = matches(text, /\/(Size|Count|Length|N|First|Prev|Columns|Predictor|FirstChar|LastChar|Rotate|XRefStm)\s+(\d+)/g);
  const arrays = matches(text, /\/(W|Index|MediaBox|Widths|BBox|Matrix)\s*\[([^\]]*)\]/g);
  if (arrays.length > 0 && (sites.length === 0 || rng.chance(0.4))) {
    const m = rng.pick(arrays);
    const items = m[2]!.trim().split(/\s+/);
    const k = rng.int(items.length + 1);
    if (k < items.length) items[k] = rng.pick(HOSTILE_NUMBERS);
    else items.push(rng.pick(HOSTILE_NUMBERS));
    const start = m.index + m[0].indexOf('[') + 1;
    return replaceAt(seed.bytes, start, start + m[2]!.length, items.join(' '));
  }
  if (sites.length === 0) return Buffer.from(seed.bytes);
  const m = rng.pick(sites);
  const start = m.index + m[0].length - m[2]!.length;
  return replaceAt(seed.bytes, start, start + m[2]!.length, rng.pick(HOSTILE_NUMBERS));
}

/** Mutators that append a hostile incremental update aimed at one structure the reader follows. */
export const STRUCTURE_MUTATORS: Mutator[] = [
  {
    name: 'bomb',
    apply({ seed, rng, bomb }) {
      const n = seed.size;
      const variant = rng.int(4);
      const content =
        variant === 0
          ? streamBody('/Filter /FlateDecode', bomb)
          : variant === 1
            ? streamBody('/Filter [/FlateDecode /FlateDecode]', zlib.deflateSync(bomb))
            : variant === 2
              ? streamBody('/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 16777216 /Colors 32 /BitsPerComponent 16 >>', bomb)
              : streamBody('', TEXT);
      const toUnicode = variant === 3 ? streamBody('/Filter /FlateDecode', bomb) : streamBody('', '');
      const font = `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode ${n + 2} 0 R >>`;
      return appendUpdate(seed, [
        pageWith(seed, { Contents: `${n} 0 R`, Resources: `<< /Font << /F1 ${n + 1} 0 R >> >>` }),
        [n, content],
        [n + 1, font],
        [n + 2, toUnicode],
      ]);
    },
  },
  {
    name: 'deep-nesting',
    apply({ seed, rng }) {
      const depth = rng.pick([199, 200, 201, 202, 1_000, 100_000]);
      const kind = rng.pick(['array', 'dict'] as const);
      const closed = rng.chance(0.7);
      const deep = nested(depth, kind, closed);
      const n = seed.size;
      const where = rng.int(4);
      if (where === 0) return appendUpdate(seed, [pageWith(seed, { MediaBox: deep })]);
      if (where === 1) return appendUpdate(seed, [pageWith(seed, { Resources: `${n} 0 R` }), [n, deep]]);
      if (where === 2) return appendUpdate(seed, [], { trailer: `/Info ${deep}` });
      return appendUpdate(seed, [pageWith(seed, { Contents: `${n} 0 R` }), [n, streamBody('', `BT /F1 12 Tf ${deep} TJ ET`)]]);
    },
  },
  {
    name: 'page-tree-loop',
    apply({ seed, rng }) {
      const n = seed.size;
      const pr = seed.pagesRoot.num;
      const first = seed.pages[0]!.ref.num;
      switch (rng.int(6)) {
        case 0:
          return appendUpdate(seed, [pageWith(seed, { Parent: `${first} 0 R`, Type: '/Pages', Kids: `[${first} 0 R]` })]);
        case 1:
          return appendUpdate(seed, [[pr, `<< /Type /Pages /Kids [${pr} 0 R ${first} 0 R] /Count 2 >>`]]);
        case 2:
          return appendUpdate(seed, [
            [pr, `<< /Type /Pages /Kids [${n} 0 R] /Count 1 >>`],
            [n, `<< /Type /Pages /Kids [${n + 1} 0 R] /Parent ${n + 1} 0 R /Count 1 >>`],
            [n + 1, `<< /Type /Pages /Kids [${n} 0 R ${first} 0 R] /Parent ${n} 0 R /Count 1 >>`],
          ]);
        case 3:
          return appendUpdate(seed, [[pr, `<< /Type /Pages /Kids [${`${first} 0 R `.repeat(20_000)}] /Count 20000 >>`]]);
        case 4:
          return appendUpdate(seed, [[pr, `<< /Type /Pages /Kids [${Array.from({ length: 50_000 }, (_, i) => `${n + i} 0 R`).join(' ')}] /Count 99999999999 >>`]]);
        default:
          return appendUpdate(seed, [pageWith(seed, { Resources: `${first} 0 R`, MediaBox: `${n} 0 R`, Rotate: '1e308' }), [n, `${n} 0 R`]]);
      }
    },
  },
  {
    name: 'ref-cycle',
    apply({ seed, rng }) {
      const n = seed.size;
      const chain = rng.pick([2, 31, 32, 33, 1000]);
      const objs: [number, string][] = Array.from({ length: chain }, (_, i) => [n + i, `${n + ((i + 1) % chain)} 0 R`]);
      const loose = rng.chance(0.5) ? [] : ([[n + chain - 1, `<< /Length ${n} 0 R >>\nstream\nBT ET\nendstream`]] as [number, string][]);
      const site = rng.int(5);
      const ref = `${n} 0 R`;
      if (site === 0) return appendUpdate(seed, [pageWith(seed, { Contents: ref }), ...objs, ...loose]);
      if (site === 1) return appendUpdate(seed, [pageWith(seed, { Resources: ref }), ...objs]);
      if (site === 2) return appendUpdate(seed, objs, { root: ref });
      if (site === 3) {
        // A stream whose /Length is itself a stream whose /Length points back.
        return appendUpdate(seed, [
          pageWith(seed, { Contents: ref }),
          [n, `<< /Length ${n + 1} 0 R >>\nstream\n${TEXT}\nendstream`],
          [n + 1, `<< /Length ${n} 0 R >>\nstream\n12\nendstream`],
        ]);
      }
      return appendUpdate(seed, [pageWith(seed, { Contents: `${n + chain} 0 R` }), ...objs, [n + chain, `<< /Filter ${ref} /DecodeParms ${ref} /Length 5 >>\nstream\nBT ET\nendstream`]]);
    },
  },
  {
    name: 'prev-loop',
    apply({ seed, rng }) {
      const spans = objectSpans(latin1(seed.bytes));
      const prev = rng.pick([
        String(seed.bytes.length + 1), // its own section: the update has no objects, so "xref" starts right there
        String(rng.int(seed.bytes.length)),
        String(spans.length ? rng.pick(spans).start : 0),
        '99999999999999',
        '-1',
        `${seed.root.num} 0 R`,
      ]);
      const extra = rng.chance(0.3) ? `/XRefStm ${prev}` : '';
      const first = appendUpdate(seed, [], { prev, trailer: extra });
      if (rng.chance(0.5)) return first;
      // Two updates pointing at each other.
      const firstXref = first.lastIndexOf('xref\n');
      const second = appendUpdate(seed, [], { base: first, prev: String(firstXref) });
      const secondXref = second.lastIndexOf('xref\n');
      const patched = latin1(second).replace(`/Prev ${prev}`, `/Prev ${String(secondXref).padEnd(prev.length)}`);
      return bytes(patched);
    },
  },
  {
    name: 'xref-stream',
    apply({ seed, rng }) {
      const n = seed.size;
      const size = rng.pick([String(n + 1), '0', '1', '2147483647', '5000001', '9007199254740993', '1e9', '-3']);
      const w = rng.pick(['[1 4 2]', '[8 8 8]', '[9 1 1]', '[0 0 0]', '[255 255 255]', '[1 2]', '[-1 2 1]', '[1.5 2 1]', '[1 4294967296 1]', '[0 4 0]']);
      const index = rng.pick(['', `/Index [0 ${n + 1}]`, '/Index [4294967295 10]', '/Index [0 5000000]', '/Index [0 1 0 1]', '/Index [5]', '/Index [-5 3]', `/Index [${n} 1 ${n} 1]`]);
      const data = Buffer.alloc(rng.int(300));
      for (let i = 0; i < data.length; i++) data[i] = rng.chance(0.7) ? 0 : rng.int(256);
      if (data.length >= 5 && rng.chance(0.3)) data.writeUInt32BE(rng.int(seed.bytes.length), 1);
      const flate = rng.chance(0.4);
      const payload = flate ? zlib.deflateSync(data) : data;
      const filter = flate ? `/Filter /FlateDecode ${rng.chance(0.5) ? '/DecodeParms << /Predictor 12 /Columns 7 >>' : ''}` : '';
      const offset = seed.bytes.length + 1;
      const body = streamBody(`/Type /XRef /Size ${size} /W ${w} ${index} /Root ${seed.root.num} 0 R /Prev ${seed.startxref} ${filter}`, payload);
      const obj = Buffer.concat([bytes(`${n} 0 obj\n`), body, bytes('\nendobj\n')]);
      return Buffer.concat([seed.bytes, bytes('\n'), obj, bytes(`startxref\n${offset}\n%%EOF\n`)]);
    },
  },
  {
    name: 'object-stream',
    apply({ seed, rng }) {
      const n = seed.size;
      const members = [`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`, `[${n} 0 R]`, '(text)', `${n + 1} 0 R`];
      const header = members.map((_, i) => `${n + 2 + i} ${i * 60}`).join(' ');
      const body = members.map((m) => m.padEnd(60)).join('');
      const nVal = rng.pick(['4', '0', '5000001', '-1', '99', '2.5']);
      const first = rng.pick([String(header.length + 1), '0', '99999999', '-4', String(header.length + 30)]);
      const extends_ = rng.chance(0.3) ? `/Extends ${n} 0 R` : '';
      const data = Buffer.from(`${header}\n${body}`, 'latin1');
      const flate = rng.chance(0.5);
      const osBody = streamBody(`/Type /ObjStm /N ${nVal} /First ${first} ${extends_} ${flate ? '/Filter /FlateDecode' : ''}`, flate ? zlib.deflateSync(data) : data);
      // An xref stream listing the members as compressed in object stream n (sometimes in themselves).
      const container = rng.chance(0.2) ? n + 2 : n;
      const entries: [number, number[]][] = [
        [n, [1, seed.bytes.length + 1, 0]],
        ...members.map((_, i): [number, number[]] => [n + 2 + i, [2, container, rng.chance(0.2) ? 999 : i]]),
        [seed.pages[0]!.ref.num, [2, container, 0]],
      ];
      const osObj = Buffer.concat([bytes(`${n} 0 obj\n`), osBody, bytes('\nendobj\n')]);
      const xrefOffset = seed.bytes.length + 1 + osObj.length;
      entries.push([n + 1, [1, xrefOffset, 0]]);
      const row = (f: number[]): Buffer => {
        const b = Buffer.alloc(7);
        b[0] = f[0]!;
        b.writeUInt32BE(f[1]! >>> 0, 1);
        b.writeUInt16BE(f[2]! & 0xffff, 5);
        return b;
      };
      const index = entries.flatMap(([num]) => [num, 1]).join(' ');
      const xrefData = Buffer.concat(entries.map(([, f]) => row(f)));
      const xs = streamBody(`/Type /XRef /Size ${n + 2 + members.length} /W [1 4 2] /Index [${index}] /Root ${seed.root.num} 0 R /Prev ${seed.startxref}`, xrefData);
      const xsObj = Buffer.concat([bytes(`${n + 1} 0 obj\n`), xs, bytes('\nendobj\n')]);
      return Buffer.concat([seed.bytes, bytes('\n'), osObj, xsObj, bytes(`startxref\n${xrefOffset}\n%%EOF\n`)]);
    },
  },
  {
    name: 'repair-scan',
    apply({ seed, rng }) {
      // A broken startxref sends the reader to rebuild the xref by scanning: many fragments that each
      // make a scan-time parse run to the end of the file would make that quadratic.
      const n = seed.size;
      const count = rng.pick([1_000, 5_000]);
      const variant = rng.int(4);
      const piece = (i: number): string =>
        variant === 0
          ? `${n + i} 0 obj << /Length 99999999 >> stream\n`
          : variant === 1
            ? 'trailer('
            : variant === 2
              ? `${n + i} 0 obj <${i % 2 ? '' : 'a'}`
              : `${n + i} 0 obj << /Type /ObjStm /N 1 /First 0 >> stream\n`;
      const junk = Array.from({ length: count }, (_, i) => piece(i)).join('\n');
      const body = Buffer.concat([seed.bytes, bytes(`\n${junk}\n${variant === 3 ? '' : '/ObjStm'}\nstartxref\n${rng.int(seed.bytes.length)}\n%%EOF\n`)]);
      return body;
    },
  },
  {
    name: 'hostile-content',
    apply({ seed, rng }) {
      const n = seed.size;
      const variant = rng.int(7);
      const resources = `<< /Font << /F1 ${n + 1} 0 R >> /XObject << /X1 ${n + 2} 0 R >> >>`;
      let font = FONT;
      let form = streamBody('/Type /XObject /Subtype /Form /BBox [0 0 10 10]', TEXT);
      let content = TEXT;
      if (variant === 0) {
        // A form drawing itself twice per level: exponential unless draws are bounded.
        form = streamBody(`/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources ${resources}`, `/X1 Do /X1 Do ${TEXT}`);
        content = '/X1 Do';
      } else if (variant === 1) {
        content = `${'q '.repeat(100_000)}1e308 0 0 1e308 0 0 cm BT /F1 1e308 Tf 1e308 Tz 1e308 TL T* (x) Tj ET${' Q'.repeat(100_000)}`;
      } else if (variant === 2) {
        font = `<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /W [0 [${'1e308 '.repeat(1000)}] 0 4294967295 5 1 [[[[1]]]]] /DW -1e308 >>] /ToUnicode ${n + 3} 0 R >>`;
        content = `BT /F1 12 Tf <${'0102'.repeat(50_000)}> Tj ET`;
      } else if (variant === 3) {
        font = `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar -1000000000 /LastChar 4294967295 /Widths [1 2 3] /ToUnicode ${n + 3} 0 R >>`;
        content = `BT /F1 12 Tf (${'abc'.repeat(10_000)}) Tj [(a) -1e308 (b)] TJ ET`;
      } else if (variant === 4) {
        font = `<< /Type /Font /Subtype /Type3 /FontMatrix [0 0 0 0 0 0] /FontBBox [0 0 0 0] /CharProcs << >> /Encoding << /Differences [0 /a /b] >> /FirstChar 0 /LastChar 1 /Widths [1e308 -1e308] >>`;
        content = 'BT /F1 1 Tf (\x00\x01\x00\x01) Tj ET';
      } else if (variant === 5) {
        content = `BI /W 1 /H 1 /L 99999999 ID ${'x'.repeat(1000)} BT /F1 12 Tf (a) Tj ET`;
      } else {
        content = `BT /F1 12 Tf ${'(a) Tj '.repeat(50_000)} ET`;
      }
      const cmaps = [
        'begincodespacerange <00000000> <FFFFFFFF> endcodespacerange 1 beginbfrange <00000000> <FFFFFFFF> <0000> endbfrange',
        '99999999 beginbfrange <0000> <FFFF> [<00>] endbfrange 1 beginbfchar <01> <D800> endbfchar',
        `begincodespacerange ${'<00> <FF> '.repeat(1000)} endcodespacerange beginbfrange <FF> <00> <0041> endbfrange`,
        `1 beginbfrange <0000> <FFFF> <${'41'.repeat(10_000)}> endbfrange`,
      ];
      return appendUpdate(seed, [
        pageWith(seed, { Contents: `${n} 0 R`, Resources: resources }),
        [n, streamBody('', content)],
        [n + 1, font],
        [n + 2, form],
        [n + 3, streamBody('', rng.pick(cmaps))],
      ]);
    },
  },
];
