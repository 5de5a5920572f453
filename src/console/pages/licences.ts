/**
 * 证照: find a licence and view it (personal data only for those the policy shows it to); licence officers
 * issue one from a form generated from the type's definition, with each field's problem (GB 32100 credit
 * code, GB 11643 ID number, dates) shown inline, change it (the next version), revoke it with a reason,
 * download and print it.
 */
import { actorLabel, type PersonActor } from '../../access/actors.js';
import { authorizeLicenceType } from '../../access/policy.js';
import { LICENCE_FILTERS, LICENCE_STATUSES, licenceListing } from '../../api/routes/licence-search.js';
import { licenceFor, viewFor } from '../../api/routes/licences.js';
import { OneSealError, type FieldError } from '../../errors.js';
import { changeLicence, issueLicence, licenceDeps, revokeLicence } from '../../licences/service.js';
import type { FieldDef, LicenceType } from '../../licences/types.js';
import { getLicencePdf, type LicenceRecord } from '../../store/licences.js';
import { badge, can, card, dateTime, field, kv, notice, postForm, table, type FieldSpec, type View } from '../components.js';
import { html, type Part } from '../html.js';
import type { ConsoleRouter } from '../router.js';
import type { Form } from '../web-session.js';
import { csvDownload, dateSpecs, listing, type ListingSource } from './listing.js';

const STATUS_BADGE: Record<string, 'ok' | 'warn' | 'bad' | ''> = { valid: 'ok', superseded: 'warn', revoked: 'bad', expired: '' };

function fieldSpec(v: View, def: FieldDef, value: string | undefined, error: string | undefined): FieldSpec {
  const label = v.lang === 'en' ? def.label.en : def.label.zh;
  const base = { name: `data.${def.name}`, label, required: def.required, ...(value !== undefined ? { value } : {}), ...(error ? { error } : {}) };
  switch (def.kind) {
    case 'enum':
      return { ...base, options: [['', '—'], ...def.values!.map((x) => [x, x] as const)] };
    case 'date':
      return { ...base, hint: v.t('dateHint'), inputmode: 'numeric' };
    case 'date-or-long-term':
      return { ...base, hint: v.t('longTermHint') };
    case 'image':
      return { ...base, type: 'file' };
    default:
      return { ...base, ...(def.maxLength && def.maxLength > 150 ? { type: 'textarea' as const } : {}) };
  }
}

/** The form for a type, from its definition: one field per data field, errors inline. */
function licenceForm(v: View, type: LicenceType, action: string, values: Record<string, string>, errors: readonly FieldError[], submit: string): Part {
  const errorOf = (name: string) => errors.find((e) => e.field === name)?.message;
  const hasImage = type.fields.some((f) => f.kind === 'image');
  return html`${errors.length ? notice('bad', v.t('fixErrors')) : ''}${postForm(v, action, html`<input type="hidden" name="type" value="${type.id}">
${type.fields.map((def) => field(fieldSpec(v, def, def.kind === 'image' ? undefined : values[def.name], errorOf(def.name))))}`, { submit, multipart: hasImage })}`;
}

/** The data fields of a posted form, images as base64. */
function dataOf(type: LicenceType, form: Form): Record<string, string> {
  const data: Record<string, string> = {};
  for (const def of type.fields) {
    const value = def.kind === 'image' ? form.files.get(`data.${def.name}`)?.toString('base64') : form.text(`data.${def.name}`);
    if (value) data[def.name] = value;
  }
  return data;
}

/** Field problems as a re-rendered form (422); any other error is passed on. */
async function withFieldErrors<T>(run: () => Promise<T>, onErrors: (errors: FieldError[]) => Part): Promise<T | { status: number; body: Part }> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof OneSealError && e.code === 'invalid-licence-data' && e.fields) return { status: 422, body: onErrors(e.fields) };
    throw e;
  }
}

export function registerLicencePages(console: ConsoleRouter): void {
  const { services } = console;
  const deps = licenceDeps(services);
  const typeTitle = (v: View, t: LicenceType) => (v.lang === 'en' ? t.title.en : t.title.zh);
  const typeOptions = (v: View) => deps.registry.list().map((t) => [t.id, typeTitle(v, t)] as const);

  const source: ListingSource<LicenceRecord> = (req, values) => licenceListing(deps, req.actor, values);
  csvDownload(console, '/console/licences', 'licence.read', LICENCE_FILTERS, source);

  console.page('/console/licences', 'licence.read', async (req) => {
    const { v, actor } = req;
    const specs: FieldSpec[] = [
      { name: 'type', label: v.t('licenceType'), options: [['', '—'], ...typeOptions(v)] },
      { name: 'holderName', label: v.t('holder') },
      { name: 'holderId', label: v.t('holderId') },
      { name: 'status', label: v.t('status'), options: [['', '—'], ...LICENCE_STATUSES.map((x) => [x, x] as const)] },
      ...dateSpecs(v, 'issuedFrom', 'issuedTo'),
    ];
    const list = await listing(req, '/console/licences', specs, source);
    return {
      title: v.t('licences'),
      section: 'licences',
      body: html`${can(v, 'licence.issue') ? card(v.t('issue'), html`<form method="get" action="/console/licences/new">${field({ name: 'type', label: v.t('licenceType'), options: typeOptions(v) })}<button type="submit">${v.t('issue')}</button></form>`) : ''}
${list.form}
${card(undefined, html`${table([v.t('licenceType'), v.t('holder'), v.t('holderId'), v.t('status'), v.t('issuedAt')], list.rows.map((r) => {
        const shown = viewFor(deps, actor, r) as { status: string; holder: { name: string; id: string } };
        return [html`<a href="/console/licences/${encodeURIComponent(r.id)}">${typeTitle(v, deps.registry.get(r.typeId))} ${r.serial} v${r.version}</a>`, shown.holder.name, shown.holder.id,
          badge(STATUS_BADGE[shown.status] ?? '', shown.status), dateTime(r.issuedAt)];
      }), { empty: v.t('none') })}${list.next}`)}`,
    };
  });

  console.page('/console/licences/new', 'licence.issue', async ({ v, actor, query }) => {
    const type = deps.registry.get(query('type'));
    authorizeLicenceType(actor, 'licence.issue', type.id);
    return { title: `${v.t('issue')}：${typeTitle(v, type)}`, section: 'licences', body: licenceForm(v, type, '/console/licences', {}, [], v.t('issueThis')) };
  });

  console.action('/console/licences', async ({ v, actor }, form) => {
    const type = deps.registry.get(form.text('type'));
    authorizeLicenceType(actor, 'licence.issue', type.id);
    const data = dataOf(type, form);
    const title = `${v.t('issue')}：${typeTitle(v, type)}`;
    const issued = await withFieldErrors(() => issueLicence(deps, { type: type.id, data }, actorLabel(actor)),
      (errors) => licenceForm(v, type, '/console/licences', data, errors, v.t('issueThis')));
    return 'id' in issued ? { redirect: `/console/licences/${encodeURIComponent(issued.id)}?done=issued` } : { title, section: 'licences', ...issued };
  });

  const detail = async (v: View, actor: PersonActor, id: string, extra: Part = '') => {
    const record = await licenceFor(deps, actor, 'licence.read', id);
    const shown = viewFor(deps, actor, record) as { status: string; verifyUrl: string; holder: { name: string; id: string }; data?: Record<string, string> };
    const type = deps.registry.get(record.typeId);
    const base = `/console/licences/${encodeURIComponent(record.id)}`;
    const current = shown.status === 'valid';
    return {
      title: `${typeTitle(v, type)} ${record.serial} v${record.version}`,
      section: 'licences' as const,
      body: html`${extra}${card(undefined, kv([
        [v.t('licenceId'), html`<span class="mono">${record.id}</span>`], [v.t('status'), badge(STATUS_BADGE[shown.status] ?? '', shown.status)],
        [v.t('holder'), shown.holder.name], [v.t('holderId'), shown.holder.id], [v.t('validity'), `${record.validFrom} – ${record.validTo}`],
        [v.t('issuedAt'), record.issuedAt], ...(record.revocationReason ? [[v.t('reason'), record.revocationReason] as const] : []),
        ...(shown.data ? type.fields.filter((f) => f.kind !== 'image').map((f) => [v.lang === 'en' ? f.label.en : f.label.zh, shown.data![f.name] ?? '—'] as const) : []),
        [v.t('verification'), html`<a href="${shown.verifyUrl}">${shown.verifyUrl}</a>`],
      ]))}
<div class="actions">${can(v, 'licence.pdf') ? html`<a class="button" href="${base}/pdf" download>${v.t('downloadPdf')}</a>` : ''}<button type="button" class="secondary" data-print="1">${v.t('print')}</button>
${current && can(v, 'licence.change') ? html`<a class="button secondary" href="${base}/change">${v.t('change')}</a>` : ''}</div>
${current && can(v, 'licence.revoke') ? card(v.t('revoke'), postForm(v, `${base}/revoke`, field({ name: 'reason', label: v.t('revocationReason'), required: true }), { submit: v.t('revoke'), confirm: v.t('revoke') })) : ''}`,
    };
  };

  console.page('/console/licences/:id', 'licence.read', async ({ ctx, v, actor, query }) =>
    detail(v, actor, ctx.params.id!, query('done') === 'issued' ? notice('ok', v.t('issued')) : ''));

  console.page('/console/licences/:id/pdf', 'licence.pdf', async ({ ctx, actor }) => {
    const record = await licenceFor(deps, actor, 'licence.pdf', ctx.params.id!);
    const pdf = await getLicencePdf(deps.db, record.id);
    if (!pdf) throw new OneSealError('licence-not-found', 'not-found', `There is no licence "${record.id}".`);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `attachment; filename="${record.id}.pdf"`);
    ctx.body = pdf;
    return { sent: true };
  });

  console.page('/console/licences/:id/change', 'licence.change', async ({ ctx, v, actor }) => {
    const record = await licenceFor(deps, actor, 'licence.change', ctx.params.id!);
    const type = deps.registry.get(record.typeId);
    return { title: `${v.t('change')}：${typeTitle(v, type)}`, section: 'licences', body: licenceForm(v, type, `/console/licences/${encodeURIComponent(record.id)}/change`, record.data, [], v.t('change')) };
  });

  console.action('/console/licences/:id/change', async ({ ctx, v, actor }, form) => {
    const record = await licenceFor(deps, actor, 'licence.change', ctx.params.id!);
    const type = deps.registry.get(record.typeId);
    const data = { ...Object.fromEntries(type.fields.filter((f) => f.kind === 'image' && record.data[f.name]).map((f) => [f.name, record.data[f.name]!])), ...dataOf(type, form) };
    const changed = await withFieldErrors(() => changeLicence(deps, record.id, data, actorLabel(actor)),
      (errors) => licenceForm(v, type, `/console/licences/${encodeURIComponent(record.id)}/change`, data, errors, v.t('change')));
    return 'id' in changed ? { redirect: `/console/licences/${encodeURIComponent(changed.id)}?done=issued` } : { title: v.t('change'), section: 'licences', ...changed };
  });

  console.action('/console/licences/:id/revoke', async ({ ctx, v, actor }, form) => {
    await licenceFor(deps, actor, 'licence.revoke', ctx.params.id!);
    await revokeLicence(deps, ctx.params.id!, form.text('reason'), actorLabel(actor));
    return detail(v, actor, ctx.params.id!, notice('ok', v.t('done')));
  });
}

