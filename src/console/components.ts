/**
 * The console's one layout and its components. Pages are made of these only, so every page has the same
 * header, navigation, language switch, forms with their CSRF token, and tables that stack on a phone.
 */
import type { PersonActor } from '../access/actors.js';
import { allows, type Action } from '../access/policy.js';
import { CSS_PATH, JS_PATH } from './assets.js';
import { html, join, type Html, type Part } from './html.js';
import { roleName, translator, type Lang, type Translate, type Word } from './i18n.js';
import { CSRF_FIELD } from './web-session.js';

/** What every page and component needs to know about the request. */
export interface View {
  lang: Lang;
  t: Translate;
  /** The path and query of this page, for the language switch to come back to. */
  here: string;
  actor?: PersonActor;
  csrf: string;
}

export function view(lang: Lang, here: string, csrf: string, actor?: PersonActor): View {
  return { lang, t: translator(lang), here, csrf, ...(actor ? { actor } : {}) };
}

export const can = (v: View, action: Action): boolean => v.actor !== undefined && allows(v.actor, action);

/** The sections of the console, each shown to those the policy lets read it. */
export const SECTIONS: readonly { id: Word; path: string; needs?: Action }[] = [
  { id: 'overview', path: '/console/' },
  { id: 'proposals', path: '/console/proposals', needs: 'proposal.read' },
  { id: 'seals', path: '/console/seals', needs: 'seal.read' },
  { id: 'clients', path: '/console/clients', needs: 'client.read' },
  { id: 'stamps', path: '/console/stamps', needs: 'stamp.read' },
  { id: 'licences', path: '/console/licences', needs: 'licence.read' },
  { id: 'audit', path: '/console/audit', needs: 'audit.read' },
  { id: 'people', path: '/console/people', needs: 'person.read' },
];

export function csrfField(v: View): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">`;
}

export function layout(v: View, page: { title: string; section?: Word; body: Part }): Html {
  const { t, actor } = v;
  const langUrl = `/console/lang?to=${v.lang === 'en' ? 'zh' : 'en'}&back=${encodeURIComponent(v.here)}`;
  const nav = actor
    ? html`<nav class="main" aria-label="${t('console')}"><ul>${SECTIONS.filter((s) => !s.needs || allows(actor, s.needs)).map((s) =>
      html`<li><a href="${s.path}"${s.id === page.section ? html` aria-current="page"` : ''}>${t(s.id)}</a></li>`)}</ul></nav>`
    : '';
  const who = actor
    ? html`<span class="who">${t('signedInAs', { name: actor.name, roles: actor.roles.map((r) => roleName(v.lang, r)).join('、') })}</span>
      <form class="inline" method="post" action="/console/logout">${csrfField(v)}<button class="link" type="submit">${t('logout')}</button></form>`
    : html`<span class="who"></span>`;
  return html`<!doctype html>
<html lang="${v.lang === 'en' ? 'en' : 'zh-CN'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · ${t('console')}</title>
<link rel="stylesheet" href="${CSS_PATH}">
<script src="${JS_PATH}" defer></script>
</head>
<body>
<a class="skip" href="#main">${t('skip')}</a>
<header class="top"><a class="brand" href="/console/">${t('console')}</a>${who}<a class="lang" href="${langUrl}" lang="${v.lang === 'en' ? 'zh-CN' : 'en'}">${t('otherLang')}</a></header>
${nav}
<main id="main">
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>`;
}

export function notice(kind: 'ok' | 'bad' | 'info', body: Part): Html {
  return html`<div class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">${body}</div>`;
}

export function badge(kind: 'ok' | 'warn' | 'bad' | '', text: string): Html {
  return html`<span class="badge ${kind}">${text}</span>`;
}

export function card(title: string | undefined, body: Part): Html {
  return html`<section class="card">${title ? html`<h2>${title}</h2>` : ''}${body}</section>`;
}

/** A table whose rows become labelled blocks on a phone. */
export function table(headers: readonly string[], rows: readonly (readonly Part[])[], options: { empty?: string; numeric?: readonly number[] } = {}): Html {
  if (rows.length === 0) return html`<p class="muted">${options.empty ?? '—'}</p>`;
  const num = new Set(options.numeric ?? []);
  return html`<div class="table-wrap"><table class="stack"><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((cell, i) => html`<td data-label="${headers[i] ?? ''}"${num.has(i) ? html` class="num"` : ''}>${cell}</td>`)}</tr>`)}</tbody></table></div>`;
}

export function kv(pairs: readonly (readonly [string, Part])[]): Html {
  return html`<dl class="kv">${pairs.map(([k, val]) => html`<dt>${k}</dt><dd>${val ?? '—'}</dd>`)}</dl>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'password' | 'date' | 'search' | 'number' | 'file' | 'textarea';
  value?: string;
  error?: string;
  hint?: string;
  required?: boolean;
  /** A select instead of an input. */
  options?: readonly (readonly [string, string])[];
  autocomplete?: string;
  inputmode?: string;
  pattern?: string;
}

let fieldCounter = 0;

/** A labelled input with its hint and inline error, tied together for screen readers. */
export function field(f: FieldSpec): Html {
  const id = `f-${f.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${(fieldCounter = (fieldCounter + 1) % 1_000_000)}`;
  const describedBy = [f.hint ? `${id}-hint` : '', f.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const common = html` id="${id}" name="${f.name}"${f.required ? html` required` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}${f.error ? html` aria-invalid="true"` : ''}`;
  let control: Html;
  if (f.options) {
    control = html`<select${common}>${f.options.map(([value, label]) => html`<option value="${value}"${value === f.value ? html` selected` : ''}>${label}</option>`)}</select>`;
  } else if (f.type === 'textarea') {
    control = html`<textarea${common} rows="3">${f.value ?? ''}</textarea>`;
  } else {
    control = html`<input type="${f.type ?? 'text'}"${common}${f.type !== 'file' && f.type !== 'password' ? html` value="${f.value ?? ''}"` : ''}${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}${f.inputmode ? html` inputmode="${f.inputmode}"` : ''}${f.pattern ? html` pattern="${f.pattern}"` : ''}>`;
  }
  return html`<div class="field"><label for="${id}">${f.label}</label>${control}${f.hint ? html`<p class="hint" id="${id}-hint">${f.hint}</p>` : ''}${f.error ? html`<p class="error" id="${id}-error">${f.error}</p>` : ''}</div>`;
}

/** Checkboxes for a set of values (roles, scopes, seals). */
export function checks(name: string, legend: string, values: readonly (readonly [string, string])[], checked: readonly string[] = []): Html {
  return html`<fieldset class="checks"><legend>${legend}</legend>${values.map(([value, label]) =>
    html`<label><input type="checkbox" name="${name}" value="${value}"${checked.includes(value) ? html` checked` : ''}> ${label}</label>`)}</fieldset>`;
}

/** A POST form with its CSRF token; `confirm` asks before sending (when scripts run). */
export function postForm(v: View, action: string, body: Part, options: { submit: string; secondary?: boolean; confirm?: string; multipart?: boolean; inline?: boolean } = { submit: '' }): Html {
  return html`<form method="post" action="${action}"${options.inline ? html` class="inline"` : ''}${options.multipart ? html` enctype="multipart/form-data"` : ''}${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>${csrfField(v)}${body}<button type="submit"${options.secondary ? html` class="secondary"` : ''}>${options.submit}</button></form>`;
}

/** A one-button change (approve, rotate, revoke…). */
export function actionButton(v: View, action: string, label: string, options: { confirm?: string; secondary?: boolean; fields?: Part } = {}): Html {
  return postForm(v, action, options.fields ?? '', { submit: label, inline: true, ...options });
}

/** A GET form of filters above a list. */
export function filters(v: View, action: string, fields: readonly FieldSpec[]): Html {
  return html`<form class="filters" method="get" action="${action}" role="search">${fields.map(field)}<button type="submit">${v.t('search')}</button><a class="button secondary" href="${action}">${v.t('reset')}</a></form>`;
}

/** A secret shown once, with a copy button (the button needs scripts; the text can always be selected). */
export function secret(v: View, id: string, label: string, value: string): Html {
  return html`<div class="field"><p><strong>${label}</strong></p><div class="secret"><code id="${id}">${value}</code>
<button type="button" class="secondary" data-copy="${id}" data-done="${v.t('copied')}">${v.t('copy')}</button></div><p class="hint">${v.t('shownOnce')}</p></div>`;
}

export function dateTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

export function list(items: readonly string[]): Html {
  return items.length ? join(items.map((i) => html`<span class="badge">${i}</span>`), ' ') : html`—`;
}
