/**
 * The document security store (PAdES long-term validation data) may grow after signing: new
 * certificates, CRLs and OCSP responses, new or extended /VRI entries. Its shape is checked
 * strictly — arrays of streams, VRI keys that are signature hashes, VRI entries that hold only
 * validation data — and removing the store or its /VRI is refused. Items may leave the arrays
 * (PAdES allows dropping data that became irrelevant). None of it shows on a page, and revocation
 * data only counts when its issuer signed it (revocation.ts), so a VRI entry rewritten by an LTV
 * extension (EU DSS rebuilds them) is accepted where pyHanko refuses it.
 */
import { PdfDict, PdfRef, PdfStream } from '../../../pdf/objects.js';
import { catalogAt, refuse, replaced, type Located, type RevisionContext, type RevisionRule } from '../context.js';
import { valuesEqual } from '../objects.js';
import { say } from '../words.js';

const refNumOf = (v: unknown): number => (v instanceof PdfRef ? v.num : -1);

const DSS_ARRAYS = ['Certs', 'CRLs', 'OCSPs'];
const DSS_KEYS = new Set(['Type', 'VRI', ...DSS_ARRAYS]);
const VRI_ARRAYS = ['Cert', 'CRL', 'OCSP'];
const VRI_KEYS = new Set(['Type', 'TU', 'TS', ...VRI_ARRAYS]);
/** The hex SHA-1 of a signature's /Contents (ETSI EN 319 142-1 §5.4.2); some writers use SHA-256 or lower case. */
const VRI_KEY = /^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/;

/** An array of references to streams, approved where it sits; false when it is anything else. */
function streamArray(ctx: RevisionContext, at: Located): boolean {
  const items = at.value;
  if (!Array.isArray(items)) return false;
  ctx.ledger.approveRef(at.raw, at.place);
  for (let i = 0; i < items.length; i++) {
    const item = at.child(i);
    if (!(item.raw instanceof PdfRef) || !(item.value instanceof PdfStream)) return false;
    ctx.ledger.approveRef(item.raw, item.place);
  }
  ctx.ledger.claim(at.raw);
  return true;
}

function checkVri(ctx: RevisionContext, oldVri: PdfDict | undefined, vri: Located): string | undefined {
  const d = vri.dict;
  if (!d) return 'its /VRI is not a dictionary';
  ctx.ledger.approveRef(vri.raw, vri.place);
  for (const key of d.keys()) {
    if (key === 'Type' || (oldVri?.has(key) && valuesEqual(oldVri.get(key), d.get(key)) && !ctx.ledger.isTouched(refNumOf(d.get(key))))) continue;
    if (!VRI_KEY.test(key)) return `VRI key ${key} is not a signature hash`;
    const entry = vri.child(key);
    const e = entry.dict;
    if (!e || [...e.keys()].some((k) => !VRI_KEYS.has(k))) return `VRI entry ${key} is not a validation-data dictionary`;
    ctx.ledger.approveRef(entry.raw, entry.place);
    for (const k of VRI_ARRAYS) if (e.has(k) && !streamArray(ctx, entry.child(k))) return `VRI entry ${key} /${k} is not a list of streams`;
    const ts = entry.child('TS');
    if (ts.raw !== undefined && !(ts.value instanceof PdfStream)) return `VRI entry ${key} /TS is not a stream`;
    ctx.ledger.claim(entry.raw);
  }
  return undefined;
}

export const dssRule: RevisionRule = (ctx) => {
  const oldDss = catalogAt(ctx, 'old').child('DSS');
  const dss = catalogAt(ctx, 'cur').child('DSS');
  if (!replaced(ctx, oldDss, dss)) return;
  if (dss.raw === undefined) return refuse(ctx, say('删除了验证数据（DSS）', 'removed the validation data (DSS)'));
  const d = dss.dict;
  const problem = ((): string | undefined => {
    if (!d) return 'it is not a dictionary';
    const extra = [...d.keys()].find((k) => !DSS_KEYS.has(k));
    if (extra) return `it holds an unexpected entry /${extra}`;
    ctx.ledger.approveRef(dss.raw, dss.place);
    for (const k of DSS_ARRAYS) if (d.has(k) && !streamArray(ctx, dss.child(k))) return `/${k} is not a list of streams`;
    if (oldDss.dict?.has('VRI') && !d.has('VRI')) return 'its /VRI was removed';
    if (d.has('VRI')) return checkVri(ctx, oldDss.child('VRI').dict, dss.child('VRI'));
    return undefined;
  })();
  ctx.ledger.claim(dss.raw);
  if (problem) return refuse(ctx, say(`以不允许的方式改变了验证数据（DSS）：${problem}`, `changed the validation data (DSS) in a way PAdES does not allow: ${problem}`));
  ctx.record({ level: 'lta-updates', kind: 'validation-data', validWhenLocked: true }, say('添加了验证数据（证书、吊销信息）', 'added validation data (certificates, revocation information)'));
};
