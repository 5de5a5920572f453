/**
 * What each incremental update changed, judged once per document and shared by every signature:
 * the revision rules of the policy explain what they can, the ledger makes the rest "other".
 */
import { PdfError } from '../../errors.js';
import { PdfDict } from '../../pdf/objects.js';
import type { PdfReader } from '../../pdf/reader.js';
import { annotationPages, catalogNumber, pageIndex, recorder, type RevisionContext, type RevisionRule } from './context.js';
import { Ledger } from './ledger.js';
import type { Change, Rect } from './levels.js';
import { resolveSafe, visibleRect } from './objects.js';
import { UsageIndex } from './usages.js';
import { describeObject, say } from './words.js';

/** Objects indexed across all revisions of one document: many revisions of a large document would take minutes. */
const MAX_TOTAL_OBJECTS = 5_000_000;

export class RevisionDiff {
  private readonly usageCache = new Map<number, UsageIndex>();
  private readonly changeCache = new Map<number, Change[]>();
  private indexed = 0;

  /**
   * @param signedHere signature fields an intact signature signs whose byte range ends at revision r
   */
  constructor(
    private readonly reader: PdfReader,
    private readonly rules: readonly RevisionRule[],
    private readonly signedHere: (revision: number) => ReadonlySet<string>,
  ) {}

  usages(i: number): UsageIndex {
    let index = this.usageCache.get(i);
    if (!index) {
      index = new UsageIndex(this.reader.atRevision(i));
      this.indexed += index.visited;
      if (this.indexed > MAX_TOTAL_OBJECTS) {
        throw new PdfError('pdf-limit', `The PDF has too many revisions of too many objects to compare (over ${MAX_TOTAL_OBJECTS} objects); it cannot be verified.`);
      }
      this.usageCache.set(i, index);
    }
    return index;
  }

  /** What revision `r` (≥ 1) changed relative to revision r − 1. */
  changes(r: number): Change[] {
    let out = this.changeCache.get(r);
    if (!out) {
      out = this.judge(r);
      this.changeCache.set(r, out);
    }
    return out;
  }

  private judge(r: number): Change[] {
    const changes: Change[] = [];
    const record = recorder(r, changes);
    const old = this.reader.atRevision(r - 1);
    const cur = this.reader.atRevision(r);
    try {
      const oldUsages = this.usages(r - 1);
      const ctx: RevisionContext = {
        revision: r,
        old,
        cur,
        ledger: new Ledger(old, cur, this.reader.revisions[r]!, oldUsages),
        oldUsages,
        curUsages: () => this.usages(r),
        signedHere: this.signedHere(r),
        oldPages: pageIndex(old),
        curPages: pageIndex(cur),
        oldAnnotPages: annotationPages(old),
        oldCatalog: old.catalog(),
        curCatalog: cur.catalog(),
        catalogNum: catalogNumber(old),
        widgetChanges: new Map(),
        formWidgets: new Set(),
        record,
        changes,
      };
      for (const rule of this.rules) rule(ctx);
      for (const e of ctx.ledger.unexplained(ctx.curUsages)) {
        const known = e.status !== 'new';
        const where = known ? describeObject(oldUsages, e.num, ctx.oldPages) : describeObject(ctx.curUsages(), e.num, ctx.curPages);
        const what =
          e.status === 'deleted'
            ? say(`删除了${where.zh}`, `deleted ${where.en}`)
            : known
              ? say(`重新定义了${where.zh}`, `redefined ${where.en}`)
              : say(`添加了${where.zh}，没有任何允许的修改能解释它`, `added ${where.en}, which no permitted change explains`);
        record({ level: 'other', kind: 'unexplained', object: e.num }, what);
      }
    } catch (e) {
      if (!(e instanceof PdfError) || e.code !== 'invalid-pdf') throw e;
      record({ level: 'other', kind: 'unexplained' }, say(`无法读取，因此无法判断其修改：${e.message}`, `cannot be read, so its changes cannot be judged: ${e.message}`));
    }
    if (this.reader.repaired) {
      record({ level: 'other', kind: 'unexplained' }, say('所在文件的交叉引用数据已损坏，修订版本之间的差异无法可靠判断', "lies in a file whose cross-reference data is damaged, so the differences between revisions cannot be judged reliably"));
    }
    return changes;
  }

  /** Where each visible annotation (widgets included) of revision i sits, per page: new additions must not cover them. */
  annotationRects(i: number): Map<number, Rect[]> {
    const out = new Map<number, Rect[]>();
    const rd = this.reader.atRevision(i);
    let pages;
    try {
      pages = rd.pages();
    } catch (e) {
      if (e instanceof PdfError && e.code === 'invalid-pdf') return out;
      throw e;
    }
    for (const p of pages) {
      const annots = resolveSafe(rd, p.dict.get('Annots'));
      const rects: Rect[] = [];
      for (const a of Array.isArray(annots) ? annots : []) {
        const d = resolveSafe(rd, a);
        const rect = d instanceof PdfDict ? visibleRect(rd, d) : undefined;
        if (rect) rects.push(rect);
      }
      out.set(p.index, rects);
    }
    return out;
  }
}

