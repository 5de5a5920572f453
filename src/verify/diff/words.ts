/**
 * Words for changes: what an object is to a person ("the content of page 1", "a font used on page 2")
 * and sentences that start with the revision that made the change. Revisions and pages are counted
 * from 1 here, as people count them; report fields keep 0-based indexes.
 */
import type { Bilingual } from '../reasons.js';
import type { UsageIndex } from './usages.js';

export const say = (zh: string, en: string): Bilingual => ({ zh, en });

/** "修订 2 …" / "revision 2 …" for the 0-based revision index. */
export const inRevision = (revision: number, what: Bilingual): Bilingual => ({ zh: `修订 ${revision + 1} ${what.zh}`, en: `revision ${revision + 1} ${what.en}` });

export const onPage = (page: number | undefined): Bilingual => (page === undefined ? say('', '') : say(`第 ${page + 1} 页上`, ` on page ${page + 1}`));

const quoted = (name: string): Bilingual => say(`“${name}”`, `"${name}"`);

export const fieldWords = (name: string | undefined): Bilingual => (name === undefined ? say('', '') : quoted(name));

/**
 * What object `num` is in the revision `index` describes, from the first path that reaches it:
 * which page, and what it is to that page (content, font, image, annotation appearance) or to the
 * document (catalog entry, form, metadata, validation data).
 */
export function describeObject(index: UsageIndex, num: number, pageOf: ReadonlyMap<number, number>): Bilingual {
  const chain = index.pathTo(num);
  let page = pageOf.get(num);
  const keys: string[] = [];
  for (const u of chain) {
    if (u.from !== 'trailer' && pageOf.has(u.from)) page = pageOf.get(u.from);
    for (const s of u.path) if (typeof s === 'string') keys.push(s);
  }
  const after = (k: string): string | undefined => keys[keys.lastIndexOf(k) + 1];
  const has = (k: string): boolean => keys.includes(k);
  const obj = say(`（对象 ${num}）`, ` (object ${num})`);
  const join = (w: Bilingual): Bilingual => say(`${w.zh}${obj.zh}`, `${w.en}${obj.en}`);
  const p = page === undefined ? undefined : page + 1;

  if (pageOf.has(num) && p !== undefined) return join(say(`第 ${p} 页本身`, `page ${p} itself`));
  if (chain[0]?.from === 'trailer' && chain[0].path[0] === 'Info') return join(say('文档信息', 'the document information'));
  if (has('DSS')) return join(say('验证数据（DSS）', 'the validation data (DSS)'));
  if (has('StructTreeRoot')) return join(say('文档结构树（标签）', "the document's structure tree (tags)"));
  if (p !== undefined) {
    if (has('Annots')) {
      return join(has('AP') ? say(`第 ${p} 页上一个注释或表单域的外观`, `the appearance of an annotation or form field on page ${p}`) : say(`第 ${p} 页上的一个注释`, `an annotation on page ${p}`));
    }
    if (has('Font')) {
      const f = after('Font');
      return join(f ? say(`第 ${p} 页使用的字体 /${f}`, `a font (/${f}) used on page ${p}`) : say(`第 ${p} 页的字体表`, `the fonts of page ${p}`));
    }
    if (has('XObject')) {
      const x = after('XObject');
      return join(x ? say(`第 ${p} 页绘制的图像或图形对象 /${x}`, `an image or form XObject (/${x}) drawn on page ${p}`) : say(`第 ${p} 页的图像和图形对象表`, `the images and form XObjects of page ${p}`));
    }
    if (has('Contents')) return join(say(`第 ${p} 页的页面内容`, `the content of page ${p}`));
    if (has('Resources')) return join(say(`第 ${p} 页的资源`, `the resources of page ${p}`));
    return join(say(`第 ${p} 页使用的一个对象`, `an object used by page ${p}`));
  }
  if (has('AcroForm')) {
    if (has('DR')) return join(say('表单的默认资源', "the form's default resources"));
    if (has('AP')) return join(say('一个表单域的外观', 'the appearance of a form field'));
    if (has('V')) return join(say('一个表单域的值或签名', 'the value or signature of a form field'));
    return join(say('表单', 'the form'));
  }
  if (has('Metadata')) return join(say('XMP 元数据', 'the XMP metadata'));
  if (has('Pages')) return join(say('页面树', 'the page tree'));
  if (has('Outlines')) return join(say('书签', 'the bookmarks'));
  if (has('Names')) return join(say('名称树（目标、附件或脚本）', 'the name trees (destinations, attachments or scripts)'));
  if (has('OpenAction') || has('AA')) return join(say('打开文档时执行的动作', 'an action run when the document opens'));
  if (has('OCProperties')) return join(say('可选内容（图层）的可见性', 'the visibility of optional content (layers)'));
  if (chain.length > 0 && keys[0] === 'Root') return join(keys.length === 1 ? say('文档目录', 'the document catalog') : say(`文档目录项 /${keys[1]}`, `the document catalog entry /${keys[1]}`));
  if (chain.length > 0) return join(say(`尾部字典项 /${keys[0] ?? ''} 引用的对象`, `an object the trailer entry /${keys[0] ?? ''} refers to`));
  return say(`对象 ${num}`, `object ${num}`);
}
