/**
 * Pages and their annotations. The page tree, every page's content, resources, size and every
 * existing annotation must stay as signed; a page's /Annots may only gain new annotations. Each new
 * one is judged by what it is: the widget of a signature added in this revision, a slice (骑缝章)
 * of that signature, or an annotation; existing objects placed on a page, annotations removed,
 * repeated or re-ordered (which changes what is drawn on top) are refused.
 */
import { PdfRef, PdfString, type PdfValue } from '../../../pdf/objects.js';
import type { PageInfo, PdfReader } from '../../../pdf/reader.js';
import { Located, refNum, refuse, touchedUnder, type RevisionContext, type RevisionRule } from '../context.js';
import { changedKeys, dictOf, nameOf, resolveSafe, sameContent, visibleRect } from '../objects.js';
import { say } from '../words.js';
import { asList, listProblem } from './lists.js';

const PAGE_WORDS: Record<string, [string, string]> = {
  Contents: ['替换了第 {p} 页的页面内容', 'replaced the content of page {p}'],
  Resources: ['改变了第 {p} 页的资源（字体、图像）', 'changed the resources (fonts, images) of page {p}'],
  MediaBox: ['改变了第 {p} 页的尺寸、裁剪或旋转', 'changed the size, crop or rotation of page {p}'],
};
for (const k of ['CropBox', 'Rotate', 'UserUnit', 'BleedBox', 'TrimBox', 'ArtBox']) PAGE_WORDS[k] = PAGE_WORDS.MediaBox!;

const ANNOTATION_WORDS: Record<string, [string, string]> = {
  Text: ['一条批注', 'a comment'],
  FreeText: ['一个文本框', 'a text box'],
  Stamp: ['一个图章', 'a stamp'],
  Link: ['一个链接', 'a link'],
  Square: ['一个图形', 'a drawing'],
  Circle: ['一个图形', 'a drawing'],
  Line: ['一个图形', 'a drawing'],
  Polygon: ['一个图形', 'a drawing'],
  PolyLine: ['一个图形', 'a drawing'],
  Ink: ['一个手绘图形', 'a freehand drawing'],
  Highlight: ['一处文字标记', 'a text markup'],
  Underline: ['一处文字标记', 'a text markup'],
  StrikeOut: ['一处文字标记', 'a text markup'],
  Squiggly: ['一处文字标记', 'a text markup'],
  FileAttachment: ['一个附件', 'a file attachment'],
  Popup: ['一个弹出注释', 'a pop-up note'],
  Redact: ['一个涂黑标记', 'a redaction mark'],
};

const fill = (t: string, p: number): string => t.replace('{p}', String(p + 1));

/** Intermediate nodes of the page tree (not pages), by object number. */
function treeNodes(reader: PdfReader, pages: PageInfo[]): Set<number> {
  const leaves = new Set(pages.map((p) => p.ref.num));
  const out = new Set<number>();
  const root = reader.catalog().get('Pages');
  const stack: PdfValue[] = root === undefined ? [] : [root];
  while (stack.length > 0 && out.size < 100_000) {
    const r = stack.pop();
    if (!(r instanceof PdfRef) || out.has(r.num) || leaves.has(r.num)) continue;
    out.add(r.num);
    const kids = resolveSafe(reader, dictOf(resolveSafe(reader, r))?.get('Kids'));
    if (Array.isArray(kids)) stack.push(...kids);
  }
  return out;
}

export const pagesRule: RevisionRule = (ctx) => {
  const before = ctx.old.pages();
  const after = ctx.cur.pages();
  if (before.length !== after.length || before.some((p, i) => p.ref.num !== after[i]!.ref.num)) {
    return refuse(ctx, say(`添加、删除或调整了页面（${before.length} 页 → ${after.length} 页）`, `added, removed or re-ordered pages (${before.length} → ${after.length})`));
  }
  for (const num of treeNodes(ctx.cur, after)) {
    if (!ctx.ledger.isTouched(num)) continue;
    const o = resolveSafe(ctx.old, new PdfRef(num));
    const n = resolveSafe(ctx.cur, new PdfRef(num));
    if (sameContent(ctx.old, o, ctx.cur, n)) ctx.ledger.approve(num, 'compared');
    else refuse(ctx, say('改变了页面树（页面列表或所有页继承的尺寸、资源）', 'changed the page tree (the list of pages, or the size or resources all pages inherit)'), [num]);
  }
  const placedOn = new Map<number, number>();
  for (let i = 0; i < after.length; i++) {
    const page = new Located(ctx.cur, after[i]!.ref, { from: 'trailer', path: [] });
    const oldPage = new Located(ctx.old, before[i]!.ref, { from: 'trailer', path: [] });
    judgePage(ctx, i, oldPage, page);
    judgeAnnotations(ctx, i, oldPage.child('Annots'), page.child('Annots'), placedOn);
  }
};

function judgePage(ctx: RevisionContext, index: number, oldPage: Located, page: Located): void {
  const num = refNum(page.raw)!;
  if (!ctx.ledger.isTouched(num)) return;
  const keys = changedKeys(oldPage.dict!, page.dict!).filter((k) => k !== 'Annots');
  for (const k of keys) {
    const [zh, en] = PAGE_WORDS[k] ?? [`改变了第 {p} 页的 /${k}`, `changed /${k} of page {p}`];
    refuse(ctx, say(fill(zh, index), fill(en, index)));
  }
  ctx.ledger.approve(num, 'compared');
}

function annotationWords(subtype: string | undefined): [string, string] {
  return ANNOTATION_WORDS[subtype ?? ''] ?? ['一个注释', `a ${subtype ?? 'new'} annotation`];
}

function judgeAnnotations(ctx: RevisionContext, index: number, oldAnnots: Located, annots: Located, placedOn: Map<number, number>): void {
  const p = index + 1;
  const before = asList(oldAnnots.value);
  const after = asList(annots.value);
  ctx.ledger.approveRef(annots.raw, annots.place);
  const problem = listProblem(before, after);
  if (problem === 'removed') {
    const gone = before.filter((a) => a instanceof PdfRef && !after.some((b) => b instanceof PdfRef && b.num === a.num)).map(refNum);
    const signatureWidget = gone.some((n) => n !== undefined && ctx.formWidgets.has(n));
    refuse(ctx, signatureWidget ? say(`从第 ${p} 页删除了一个表单域或签名的外观`, `removed the appearance of a form field or signature from page ${p}`) : say(`从第 ${p} 页删除了一个注释`, `removed an annotation from page ${p}`));
  } else if (problem === 'reordered') {
    refuse(ctx, say(`调整了第 ${p} 页上注释的顺序（改变了哪一个显示在上层）`, `re-ordered the annotations on page ${p} (which one is drawn on top changed)`));
  } else if (problem === 'duplicated') {
    refuse(ctx, say(`在第 ${p} 页上重复放置了同一个注释或控件`, `placed the same annotation or widget more than once on page ${p}`));
  } else if (problem === 'direct') {
    refuse(ctx, say(`改写了第 ${p} 页上直接写入的注释`, `rewrote an annotation written directly into page ${p}`));
  }
  const old = new Set(before.map(refNum).filter((n): n is number => n !== undefined));
  for (let i = 0; i < after.length; i++) {
    const at = annots.child(i);
    const num = refNum(at.raw);
    if (num === undefined) continue;
    const elsewhere = placedOn.get(num);
    placedOn.set(num, index);
    if (elsewhere !== undefined && elsewhere !== index && !(old.has(num) && ctx.oldAnnotPages.get(num) === elsewhere)) {
      refuse(ctx, say(`把第 ${elsewhere + 1} 页上的注释或控件也放到了第 ${p} 页上`, `placed an annotation or widget of page ${elsewhere + 1} also on page ${p}`), [num]);
      continue;
    }
    if (old.has(num)) judgeExistingAnnotation(ctx, index, num, at);
    else judgeNewAnnotation(ctx, index, num, at);
  }
}

/** An annotation that was there before must show exactly what it showed (form widgets are the form rule's). */
function judgeExistingAnnotation(ctx: RevisionContext, index: number, num: number, at: Located): void {
  if (ctx.formWidgets.has(num)) return;
  const before = resolveSafe(ctx.old, at.raw);
  if (sameContent(ctx.old, before, ctx.cur, at.value)) return;
  refuse(ctx, say(`改变了第 ${index + 1} 页上一个已签注释的外观或内容`, `changed the appearance or content of a signed annotation on page ${index + 1}`), [num, ...touchedUnder(ctx, at.raw)]);
}

/** OneSeal writes the slices of a 骑缝章 as /Stamp annotations named "<field> slice N" in the signature's own revision. */
const SLICE = /^(.+) slice \d+$/;

function judgeNewAnnotation(ctx: RevisionContext, index: number, num: number, at: Located): void {
  const p = index + 1;
  const d = at.dict;
  const entry = ctx.ledger.entry(num);
  if (!d || entry?.status !== 'new') {
    return refuse(ctx, say(`把一个已有对象作为注释放到了第 ${p} 页上`, `placed an existing object on page ${p} as an annotation`), [num]);
  }
  const subtype = nameOf(resolveSafe(ctx.cur, d.get('Subtype')));
  // A closed pop-up note shows nothing until someone opens it.
  const rect = subtype === 'Popup' && resolveSafe(ctx.cur, d.get('Open')) !== true ? undefined : visibleRect(ctx.cur, d);
  const placements = rect ? [{ page: index, rect }] : [];
  const widgetOf = ctx.widgetChanges.get(num);
  if (widgetOf) {
    widgetOf.placements!.push(...placements);
    return ctx.ledger.claim(at.raw);
  }
  if (subtype === 'Widget') {
    if (!ctx.formWidgets.has(num)) refuse(ctx, say(`在第 ${p} 页上添加了一个不属于任何新签名域的表单控件`, `added a form widget on page ${p} that belongs to no new signature field`), [num]);
    return ctx.ledger.claim(at.raw);
  }
  const nm = resolveSafe(ctx.cur, d.get('NM'));
  const sliceOf = subtype === 'Stamp' && nm instanceof PdfString ? SLICE.exec(nm.decodeText())?.[1] : undefined;
  const signing = sliceOf === undefined ? undefined : ctx.changes.find((c) => c.kind === 'signature' && c.signature?.fieldName === sliceOf && c.signature.covered);
  if (signing?.signature) {
    ctx.record(
      { level: 'form-filling', kind: 'signature', fieldName: sliceOf, signature: { ...signing.signature, visible: rect !== undefined }, placements, object: num },
      say(`在第 ${p} 页上添加了签名“${sliceOf}”的骑缝章部分`, `added a straddle-seal slice of the signature "${sliceOf}" on page ${p}`),
    );
  } else {
    const [zh, en] = annotationWords(subtype);
    ctx.record({ level: 'annotations', kind: 'annotation', placements, object: num }, say(`在第 ${p} 页上添加了${zh}`, `added ${en} on page ${p}`));
  }
  ctx.ledger.claim(at.raw);
}
