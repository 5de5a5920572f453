/**
 * 接入系统: system clients with their scopes and grants; seal-admins add one (its API key shown once,
 * with a copy button), grant more (a change under two-person control), take grants away, rotate its key
 * and revoke it: the same access functions as the admin API.
 */
import { clientView, readClients, requireClientRecord, revokeClient, ungrantClient } from '../../access/clients.js';
import { SCOPES } from '../../access/policy.js';
import { requestChange } from '../../access/two-person.js';
import { LicenceTypeRegistry } from '../../licences/registry.js';
import { listSeals } from '../../store/seals.js';
import { actionButton, badge, can, card, checks, dateTime, field, kv, list, notice, postForm, table, type View } from '../components.js';
import { html } from '../html.js';
import type { ConsoleRouter } from '../router.js';
import type { Form } from '../web-session.js';
import { outcomeReply } from './outcome.js';

const licenceTypes = LicenceTypeRegistry.load();

interface Choices {
  seals: [string, string][];
  scopes: [string, string][];
  licenceTypes: [string, string][];
}

/** Checkboxes for seals, scopes and licence types, ticked where `ticked` says. */
function grantFields(v: View, choices: Choices, ticked: { seals: readonly string[]; scopes: readonly string[]; licenceTypes: readonly string[] }) {
  return html`${checks('scopes', v.t('scopes'), choices.scopes, ticked.scopes)}${checks('seals', v.t('grantedSeals'), choices.seals, ticked.seals)}${checks('licenceTypes', v.t('licenceTypes'), choices.licenceTypes, ticked.licenceTypes)}`;
}

const grantsOf = (form: Form) => ({ seals: form.all('seals'), scopes: form.all('scopes'), licenceTypes: form.all('licenceTypes') });

export function registerClientPages(console: ConsoleRouter): void {
  const { services } = console;
  const choices = async (v: View): Promise<Choices> => ({
    seals: (await listSeals(services.store.db)).map((s) => [s.id, `${s.id}（${s.name}）`]),
    scopes: SCOPES.map((s) => [s, s]),
    licenceTypes: licenceTypes.list().map((t) => [t.id, v.lang === 'en' ? t.title.en : t.title.zh]),
  });

  console.page('/console/clients', 'client.read', async ({ v, actor }) => {
    const clients = await readClients(services, actor);
    return {
      title: v.t('clients'),
      section: 'clients',
      body: html`${card(undefined, table([v.t('clientName'), v.t('scopes'), v.t('grantedSeals'), v.t('licenceTypes'), v.t('status'), v.t('created')], clients.map((c) => [
        html`<a href="/console/clients/${c.id}">${c.name}</a>`, list(c.scopes), list(c.seals), list(c.licenceTypes),
        c.revokedAt ? badge('bad', v.t('revoked')) : badge('ok', v.t('active')), dateTime(c.createdAt),
      ]), { empty: v.t('none') }))}
${can(v, 'client.create') ? card(v.t('createClient'), postForm(v, '/console/clients', html`${field({ name: 'name', label: v.t('clientName'), required: true })}${grantFields(v, await choices(v), { seals: [], scopes: ['stamps'], licenceTypes: [] })}`, { submit: v.t('createClient') })) : ''}`,
    };
  });

  console.page('/console/clients/:ref', 'client.read', async ({ ctx, v }) => {
    const c = clientView(await requireClientRecord(services.store.db, ctx.params.ref));
    const all = await choices(v);
    const base = `/console/clients/${c.id}`;
    const open = !c.revokedAt;
    return {
      title: `${v.t('client')} ${c.name}`,
      section: 'clients',
      body: html`${card(undefined, kv([[v.t('id'), html`<span class="mono">${c.id}</span>`], [v.t('scopes'), list(c.scopes)], [v.t('grantedSeals'), list(c.seals)],
        [v.t('licenceTypes'), list(c.licenceTypes)], [v.t('created'), dateTime(c.createdAt)], [v.t('status'), c.revokedAt ? html`${badge('bad', v.t('revoked'))} ${dateTime(c.revokedAt)}` : badge('ok', v.t('active'))]]))}
${open && can(v, 'client.grant') ? card(v.t('changeGrants'), postForm(v, `${base}/grant`, grantFields(v, {
        seals: all.seals.filter(([s]) => !c.seals.includes(s)), scopes: all.scopes.filter(([s]) => !c.scopes.includes(s as never)), licenceTypes: all.licenceTypes.filter(([s]) => !c.licenceTypes.includes(s)),
      }, { seals: [], scopes: [], licenceTypes: [] }), { submit: v.t('changeGrants') })) : ''}
${open && can(v, 'client.ungrant') ? card(v.t('removeGrants'), postForm(v, `${base}/ungrant`, grantFields(v, {
        seals: c.seals.map((s) => [s, s]), scopes: c.scopes.map((s) => [s, s]), licenceTypes: c.licenceTypes.map((s) => [s, s]),
      }, { seals: [], scopes: [], licenceTypes: [] }), { submit: v.t('removeGrants'), secondary: true })) : ''}
${open && (can(v, 'client.rotate-key') || can(v, 'client.revoke')) ? html`<div class="actions">${can(v, 'client.rotate-key') ? actionButton(v, `${base}/rotate-key`, v.t('rotateKey'), { confirm: v.t('rotateKey') }) : ''}
${can(v, 'client.revoke') ? actionButton(v, `${base}/revoke`, v.t('revoke'), { confirm: v.t('revoke'), secondary: true }) : ''}</div>` : ''}`,
    };
  });

  console.action('/console/clients', async ({ v, actor }, form) => {
    const outcome = await requestChange(services, actor, 'client.create', { name: form.text('name'), ...grantsOf(form) });
    return outcomeReply(v, v.t('createClient'), 'clients', outcome, '/console/clients');
  });

  console.action('/console/clients/:ref/grant', async ({ ctx, v, actor }, form) => {
    const outcome = await requestChange(services, actor, 'client.grant', { client: ctx.params.ref, ...grantsOf(form) });
    return outcomeReply(v, v.t('changeGrants'), 'clients', outcome, `/console/clients/${ctx.params.ref}`);
  });

  console.action('/console/clients/:ref/rotate-key', async ({ ctx, v, actor }) => {
    const outcome = await requestChange(services, actor, 'client.rotate-key', { client: ctx.params.ref });
    return outcomeReply(v, v.t('rotateKey'), 'clients', outcome, `/console/clients/${ctx.params.ref}`);
  });

  console.action('/console/clients/:ref/ungrant', async ({ ctx, v, actor }, form) => {
    await ungrantClient(services, actor, { client: ctx.params.ref, ...grantsOf(form) });
    return { title: v.t('removeGrants'), section: 'clients', body: html`${notice('ok', v.t('done'))}<p><a href="/console/clients/${ctx.params.ref}">${v.t('back')}</a></p>` };
  });

  console.action('/console/clients/:ref/revoke', async ({ ctx, v, actor }) => {
    await revokeClient(services, actor, ctx.params.ref!);
    return { title: v.t('revoke'), section: 'clients', body: html`${notice('ok', v.t('done'))}<p><a href="/console/clients/${ctx.params.ref}">${v.t('back')}</a></p>` };
  });
}
