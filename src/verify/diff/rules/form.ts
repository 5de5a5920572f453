/**
 * The interactive form: filling fields, and adding or signing signature fields.
 *
 * - Filling a field changes its /V; only then may its appearance (/AP, /AS …) change with it, and
 *   an appearance stream rewritten in place is approved only at that field's /AP — a stream or /AP
 *   dictionary the previous revision also used elsewhere stays unexplained ("sneaky" updates).
 *   An appearance change without a value change is the shadow "replace via overlay" attack.
 * - Only signature fields may be created, at the root of the field tree. A signature addition is
 *   modelled explicitly: visible or not, new field or prepared one, and whether an intact signature
 *   whose byte range ends at this very revision signs it (then its signer answers for its look).
 * - Removing, renaming, re-typing, re-ordering or duplicating fields or their widgets is refused.
 */
import { PdfDict, PdfRef } from '../../../pdf/objects.js';
import { catalogAt, refNum, refuse, touchedUnder, type Located, type RevisionContext, type RevisionRule } from '../context.js';
import type { Change, ChangeKind, ModificationLevel } from '../levels.js';
import { changedKeys, nameOf, resolveSafe, sameContent, valuesEqual, visibleRect } from '../objects.js';
import { fieldWords, onPage, say } from '../words.js';
import { listFields, type FormField } from './fields.js';
import { asList, listProblem } from './lists.js';

/** Keys a field may change together with its value (pyHanko's value-update keys without /F: flags hide or show a widget). */
const WITH_VALUE = new Set(['V', 'AS', 'AP', 'DA', 'Q', 'RV', 'I']);
/** Keys that may change at any time: field flags (a read-only lock set after signing). */
const ANY_TIME = new Set(['Ff']);
/** What signing a prepared signature field may set. */
const SIGNING = new Set(['V', 'AP', 'AS', 'Lock', 'SV', 'Ff']);
/** What a widget of a field may change when the field's value changes. */
const WIDGET_WITH_VALUE = new Set(['AS', 'AP', 'DA', 'Q']);
/** Form dictionary entries that only serve appearances and signing. */
const FORM_RESOURCES = new Set(['SigFlags', 'DR', 'DA', 'Q', 'NeedAppearances']);

const LIST_WORDS: Record<string, [string, string]> = {
  removed: ['删除了', 'removed'],
  reordered: ['调整了顺序', 're-ordered'],
  duplicated: ['重复列出了', 'listed twice'],
  direct: ['改写了', 'rewrote'],
};

export const formRule: RevisionRule = (ctx) => {
  const oldForm = catalogAt(ctx, 'old').child('AcroForm');
  const form = catalogAt(ctx, 'cur').child('AcroForm');
  if (!oldForm.dict && !form.dict) return;
  if (!form.dict) return refuse(ctx, say('删除了表单', 'removed the form'));
  judgeFormDictionary(ctx, oldForm, form);
  const oldList = oldForm.child('Fields');
  const list = form.child('Fields');
  ctx.ledger.approveRef(list.raw, list.place);
  const problem = listProblem(asList(oldList.value), asList(list.value));
  if (problem) refuse(ctx, say(`${LIST_WORDS[problem]![0]}表单的域列表中的项`, `${LIST_WORDS[problem]![1]} entries of the form's field list`), [refNum(list.raw)]);

  const before = listFields(oldList);
  const after = listFields(list);
  for (const tree of [before, after]) for (const f of tree.fields.values()) for (const w of f.widgets) if (refNum(w.raw) !== undefined) ctx.formWidgets.add(refNum(w.raw)!);
  for (const name of after.duplicates) if (!before.duplicates.includes(name)) refuse(ctx, say(`添加了与已有表单域同名的域“${name}”`, `added a second form field named "${name}"`));
  for (const name of before.fields.keys()) if (!after.fields.has(name)) refuse(ctx, say(`删除了表单域“${name}”`, `removed form field "${name}"`));
  for (const [name, f] of after.fields) {
    const o = before.fields.get(name);
    if (o) judgeExistingField(ctx, o, f);
    else judgeNewField(ctx, f);
  }
};

function judgeFormDictionary(ctx: RevisionContext, oldForm: Located, form: Located): void {
  const before = oldForm.dict ?? new PdfDict();
  const after = form.dict!;
  const keys = changedKeys(before, after).filter((k) => k !== 'Fields');
  let refused = false;
  for (const k of keys) {
    if (k === 'NeedAppearances' && resolveSafe(ctx.cur, after.get(k)) === true) {
      refuse(ctx, say('要求阅读器重新绘制所有表单域（/NeedAppearances），显示的可能不再是签名时的外观', 'asked viewers to redraw every form field (/NeedAppearances), so they may no longer show what was signed'));
      refused = true;
    } else if (!FORM_RESOURCES.has(k)) {
      refuse(ctx, say(`改变了表单的 /${k}`, `changed the form's /${k}`));
      refused = true;
    }
  }
  if (form.raw instanceof PdfRef) {
    if (oldForm.raw instanceof PdfRef && oldForm.raw.num === form.raw.num) ctx.ledger.approve(form.raw.num, 'compared');
    else ctx.ledger.approveRef(form.raw, form.place);
  }
  const resources = keys.filter((k) => FORM_RESOURCES.has(k));
  // Default resources are often one indirect dictionary that gains a font in place.
  if (!resources.includes('DR') && !sameContent(ctx.old, oldForm.child('DR').raw, ctx.cur, form.child('DR').raw)) resources.push('DR');
  if (refused || resources.length === 0) return;
  approveEntries(ctx, form.child('DR'), 2);
  ctx.record(
    { level: 'form-filling', kind: 'form-resources', validWhenLocked: true },
    say(`更新了表单的签名标志或默认外观资源（${resources.map((k) => `/${k}`).join('、')}）`, `updated the form's signature flags or default appearance resources (${resources.map((k) => `/${k}`).join(', ')})`),
  );
}

/** Approves a dictionary of resources where it sits, and its entries `depth` levels down (fonts in /DR /Font). */
function approveEntries(ctx: RevisionContext, at: Located, depth: number): void {
  ctx.ledger.approveRef(at.raw, at.place);
  ctx.ledger.claim(at.raw);
  const d = at.dict;
  if (!d || depth === 0) return;
  for (const k of d.keys()) approveEntries(ctx, at.child(k), depth - 1);
}

/** Approves an appearance dictionary where the widget holds it, and each state's stream where the dictionary holds it. */
function approveAppearance(ctx: RevisionContext, widget: Located): void {
  const ap = widget.child('AP');
  ctx.ledger.approveRef(ap.raw, ap.place);
  ctx.ledger.claim(ap.raw);
  for (const key of ['N', 'R', 'D']) {
    const face = ap.child(key);
    ctx.ledger.approveRef(face.raw, face.place);
    ctx.ledger.claim(face.raw);
    const states = face.value;
    if (states instanceof PdfDict) {
      for (const s of states.keys()) {
        const state = face.child(s);
        ctx.ledger.approveRef(state.raw, state.place);
        ctx.ledger.claim(state.raw);
      }
    }
  }
}

const pageOf = (ctx: RevisionContext, f: FormField): number | undefined => {
  for (const w of f.widgets) {
    const n = refNum(w.raw);
    if (n !== undefined && ctx.oldAnnotPages.has(n)) return ctx.oldAnnotPages.get(n);
  }
  return undefined;
};

function appearanceWithoutValue(ctx: RevisionContext, f: FormField, page: number | undefined, signed: boolean): void {
  const where = onPage(page);
  const name = fieldWords(f.name);
  const objects = [refNum(f.at.raw), ...f.widgets.flatMap((w) => [refNum(w.raw), ...touchedUnder(ctx, w.dict?.get('AP'))])];
  refuse(
    ctx,
    signed
      ? say(`改变了${where.zh}已签名的签名域${name.zh}的外观`, `changed the appearance of the signed signature field ${name.en}${where.en}`)
      : say(`改变了${where.zh}一个已签表单域${name.zh}的外观，而其值未变`, `changed the appearance of a signed form field ${name.en}${where.en} without changing its value`),
    objects,
    { fieldName: f.name },
  );
}

/** Widgets kept (same objects, same order); the changed keys of each, and whether its appearance shows differently. */
function widgetChanges(ctx: RevisionContext, o: FormField, f: FormField): { problem?: string; keys: string[]; appearance: boolean } {
  const keys = new Set<string>();
  let appearance = false;
  if (o.widgets.length !== f.widgets.length || o.widgets.some((w, i) => refNum(w.raw) !== refNum(f.widgets[i]!.raw))) return { problem: 'widgets', keys: [], appearance: true };
  o.widgets.forEach((w, i) => {
    const nw = f.widgets[i]!;
    if (!w.dict || !nw.dict) return;
    for (const k of changedKeys(w.dict, nw.dict)) keys.add(k);
    if (!sameContent(ctx.old, w.dict.get('AP'), ctx.cur, nw.dict.get('AP')) || !sameContent(ctx.old, w.dict.get('AS'), ctx.cur, nw.dict.get('AS'))) appearance = true;
  });
  return { keys: [...keys], appearance };
}

function judgeExistingField(ctx: RevisionContext, o: FormField, f: FormField): void {
  const num = refNum(f.at.raw);
  const name = fieldWords(f.name);
  if (refNum(o.at.raw) !== num) return refuse(ctx, say(`把表单域${name.zh}换成了另一个对象`, `replaced form field ${name.en} by another object`), [num], { fieldName: f.name });
  if (o.type !== f.type) return refuse(ctx, say(`改变了表单域${name.zh}的类型`, `changed the type of form field ${name.en}`), [num], { fieldName: f.name });
  const before = o.at.dict!;
  const after = f.at.dict!;
  const page = pageOf(ctx, o);
  const merged = f.widgets.length === 1 && refNum(f.widgets[0]!.raw) === num;
  const fieldKeys = changedKeys(before, after).filter((k) => k !== 'Kids');
  const widgets = widgetChanges(ctx, o, f);
  if (widgets.problem || (o.kids && !valuesEqual(o.kids.value, f.kids?.value))) {
    return refuse(ctx, say(`调整、添加或删除了表单域${name.zh}的控件（可能让它显示另一个域的外观）`, `re-ordered, added or removed the widgets of form field ${name.en} (so it may show another field's appearance)`), [num], { fieldName: f.name });
  }
  if (f.kids) ctx.ledger.approveRef(f.kids.raw, f.kids.place);
  const widgetKeys = merged ? [] : widgets.keys;
  if (f.type === 'Sig') return judgeSignatureField(ctx, o, f, fieldKeys, widgetKeys, widgets.appearance, page);

  const valueChanged = !sameContent(ctx.old, before.get('V'), ctx.cur, after.get('V'));
  if (widgets.appearance && !valueChanged) return appearanceWithoutValue(ctx, f, page, false);
  const refusedKeys = [...fieldKeys.filter((k) => !ANY_TIME.has(k) && !(WITH_VALUE.has(k) && valueChanged)), ...widgetKeys.filter((k) => !(WIDGET_WITH_VALUE.has(k) && valueChanged))];
  if (refusedKeys.length > 0) {
    return refuse(ctx, say(`改变了表单域${name.zh}的 ${refusedKeys.map((k) => `/${k}`).join('、')}`, `changed ${refusedKeys.map((k) => `/${k}`).join(', ')} of form field ${name.en}`), [num, ...f.widgets.map((w) => refNum(w.raw))], { fieldName: f.name });
  }
  if (!valueChanged && fieldKeys.length === 0 && widgetKeys.length === 0) return;
  approveField(ctx, f);
  const where = onPage(page);
  if (valueChanged) {
    const v = f.at.child('V');
    ctx.ledger.approveRef(v.raw, v.place);
    ctx.ledger.claim(v.raw);
    ctx.record({ level: 'form-filling', kind: 'form-fill', fieldName: f.name, validWhenLocked: false }, say(`填写了${where.zh}表单域${name.zh}`, `filled in form field ${name.en}${where.en}`));
  } else {
    ctx.record({ level: 'form-filling', kind: 'form-fill', fieldName: f.name, validWhenLocked: true }, say(`改变了表单域${name.zh}的标志（如只读）`, `changed the flags of form field ${name.en} (such as read-only)`));
  }
}

function approveField(ctx: RevisionContext, f: FormField): void {
  const num = refNum(f.at.raw);
  if (num !== undefined) ctx.ledger.approve(num, 'compared');
  for (const w of f.widgets) {
    const n = refNum(w.raw);
    if (n !== undefined) ctx.ledger.approve(n, 'compared');
    approveAppearance(ctx, w);
  }
}

function judgeSignatureField(ctx: RevisionContext, o: FormField, f: FormField, fieldKeys: string[], widgetKeys: string[], appearance: boolean, page: number | undefined): void {
  const num = refNum(f.at.raw);
  const name = fieldWords(f.name);
  const wasSigned = o.at.child('V').value instanceof PdfDict;
  const value = f.at.child('V');
  const isSigned = value.value instanceof PdfDict;
  if (!wasSigned && isSigned) {
    const refused = [...fieldKeys.filter((k) => !SIGNING.has(k)), ...widgetKeys.filter((k) => !WIDGET_WITH_VALUE.has(k))];
    if (refused.length > 0) {
      return refuse(ctx, say(`在签署签名域${name.zh}时改变了其 ${refused.map((k) => `/${k}`).join('、')}`, `changed ${refused.map((k) => `/${k}`).join(', ')} of signature field ${name.en} while signing it`), [num], { fieldName: f.name });
    }
    if (!signatureAddition(ctx, f, false)) return;
    approveField(ctx, f);
    for (const k of ['V', 'Lock', 'SV']) {
      const at = f.at.child(k);
      ctx.ledger.approveRef(at.raw, at.place);
      ctx.ledger.claim(at.raw);
    }
    return;
  }
  if (wasSigned) {
    if (!isSigned || fieldKeys.includes('V')) return refuse(ctx, say(`替换或删除了签名域${name.zh}中的签名`, `replaced or removed the signature in field ${name.en}`), [num], { fieldName: f.name });
    if (value.raw instanceof PdfRef && ctx.ledger.isTouched(value.raw.num)) {
      return refuse(ctx, say(`在签名之后改写了签名域${name.zh}的签名字典（例如签署理由）`, `rewrote the signature dictionary of ${name.en} after signing (its reason, for example)`), [value.raw.num], { fieldName: f.name });
    }
  }
  if (appearance) return appearanceWithoutValue(ctx, f, page, wasSigned);
  const refused = [...fieldKeys.filter((k) => !ANY_TIME.has(k)), ...widgetKeys];
  if (refused.length > 0) {
    return refuse(ctx, say(`改变了签名域${name.zh}的 ${refused.map((k) => `/${k}`).join('、')}`, `changed ${refused.map((k) => `/${k}`).join(', ')} of signature field ${name.en}`), [num], { fieldName: f.name });
  }
  if (fieldKeys.length === 0) return;
  approveField(ctx, f);
  ctx.record({ level: 'form-filling', kind: 'form-fill', fieldName: f.name, validWhenLocked: true }, say(`改变了签名域${name.zh}的标志（如只读）`, `changed the flags of signature field ${name.en} (such as read-only)`));
}

function judgeNewField(ctx: RevisionContext, f: FormField): void {
  const num = refNum(f.at.raw);
  const name = fieldWords(f.name);
  if (num === undefined || ctx.ledger.entry(num)?.status !== 'new') {
    return refuse(ctx, say(`把一个已有对象变成了表单域${name.zh}`, `turned an existing object into form field ${name.en}`), [num], { fieldName: f.name });
  }
  if (f.type !== 'Sig') {
    refuse(ctx, say(`添加了表单域${name.zh}（签名之后只可添加签名域）`, `added form field ${name.en} (after signing only signature fields may be added)`), [num], { fieldName: f.name });
    ctx.ledger.claim(f.at.raw);
    return;
  }
  if (signatureAddition(ctx, f, true)) ctx.ledger.claim(f.at.raw);
}

/**
 * A signature field created or signed in this revision. Its widgets are handed to the page rule,
 * which places them (a prepared field's widget is already on its page).
 */
function signatureAddition(ctx: RevisionContext, f: FormField, newField: boolean): Change | undefined {
  const name = fieldWords(f.name);
  const value = f.at.child('V').value;
  const signed = value instanceof PdfDict;
  const covered = ctx.signedHere.has(f.name);
  const visible = f.widgets.some((w) => w.dict !== undefined && visibleRect(ctx.cur, w.dict) !== undefined);
  if (signed && !covered) {
    refuse(ctx, say(`在签名域${name.zh}中放入了一个并非本修订版本所签的签名值`, `put into signature field ${name.en} a value that is not an intact signature of this revision`), [refNum(f.at.raw)], { fieldName: f.name });
    return undefined;
  }
  const docTimestamp = signed && (value.type === 'DocTimeStamp' || nameOf(value.get('SubFilter')) === 'ETSI.RFC3161');
  const looks = visible ? say('（可见）', ' (visible)') : say('（不可见）', ' (invisible)');
  let level: ModificationLevel;
  let kind: ChangeKind;
  let what;
  if (!signed) {
    kind = 'empty-signature-field';
    // A visible empty field shows an appearance that no signature vouches for: it is judged as an annotation.
    level = visible ? 'annotations' : 'form-filling';
    what = say(`添加了空的签名域${name.zh}${looks.zh}`, `added an empty signature field ${name.en}${looks.en}`);
  } else if (docTimestamp && !visible) {
    kind = 'doc-timestamp';
    level = 'lta-updates';
    what = say(`添加了文档时间戳${name.zh}`, `added the document time-stamp ${name.en}`);
  } else {
    kind = 'signature';
    level = 'form-filling';
    what = newField ? say(`添加了签名${name.zh}${looks.zh}`, `added the signature ${name.en}${looks.en}`) : say(`签署了预置的签名域${name.zh}${looks.zh}`, `signed the prepared signature field ${name.en}${looks.en}`);
  }
  const change = ctx.record(
    {
      level,
      kind,
      fieldName: f.name,
      validWhenLocked: kind !== 'signature' && !visible,
      signature: signed ? { fieldName: f.name, visible, newField, covered } : undefined,
      placements: [],
    },
    what,
  );
  if (newField) for (const w of f.widgets) if (refNum(w.raw) !== undefined) ctx.widgetChanges.set(refNum(w.raw)!, change);
  return change;
}
