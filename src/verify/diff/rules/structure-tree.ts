/**
 * The logical structure (tags) of a tagged PDF: writers add structure elements for the fields and
 * widgets they create, and update the parent tree. Objects used only inside the structure tree may
 * change at the form-filling level; the tree's references out of itself (/Pg pages, /Obj
 * annotations, /Stm content streams) are not followed, so nothing a page shows is approved here.
 */
import type { PdfValue } from '../../../pdf/objects.js';
import type { PdfReader } from '../../../pdf/reader.js';
import { catalogAt, replaced, type RevisionContext, type RevisionRule } from '../context.js';
import { reachedObjects } from '../objects.js';
import { say } from '../words.js';

/** Keys that leave the structure tree for content. */
const OUTWARD = new Set(['Pg', 'Obj', 'Stm', 'StmOwn']);
const MAX_NODES = 200_000;

const treeObjects = (reader: PdfReader, root: PdfValue | undefined): Set<number> => new Set(reachedObjects(reader, root, { limit: MAX_NODES, skip: OUTWARD }));

export const structureTreeRule: RevisionRule = (ctx: RevisionContext) => {
  const oldTree = catalogAt(ctx, 'old').child('StructTreeRoot');
  const tree = catalogAt(ctx, 'cur').child('StructTreeRoot');
  if (tree.raw === undefined) return;
  const before = treeObjects(ctx.old, oldTree.raw);
  const after = treeObjects(ctx.cur, tree.raw);
  let changed = replaced(ctx, oldTree, tree);
  ctx.ledger.approveRef(tree.raw, tree.place);
  for (const num of after) {
    const e = ctx.ledger.entry(num);
    if (!e) continue;
    changed = true;
    if (e.status === 'new') {
      ctx.ledger.acceptNew(num);
      continue;
    }
    // Cleared where the tree itself used it; a use from a page or anywhere else stays to be explained.
    for (const u of [...e.remaining.values()]) if (u.from !== 'trailer' && (before.has(u.from) || (u.from === ctx.catalogNum && u.path[0] === 'StructTreeRoot'))) ctx.ledger.approve(num, u);
  }
  if (changed) ctx.record({ level: 'form-filling', kind: 'structure-tree', validWhenLocked: true }, say('更新了文档结构树（标签）', "updated the document's structure tree (tags)"));
};
