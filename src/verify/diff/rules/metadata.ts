/**
 * Document information (trailer /Info) and XMP metadata (catalog /Metadata) may be updated at the
 * LTV level: nothing on a page shows them. The replacement must still be what it claims to be — an
 * information dictionary, an XMP packet — and is approved only where the old one was reached.
 */
import { PdfError } from '../../../errors.js';
import { PdfStream } from '../../../pdf/objects.js';
import { Located, catalogAt, refuse, replaced, type RevisionRule } from '../context.js';
import { say } from '../words.js';

export const documentInfoRule: RevisionRule = (ctx) => {
  const at = { from: 'trailer' as const, path: ['Info'] };
  const oldInfo = new Located(ctx.old, ctx.old.trailer.get('Info'), at);
  const curInfo = new Located(ctx.cur, ctx.cur.trailer.get('Info'), at);
  if (curInfo.raw === undefined || !replaced(ctx, oldInfo, curInfo)) return;
  const d = curInfo.dict;
  if (!d) return refuse(ctx, say('把文档信息换成了不是字典的对象', 'replaced the document information by something that is not a dictionary'));
  ctx.ledger.approveRef(curInfo.raw, at);
  for (const k of d.keys()) {
    const entry = curInfo.child(k);
    ctx.ledger.approveRef(entry.raw, entry.place);
  }
  ctx.ledger.claim(curInfo.raw);
  ctx.record({ level: 'lta-updates', kind: 'metadata', validWhenLocked: true }, say('更新了文档信息（标题、作者、日期）', 'updated the document information (title, author, dates)'));
};

/** Markers one of which every XMP packet carries (ISO 16684-1). */
const XMP_MARKERS = ['<x:xmpmeta', '<rdf:RDF', '<?xpacket'];

function xmpText(ctx: Parameters<RevisionRule>[0], s: unknown): string {
  if (!(s instanceof PdfStream)) return '';
  try {
    return Buffer.from(ctx.cur.decodeStream(s)).toString('latin1');
  } catch (e) {
    if (e instanceof PdfError && e.code === 'invalid-pdf') return '';
    throw e;
  }
}

export const xmpRule: RevisionRule = (ctx) => {
  const oldMeta = catalogAt(ctx, 'old').child('Metadata');
  const curMeta = catalogAt(ctx, 'cur').child('Metadata');
  if (curMeta.raw === undefined || !replaced(ctx, oldMeta, curMeta)) return;
  const text = xmpText(ctx, curMeta.value);
  if (!XMP_MARKERS.some((m) => text.includes(m))) {
    return refuse(ctx, say('把 XMP 元数据换成了不是 XMP 的内容', 'replaced the XMP metadata by something that is not XMP'));
  }
  ctx.ledger.approveRef(curMeta.raw, curMeta.place);
  ctx.ledger.claim(curMeta.raw);
  ctx.record({ level: 'lta-updates', kind: 'metadata', validWhenLocked: true }, say('更新了 XMP 元数据', 'updated the XMP metadata'));
};
