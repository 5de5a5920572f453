/**
 * 用户: people and their roles, for seal-admins and auditors; seal-admins add people, give and take roles,
 * disable and enable them and reset their factors, as the policy says (at once, or proposed for a second
 * seal-admin). A generated password and a TOTP secret are shown once to whoever the rules give them to.
 */
import { disablePerson, readPeople, ungrantRoles } from '../../access/people.js';
import { ROLES } from '../../access/policy.js';
import { requestChange, type ChangeAction } from '../../access/two-person.js';
import { actionButton, badge, can, card, checks, dateTime, field, notice, postForm, table, type View } from '../components.js';
import { html } from '../html.js';
import { roleName } from '../i18n.js';
import type { ConsoleRouter } from '../router.js';
import { outcomeReply } from './outcome.js';

const roleChoices = (v: View, roles: readonly string[] = ROLES) => roles.map((r) => [r, roleName(v.lang, r)] as const);

export function registerPeoplePages(console: ConsoleRouter): void {
  const { services } = console;

  console.page('/console/people', 'person.read', async ({ v, actor }) => {
    const people = await readPeople(services, actor);
    const controls = (p: (typeof people)[number]) => {
      const base = `/console/people/${encodeURIComponent(p.name)}`;
      const grantable = ROLES.filter((r) => !p.roles.includes(r));
      return html`<div class="actions">
${can(v, 'person.grant') && grantable.length ? postForm(v, `${base}/grant`, checks('roles', v.t('roles'), roleChoices(v, grantable)), { submit: v.t('changeGrants'), secondary: true }) : ''}
${can(v, 'person.ungrant') && p.roles.length ? postForm(v, `${base}/ungrant`, checks('roles', v.t('roles'), roleChoices(v, p.roles)), { submit: v.t('removeGrants'), secondary: true }) : ''}
${p.disabled ? (can(v, 'person.enable') ? actionButton(v, `${base}/enable`, v.t('enable'), { secondary: true }) : '') : can(v, 'person.disable') && p.id !== actor.id ? actionButton(v, `${base}/disable`, v.t('disable'), { secondary: true, confirm: v.t('disable') }) : ''}
${can(v, 'person.reset-password') ? actionButton(v, `${base}/reset-password`, v.t('resetPassword'), { secondary: true, confirm: v.t('resetPassword') }) : ''}
${can(v, 'person.reset-totp') ? actionButton(v, `${base}/reset-totp`, v.t('resetTotp'), { secondary: true, confirm: v.t('resetTotp') }) : ''}</div>`;
    };
    const manage = ['person.grant', 'person.ungrant', 'person.disable', 'person.enable', 'person.reset-password', 'person.reset-totp'].some((a) => can(v, a as ChangeAction));
    return {
      title: v.t('people'),
      section: 'people',
      body: html`${card(undefined, table([v.t('name'), v.t('roles'), v.t('status'), v.t('totpEnrolled'), v.t('created'), ...(manage ? [v.t('actions')] : [])], people.map((p) => [
        p.name, p.roles.map((r) => roleName(v.lang, r)).join('、') || '—', p.disabled ? badge('bad', v.t('disabled')) : badge('ok', v.t('enabled')),
        p.totpEnrolled ? v.t('yes') : v.t('no'), html`${dateTime(p.createdAt)}<br><span class="muted">${p.createdBy}</span>`, ...(manage ? [controls(p)] : []),
      ]), { empty: v.t('none') }))}
${can(v, 'person.add') ? card(v.t('addPerson'), postForm(v, '/console/people', html`${field({ name: 'name', label: v.t('name'), required: true, hint: 'a-z 0-9 . _ -' })}${checks('roles', v.t('roles'), roleChoices(v))}`, { submit: v.t('addPerson') })) : ''}`,
    };
  });

  console.action('/console/people', async ({ v, actor }, form) => {
    const outcome = await requestChange(services, actor, 'person.add', { name: form.text('name'), roles: form.all('roles') });
    return outcomeReply(v, v.t('addPerson'), 'people', outcome, '/console/people');
  });

  const change = (path: string, action: ChangeAction, title: Parameters<View['t']>[0], withRoles: boolean) =>
    console.action(`/console/people/:name/${path}`, async ({ ctx, v, actor }, form) => {
      const outcome = await requestChange(services, actor, action, { name: ctx.params.name, ...(withRoles ? { roles: form.all('roles') } : {}) });
      return outcomeReply(v, v.t(title), 'people', outcome, '/console/people');
    });
  change('grant', 'person.grant', 'changeGrants', true);
  change('enable', 'person.enable', 'enable', false);
  change('reset-password', 'person.reset-password', 'resetPassword', false);
  change('reset-totp', 'person.reset-totp', 'resetTotp', false);

  const done = (v: View) => ({ title: v.t('people'), section: 'people' as const, body: html`${notice('ok', v.t('done'))}<p><a href="/console/people">${v.t('back')}</a></p>` });
  console.action('/console/people/:name/ungrant', async ({ ctx, v, actor }, form) => {
    await ungrantRoles(services, actor, { name: ctx.params.name, roles: form.all('roles') });
    return done(v);
  });
  console.action('/console/people/:name/disable', async ({ ctx, v, actor }) => {
    await disablePerson(services, actor, { name: ctx.params.name });
    return done(v);
  });
}
