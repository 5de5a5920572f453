import { PdfError } from '../errors.js';
import { decodeStreamData } from './filters.js';
import { withDefaults, type PdfLimits } from './limits.js';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from './objects.js';
import { collectPages, type PageInfo } from './pages.js';
import { PdfParser } from './parser.js';
import { readObjectStreamHeader, reconstructXref, type ObjectStreamIndex, type Reconstruction } from './repair.js';
import { readXrefSection, type XrefEntry, type XrefSection } from './xref.js';

export type { XrefEntry } from './xref.js';
export type { PageInfo } from './pages.js';

/** One revision of the document: the original, or one incremental update. */
export interface Revision {
  index: number;
  /**
   * Offset of this revision's cross-reference section (what its "startxref" names); -1 for the single
   * made-up revision of a file whose cross-reference data had to be rebuilt by scanning.
   */
  startxref: number;
  /** Offset just past this revision's %%EOF and its line end: where a signature's ByteRange ends. */
  eofOffset: number;
  /**
   * Offset of the "%%EOF" marker itself. A file saved without a final EOL gets one from the next
   * update, which moves `eofOffset` by one; signatures made before then end at eofMarkerOffset + 5.
   */
  eofMarkerOffset: number;
  trailer: PdfDict;
  xrefKind: 'table' | 'stream';
  /** The objects this revision's xref section(s) list; earlier revisions hold the rest. */
  entries: Map<number, XrefEntry>;
  /** A table with an /XRefStm stream (its entries are merged into `entries`). */
  hybrid: boolean;
}

interface Document {
  bytes: Uint8Array;
  buf: Buffer;
  limits: Readonly<PdfLimits>;
  version: string;
  revisions: Revision[];
  /** Per revision, the highest object number listed up to and including it. */
  maxNums: number[];
  eofStarts: number[];
  eofOffsets: number[];
  repaired: boolean;
  warnings: string[];
  reconstruction?: Reconstruction;
  views: Map<number, PdfReader>;
  /** Sorted object offsets the xref sections list, and those scanning found (see objectEnd). */
  xrefStarts?: number[];
  scanStarts?: number[];
}

function damaged(message: string): PdfError {
  return new PdfError('invalid-pdf', `The PDF is damaged: ${message}.`);
}



/**
 * A lazy PDF reader: loading reads the header, the startxref and the cross-reference sections only;
 * objects are parsed when asked for and cached. A reader is also a view of one revision
 * (`atRevision`), which is how verification compares what each signature covered.
 *
 * Objects returned are shared with the cache: clone (PdfDict.clone) before changing one.
 */
export class PdfReader {
  private readonly cache = new Map<number, PdfValue>();
  private readonly objectStreams = new Map<number, ObjectStreamIndex>();
  private readonly loading = new Set<number>();
  private pageList?: PageInfo[];
  private revisionList?: Revision[];

  private constructor(
    private readonly doc: Document,
    /** The newest revision this view sees. */
    readonly revisionIndex: number,
  ) {}

  static load(bytes: Uint8Array, limits?: Partial<PdfLimits>): PdfReader {
    const lim = withDefaults(limits);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const header = buf.subarray(0, 1024).indexOf('%PDF-', 0, 'latin1');
    if (header < 0) {
      throw new PdfError('invalid-pdf', 'This file is not a PDF: it does not start with a "%PDF-" header.');
    }
    const version = /^%PDF-(\d\.\d)/.exec(buf.toString('latin1', header, header + 16))?.[1] ?? '1.0';
    const { starts, ends } = findEofs(buf);
    const doc: Document = {
      bytes,
      buf,
      limits: lim,
      version,
      revisions: [],
      maxNums: [],
      eofStarts: starts,
      eofOffsets: ends,
      repaired: false,
      warnings: [],
      views: new Map(),
    };
    let sections: XrefSection[][] | undefined;
    try {
      sections = readChain(doc, header);
    } catch (e) {
      if (e instanceof PdfError && e.code !== 'invalid-pdf') throw e;
      doc.warnings.push(`cross-reference data unreadable (${(e as Error).message}); rebuilt by scanning the file`);
    }
    if (sections) buildRevisions(doc, sections);
    let reader = new PdfReader(doc, doc.revisions.length - 1);
    if (sections) {
      checkEncryption(doc);
      try {
        reader.catalog();
      } catch (e) {
        if (!(e instanceof PdfError) || e.code !== 'invalid-pdf') throw e;
        doc.warnings.push('the document catalog is not where the cross-reference data says; rebuilt by scanning the file');
        sections = undefined;
      }
    }
    if (!sections) {
      useReconstruction(doc);
      checkEncryption(doc);
      reader = new PdfReader(doc, 0);
      reader.catalog();
    }
    doc.views.set(reader.revisionIndex, reader);
    return reader;
  }

  get bytes(): Uint8Array {
    return this.doc.bytes;
  }
  /** The version in the %PDF- header, e.g. "1.7". */
  get version(): string {
    return this.doc.version;
  }
  get limits(): Readonly<PdfLimits> {
    return this.doc.limits;
  }
  /** Revisions this view sees, oldest first. */
  get revisions(): Revision[] {
    return (this.revisionList ??= this.doc.revisions.slice(0, this.revisionIndex + 1));
  }
  /** Offset just past every %%EOF marker in the file (and its line end), ascending; independent of the xref chain. */
  get eofOffsets(): number[] {
    return this.doc.eofOffsets;
  }
  get trailer(): PdfDict {
    return this.doc.revisions[this.revisionIndex]!.trailer;
  }
  /** Where new objects can start numbering: the larger of /Size and the highest listed object + 1. */
  get size(): number {
    const s = this.trailer.get('Size');
    // A hostile /Size must not push new object numbers into the billions.
    const declared = typeof s === 'number' && Number.isSafeInteger(s) && s > 0 && s <= this.doc.limits.maxObjects ? s : 0;
    return Math.max(declared, this.doc.maxNums[this.revisionIndex]! + 1, 1);
  }
  /**
   * True when the cross-reference data was damaged and objects were found by scanning the file
   * (set during load, or later when an xref offset turns out wrong). Details are in `warnings`.
   */
  get repaired(): boolean {
    return this.doc.repaired;
  }
  get warnings(): readonly string[] {
    return this.doc.warnings;
  }
  /** The reconstructed cross-reference (scanned on first use); the writer needs it for damaged files. */
  reconstruction(): Reconstruction {
    return (this.doc.reconstruction ??= reconstructXref(this.doc.bytes, this.doc.limits));
  }

  /** Whether this view sees the newest revision (an incremental update must start from it). */
  get isLatest(): boolean {
    return this.revisionIndex === this.doc.revisions.length - 1;
  }

  /** A view that sees only revisions 0…i. */
  atRevision(i: number): PdfReader {
    if (!Number.isInteger(i) || i < 0 || i >= this.doc.revisions.length) {
      throw new RangeError(`no revision ${i} (the document has ${this.doc.revisions.length})`);
    }
    if (i === this.revisionIndex) return this;
    // One view per revision, so its object cache is shared by everyone who asks for it.
    let view = this.doc.views.get(i);
    if (!view) {
      view = new PdfReader(this.doc, i);
      this.doc.views.set(i, view);
    }
    return view;
  }

  /** The entry for object `num` in the newest revision of this view that lists it. */
  xrefEntry(num: number): XrefEntry | undefined {
    const revs = this.doc.revisions;
    for (let i = this.revisionIndex; i >= 0; i--) {
      const e = revs[i]!.entries.get(num);
      if (e) return e;
    }
    return undefined;
  }

  /** An indirect object's value; null when it is free or missing (as the spec says). */
  getObject(refOrNum: PdfRef | number): PdfValue {
    const num = typeof refOrNum === 'number' ? refOrNum : refOrNum.num;
    const cached = this.cache.get(num);
    if (cached !== undefined) return cached;
    if (this.loading.has(num)) throw damaged(`object ${num} depends on itself`);
    // Stream lengths and object streams can chain loads; a hostile chain must not exhaust the stack.
    if (this.loading.size >= this.doc.limits.maxResolveDepth) throw damaged(`objects depend on each other more than ${this.doc.limits.maxResolveDepth} deep`);
    this.loading.add(num);
    try {
      const v = this.loadObject(num);
      this.cache.set(num, v);
      return v;
    } finally {
      this.loading.delete(num);
    }
  }

  /** Follows indirect references until a direct value. */
  resolve(v: PdfValue | undefined): PdfValue | undefined {
    for (let depth = 0; v instanceof PdfRef; depth++) {
      if (depth >= this.doc.limits.maxResolveDepth) throw damaged(`a chain of references through object ${v.num} does not end`);
      v = this.getObject(v);
    }
    return v;
  }

  /** The document catalog (/Root). */
  catalog(): PdfDict {
    const revs = this.doc.revisions;
    for (let i = this.revisionIndex; i >= 0; i--) {
      const root = revs[i]!.trailer.get('Root');
      if (root === undefined) continue;
      const c = this.resolve(root);
      if (c instanceof PdfDict) return c;
      break;
    }
    throw damaged('the document catalog (/Root) is missing');
  }

  /** All pages in order, with inherited attributes applied. */
  pages(): PageInfo[] {
    return (this.pageList ??= collectPages(this));
  }

  /** A stream's decoded data, bounded by `limits.maxDecodedStreamBytes`. */
  decodeStream(stream: PdfStream): Uint8Array {
    return decodeStreamData(stream, this.doc.limits, (v) => this.resolve(v));
  }

  private loadObject(num: number): PdfValue {
    const listed = this.xrefEntry(num);
    const e = listed ?? (this.doc.repaired ? this.reconstruction().entries.get(num) : undefined);
    if (!e || e.type === 'free') return null;
    if (e.type === 'compressed') return this.loadCompressed(num, e.stream, e.index);
    const v = this.parseAt(num, e.offset, !listed);
    if (v !== undefined) return v;
    // The xref offset is wrong: look where the file really has the object.
    this.markRepaired(`object ${num} is not at the offset its cross-reference entry gives`);
    const found = this.reconstruction().entries.get(num);
    if (found?.type === 'used' && found.offset !== e.offset) return this.parseAt(num, found.offset, true) ?? null;
    if (found?.type === 'compressed') return this.loadCompressed(num, found.stream, found.index);
    return null;
  }

  private parseAt(num: number, offset: number, scanned = false): PdfValue | undefined {
    if (offset <= 0 || offset >= this.doc.bytes.length) return undefined;
    try {
      const o = new PdfParser(this.doc.bytes, offset, this.objectEnd(offset, scanned)).parseIndirectObject((r) => this.lengthOf(r));
      return o.num === num ? o.value : undefined;
    } catch (e) {
      if (e instanceof PdfError && e.code !== 'invalid-pdf') throw e;
      return undefined;
    }
  }

  /**
   * Objects do not overlap, so the one at `offset` ends by the next object offset known (from the
   * xref sections, or from scanning for offsets that came from scanning). Without this bound, thousands
   * of objects with an unterminated string or stream would each be read to the end of the file.
   */
  private objectEnd(offset: number, scanned: boolean): number {
    const doc = this.doc;
    const starts = scanned
      ? (doc.scanStarts ??= sortedOffsets(this.reconstruction().entries.values()))
      : (doc.xrefStarts ??= sortedOffsets(currentEntries(doc)));
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return starts[lo] ?? doc.bytes.length;
  }

  private lengthOf(r: PdfRef): number | undefined {
    try {
      const v = this.resolve(r);
      return typeof v === 'number' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private loadCompressed(num: number, container: number, index: number): PdfValue {
    let os = this.objectStreams.get(container);
    if (!os) {
      const s = this.getObject(container);
      if (!(s instanceof PdfStream)) throw damaged(`object stream ${container} (holding object ${num}) is missing`);
      os = readObjectStreamHeader(this.decodeStream(s), s.dict, this.doc.limits);
      this.objectStreams.set(container, os);
    }
    const i = os.nums[index] === num ? index : os.nums.indexOf(num);
    if (i < 0) return null;
    const next = os.offsets[i + 1];
    const end = next !== undefined && next > os.offsets[i]! ? next : os.data.length;
    return new PdfParser(os.data, os.offsets[i]!, end).parseObject();
  }

  private markRepaired(warning: string): void {
    this.doc.repaired = true;
    if (this.doc.warnings.length < 100) this.doc.warnings.push(warning);
  }
}

/**
 * The newest entry of each object plus every xref section's own offset. Superseded entries are left
 * out: an update that repairs an object's offset leaves the old, wrong one (maybe inside the object) behind.
 */
function currentEntries(doc: Document): XrefEntry[] {
  const newest = new Map<number, XrefEntry>();
  for (let i = doc.revisions.length - 1; i >= 0; i--) {
    for (const [num, e] of doc.revisions[i]!.entries) if (!newest.has(num)) newest.set(num, e);
  }
  return [...newest.values(), ...doc.revisions.map((r): XrefEntry => ({ type: 'used', offset: r.startxref, gen: 0 }))];
}

function sortedOffsets(entries: Iterable<XrefEntry>): number[] {
  const set = new Set<number>();
  for (const e of entries) if (e.type === 'used' && e.offset > 0) set.add(e.offset);
  return [...set].sort((a, b) => a - b);
}

function findEofs(buf: Buffer): { starts: number[]; ends: number[] } {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = buf.indexOf('%%EOF', 0, 'latin1'); i >= 0; i = buf.indexOf('%%EOF', i + 5, 'latin1')) {
    starts.push(i);
    ends.push(afterEol(buf, i + 5));
  }
  return { starts, ends };
}

function afterEol(buf: Uint8Array, p: number): number {
  if (buf[p] === 0x0d) p++;
  if (buf[p] === 0x0a) p++;
  return p;
}

function intOf(v: PdfValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** The startxref value, or undefined when the file has none we can read. */
function findStartxref(buf: Buffer): number | undefined {
  const i = buf.lastIndexOf('startxref', buf.length, 'latin1');
  if (i < 0) return undefined;
  const p = new PdfParser(buf, i + 9);
  try {
    return intOf(p.parseObject() as PdfValue);
  } catch {
    return undefined;
  }
}

/**
 * Follows startxref and the /Prev chain; returns the sections grouped by revision, newest first.
 * A section whose /Prev points forward is a linearized file's first-page section: it belongs to the
 * same revision as the section it points to.
 */
function readChain(doc: Document, headerOffset: number): XrefSection[][] {
  const start = findStartxref(doc.buf);
  if (start === undefined) throw damaged('the file has no startxref (it may be truncated)');
  const groups: XrefSection[][] = [];
  const seen = new Set<number>();
  let offset: number | undefined = start;
  let count = 0;
  const read = (off: number): XrefSection => {
    if (++count > doc.limits.maxXrefSections) {
      throw new PdfError('pdf-limit', `The PDF has more than ${doc.limits.maxXrefSections} cross-reference sections.`);
    }
    seen.add(off);
    return readXrefSection(doc.bytes, off, doc.limits);
  };
  let previous: XrefSection | undefined;
  while (offset !== undefined) {
    if (seen.has(offset)) {
      doc.repaired = true;
      doc.warnings.push(`the /Prev chain of cross-reference sections loops back to byte ${offset}`);
      break;
    }
    let section: XrefSection;
    try {
      section = read(offset);
    } catch (e) {
      if (e instanceof PdfError && e.code !== 'invalid-pdf') throw e;
      // Files with junk before %PDF- often count offsets from the header.
      if (groups.length === 0 && headerOffset > 0 && !seen.has(offset + headerOffset)) {
        try {
          section = read(offset + headerOffset);
        } catch {
          throw e;
        }
      } else if (groups.length === 0) throw e;
      else {
        doc.repaired = true;
        doc.warnings.push(`an older cross-reference section at byte ${offset} is unreadable; older revisions are lost`);
        break;
      }
    }
    const stmOffset = section.kind === 'table' ? intOf(section.trailer.get('XRefStm')) : undefined;
    if (stmOffset !== undefined && !seen.has(stmOffset)) {
      try {
        mergeHybrid(section, read(stmOffset));
      } catch (e) {
        if (e instanceof PdfError && e.code !== 'invalid-pdf') throw e;
        doc.repaired = true;
        doc.warnings.push(`the /XRefStm stream at byte ${stmOffset} is unreadable`);
      }
    }
    if (previous && section.offset > previous.offset) groups[groups.length - 1]!.push(section);
    else groups.push([section]);
    previous = section;
    offset = intOf(section.trailer.get('Prev'));
  }
  return groups;
}

/** A hybrid file's table lists the classic objects; its /XRefStm stream adds those in object streams. */
function mergeHybrid(table: XrefSection, stream: XrefSection): void {
  for (const [num, e] of stream.entries) {
    const t = table.entries.get(num);
    if (t && t.type !== 'free') continue;
    table.entries.set(num, e);
    if (num > table.maxNum) table.maxNum = num;
  }
  table.hybrid = true;
}

function buildRevisions(doc: Document, groups: XrefSection[][]): void {
  const revs: Revision[] = [];
  for (const group of [...groups].reverse()) {
    const first = group[0]!; // the section the chain reached first: its trailer is the revision's
    let entries = first.entries;
    if (group.length > 1) {
      entries = new Map();
      for (const s of group) for (const [n, e] of s.entries) if (!entries.has(n)) entries.set(n, e);
    }
    const end = Math.max(...group.map((s) => s.end));
    const k = doc.eofStarts.findIndex((s) => s >= end);
    let eofOffset = doc.bytes.length;
    let eofMarkerOffset = doc.bytes.length;
    if (k >= 0) {
      eofOffset = doc.eofOffsets[k]!;
      eofMarkerOffset = doc.eofStarts[k]!;
    } else doc.warnings.push(`revision ${revs.length} has no %%EOF after its cross-reference section`);
    revs.push({
      index: revs.length,
      startxref: first.offset,
      eofOffset,
      eofMarkerOffset,
      trailer: first.trailer,
      xrefKind: first.kind,
      entries,
      hybrid: first.hybrid,
    });
    const maxNum = Math.max(...group.map((s) => s.maxNum), doc.maxNums.at(-1) ?? -1);
    doc.maxNums.push(maxNum);
  }
  doc.revisions = revs;
}

function useReconstruction(doc: Document): void {
  const r = reconstructXref(doc.bytes, doc.limits);
  doc.reconstruction = r;
  doc.repaired = true;
  doc.revisions = [
    {
      index: 0,
      startxref: -1,
      eofOffset: doc.eofOffsets.at(-1) ?? doc.bytes.length,
      eofMarkerOffset: doc.eofStarts.at(-1) ?? doc.bytes.length,
      trailer: r.trailer,
      xrefKind: 'table',
      entries: r.entries,
      hybrid: false,
    },
  ];
  doc.maxNums = [r.maxNum];
}

function checkEncryption(doc: Document): void {
  // "/Encrypt null" means no encryption (seen in real files); anything else in any revision does.
  if (doc.revisions.some((r) => r.trailer.get('Encrypt') != null)) {
    throw new PdfError(
      'encrypted-pdf',
      'The PDF is encrypted (password protected); remove the password or restrictions with your PDF tool and upload it again.',
    );
  }
}

export { DEFAULT_PDF_LIMITS, type PdfLimits } from './limits.js';
