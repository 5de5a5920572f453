/**
 * The document catalog. Entries other rules judge (form, DSS, XMP, structure tree) may change; the
 * version and extension declarations may too. Any other entry that changes — the page tree, an open
 * action, optional content visibility, names, outlines — is refused. (Trailer entries besides /Root
 * and /Info show nothing; the objects they share with what is shown are still accounted for, see
 * usages.ts.)
 */
import { changedKeys } from '../objects.js';
import { rootRef } from '../usages.js';
import { catalogAt, refuse, type RevisionRule } from '../context.js';
import { say } from '../words.js';

/** Judged by their own rules (form.ts, dss.ts, metadata.ts, structure-tree.ts). */
const DELEGATED = new Set(['AcroForm', 'DSS', 'Metadata', 'StructTreeRoot']);
/** Declarations about the file, not its content (pyHanko exempts the same ones). */
const DECLARATIONS = new Set(['Extensions', 'MarkInfo', 'Version']);

const CATALOG_WORDS: Record<string, [string, string]> = {
  Pages: ['页面树', 'the page tree'],
  OpenAction: ['打开文档时执行的动作', 'the action run when the document opens'],
  AA: ['文档事件触发的动作', 'the actions run on document events'],
  OCProperties: ['可选内容（图层）的可见性', 'the visibility of optional content (layers)'],
  Names: ['名称树（目标、附件或脚本）', 'the name trees (destinations, attachments or scripts)'],
  Outlines: ['书签', 'the bookmarks'],
  Perms: ['文档权限（认证签名）', 'the document permissions (certification)'],
  Dests: ['命名目标', 'the named destinations'],
  URI: ['链接基址', 'the base of links'],
};

export const catalogRule: RevisionRule = (ctx) => {
  const oldRoot = rootRef(ctx.old);
  const curRoot = rootRef(ctx.cur);
  const keys = changedKeys(ctx.oldCatalog, ctx.curCatalog);
  const refused = keys.filter((k) => !DELEGATED.has(k) && !DECLARATIONS.has(k));
  for (const k of refused) {
    const [zh, en] = CATALOG_WORDS[k] ?? [`文档目录项 /${k}`, `the document catalog entry /${k}`];
    refuse(ctx, say(`改变了${zh}`, `changed ${en}`));
  }
  if (curRoot) {
    if (oldRoot && curRoot.num === oldRoot.num) ctx.ledger.approve(curRoot.num, 'compared');
    else ctx.ledger.approve(curRoot.num, { from: 'trailer', path: ['Root'] });
  }
  const declared = keys.filter((k) => DECLARATIONS.has(k));
  if (declared.length > 0) {
    const cat = catalogAt(ctx, 'cur');
    for (const k of declared) {
      const at = cat.child(k);
      ctx.ledger.approveRef(at.raw, at.place);
      ctx.ledger.claim(at.raw);
    }
    ctx.record({ level: 'lta-updates', kind: 'metadata', validWhenLocked: true }, say(`更新了文档版本或扩展声明（${declared.map((k) => `/${k}`).join('、')}）`, `updated the version or extension declarations (${declared.map((k) => `/${k}`).join(', ')})`));
  }
};
