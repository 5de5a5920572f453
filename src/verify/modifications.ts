/**
 * The modification step of one signature: everything the revisions after its own changed, judged
 * against what it permits, in words; and its coverage said honestly ("covers revision 1 of 2;
 * revision 2 adds validation data only") rather than a bare "does not cover the whole document".
 */
import { PdfError } from '../errors.js';
import type { PdfReader } from '../pdf/reader.js';
import { glyphBoxes } from '../pdf/text.js';
import { highestLevel, type Change, type ChangeKind, type Rect } from './diff/levels.js';
import type { RevisionDiff } from './diff/revision-diff.js';
import { judgeChanges, type DiffPolicy, type JudgedChange, type Permissions, type SignedView } from './policy.js';
import { detail, reason, type Bilingual, type Reason } from './reasons.js';
import type { Coverage, ModificationReport } from './report.js';

export interface ModificationResult {
  reasons: Reason[];
  modifications: ModificationReport[];
  coverage: Coverage;
}

export function judgeModifications(reader: PdfReader, diff: RevisionDiff, revision: number, perms: Permissions, policy: DiffPolicy): ModificationResult {
  const last = reader.revisions.length - 1;
  const changes: Change[] = [];
  for (let r = revision + 1; r <= last; r++) changes.push(...diff.changes(r));
  const judged = changes.length > 0 ? judgeChanges(changes, perms, signedView(reader, diff, revision), policy) : [];
  const refused = judged.filter((j) => j.refusal);
  const reasons: Reason[] = [];
  if (refused.length > 0) {
    const shown = refused.slice(0, 5);
    const more = refused.length > shown.length ? { zh: `；……（共 ${refused.length} 处）`, en: `; … (${refused.length} in all)` } : { zh: '', en: '' };
    const level = perms.docMdp ? ` (DocMDP P${perms.docMdp})` : '';
    reasons.push(
      reason(
        'MODIFIED_AFTER_SIGNING',
        detail(
          `不允许的修改${level}：${shown.map((j) => `${j.change.message.zh}（${j.refusal!.zh}）`).join('；')}${more.zh}`,
          `Not permitted${level}: ${shown.map((j) => `${j.change.message.en} (${j.refusal!.en})`).join('; ')}${more.en}.`,
        ),
      ),
    );
  }
  return { reasons, modifications: summarise(judged), coverage: coverage(revision, last + 1, changes) };
}

const textCache = new WeakMap<PdfReader, Map<string, Rect[]>>();

/** What the signed revision shows: its annotations, and its text (none when the text cannot be read). */
function signedView(reader: PdfReader, diff: RevisionDiff, revision: number): SignedView {
  let annotations: Map<number, Rect[]> | undefined;
  return {
    annotations: (page) => (annotations ??= diff.annotationRects(revision)).get(page) ?? [],
    text: (page) => textRects(reader, revision, page),
  };
}

function textRects(reader: PdfReader, revision: number, page: number): Rect[] {
  let cache = textCache.get(reader);
  if (!cache) textCache.set(reader, (cache = new Map()));
  const key = `${revision}|${page}`;
  let rects = cache.get(key);
  if (!rects) {
    try {
      rects = glyphBoxes(reader.atRevision(revision), page);
    } catch (e) {
      if (!(e instanceof PdfError)) throw e;
      rects = [];
    }
    cache.set(key, rects);
  }
  return rects;
}

/** One line per distinct change, with a count: an LTV update touches many objects the same way. */
function summarise(judged: JudgedChange[]): ModificationReport[] {
  const out = new Map<string, ModificationReport & { n: number }>();
  for (const { change, refusal } of judged) {
    const key = `${change.revision}|${change.kind}|${change.message.en}|${refusal?.en ?? ''}`;
    const e = out.get(key);
    if (e) e.n++;
    else out.set(key, { revision: change.revision, level: change.level, kind: change.kind, message: change.message, permitted: !refusal, refusal, n: 1 });
  }
  return [...out.values()].map(({ n, ...m }) => (n > 1 ? { ...m, message: { zh: `${m.message.zh}（${n} 处）`, en: `${m.message.en} (${n} times)` } } : m));
}

const KIND_WORDS: Record<ChangeKind, Bilingual> = {
  'validation-data': { zh: '验证数据', en: 'validation data' },
  metadata: { zh: '文档信息', en: 'document information' },
  'doc-timestamp': { zh: '文档时间戳', en: 'a document time-stamp' },
  signature: { zh: '签名', en: 'a signature' },
  'empty-signature-field': { zh: '空签名域', en: 'an empty signature field' },
  'form-fill': { zh: '表单内容', en: 'form field values' },
  'form-resources': { zh: '表单资源', en: 'form resources' },
  'structure-tree': { zh: '结构标签', en: 'tags' },
  annotation: { zh: '注释', en: 'annotations' },
  unexplained: { zh: '没有任何规则允许的修改', en: 'changes no rule allows' },
};

/** What one later revision did, in a few words. */
function revisionSummary(r: number, changes: Change[]): Bilingual {
  const kinds = [...new Set(changes.map((c) => c.kind))];
  if (kinds.length === 0) return { zh: `修订 ${r + 1} 没有改变任何内容`, en: `revision ${r + 1} changes nothing` };
  if (kinds.includes('unexplained')) return { zh: `修订 ${r + 1} 做了没有任何规则允许的修改`, en: `revision ${r + 1} makes changes no rule allows` };
  if (kinds.every((k) => k === 'validation-data' || k === 'metadata') && kinds.includes('validation-data')) {
    return { zh: `修订 ${r + 1} 仅添加了验证数据`, en: `revision ${r + 1} adds validation data only` };
  }
  const words = kinds.map((k) => KIND_WORDS[k]);
  return { zh: `修订 ${r + 1} 添加或修改了：${words.map((w) => w.zh).join('、')}`, en: `revision ${r + 1} adds or changes: ${words.map((w) => w.en).join(', ')}` };
}

export function coverage(revision: number, revisions: number, changes: Change[]): Coverage {
  const laterLevel = highestLevel(changes.map((c) => c.level));
  if (revision === revisions - 1) {
    return { revision, revisions, laterLevel, message: { zh: `覆盖整个文档（第 ${revision + 1} 个修订版本，共 ${revisions} 个）`, en: `covers the whole document (revision ${revision + 1} of ${revisions})` } };
  }
  const later: Bilingual[] = [];
  for (let r = revision + 1; r < revisions; r++) later.push(revisionSummary(r, changes.filter((c) => c.revision === r)));
  return {
    revision,
    revisions,
    laterLevel,
    message: {
      zh: `覆盖第 ${revision + 1} 个修订版本（共 ${revisions} 个）；${later.map((l) => l.zh).join('；')}`,
      en: `covers revision ${revision + 1} of ${revisions}; ${later.map((l) => l.en).join('; ')}`,
    },
  };
}
