/**
 * What a change did, as a page: carried out (its result, secrets such as a new API key shown once with a
 * copy button) or proposed for a second seal-admin (with anything disclosed to the proposer).
 */
import type { ChangeOutcome } from '../../access/two-person.js';
import { kv, notice, secret, type View } from '../components.js';
import { html, type Part } from '../html.js';
import type { Word } from '../i18n.js';
import type { PageReply } from '../router.js';

/** Result fields that are secrets: shown once, each with a copy button. */
const SECRETS: Record<string, Word> = { key: 'apiKey', password: 'generatedPassword', totpSecret: 'totpSecret' };

function fieldValue(value: unknown): Part {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return html`<span class="mono">${JSON.stringify(value)}</span>`;
  return String(value);
}

export function resultBody(v: View, result: Record<string, unknown>): Part {
  const entries = Object.entries(result).filter(([, value]) => value !== undefined);
  const secrets = entries.filter(([k, value]) => k in SECRETS && typeof value === 'string');
  const plain = entries.filter(([k]) => !(k in SECRETS) && k !== 'otpauthUrl');
  return html`${secrets.map(([k, value]) => secret(v, `secret-${k}`, v.t(SECRETS[k]!), value as string))}${plain.length ? kv(plain.map(([k, value]) => [k, fieldValue(value)])) : ''}`;
}

export function outcomeReply(v: View, title: string, section: Word, outcome: ChangeOutcome, back: string): PageReply {
  const body = outcome.executed
    ? html`${notice('ok', v.t('done'))}${resultBody(v, outcome.result)}`
    : html`${notice('info', html`${v.t('proposed')} <a href="/console/proposals#p-${outcome.proposal.id}">${outcome.proposal.id}</a>`)}${outcome.disclosed ? resultBody(v, outcome.disclosed) : ''}`;
  return { title, section, status: outcome.executed ? 200 : 202, body: html`${body}<p><a href="${back}">${v.t('back')}</a></p>` };
}
