/**
 * 审计: the audit log, newest first (and as CSV), for auditors and seal-admins; the chain verification (every entry's
 * hash and link, every signed head's signature) on request, and the latest signed head.
 */
import { authorize } from '../../access/policy.js';
import { signAuditHead, verifyAuditLog } from '../../audit/heads.js';
import { AUDIT_FILTERS, auditListing } from '../../api/routes/audit-search.js';
import { latestAuditHead, type AuditRow } from '../../store/audit.js';
import { getPkiKey } from '../../store/pki.js';
import { actionButton, can, card, dateTime, kv, notice, table, type FieldSpec, type View } from '../components.js';
import { html } from '../html.js';
import type { ConsoleRouter } from '../router.js';
import { csvDownload, dateSpecs, listing, type ListingSource } from './listing.js';

export function registerAuditPages(console: ConsoleRouter): void {
  const { services } = console;
  const db = services.store.db;

  const headCard = async (v: View) => {
    const head = await latestAuditHead(db);
    return card(v.t('latestHead'), html`${head ? kv([[v.t('seq'), head.seq], [v.t('at'), dateTime(head.signedAt)], ['SHA-256', html`<span class="mono">${head.hash}</span>`]]) : html`<p class="muted">${v.t('none')}</p>`}
<div class="actions"><a class="button secondary" href="/console/audit/verify">${v.t('verifyChain')}</a>${can(v, 'audit.sign-head') ? actionButton(v, '/console/audit/heads', v.t('signHead'), { secondary: true }) : ''}</div>`);
  };

  const source: ListingSource<AuditRow> = (_req, values) => auditListing(services, values);
  csvDownload(console, '/console/audit', 'audit.read', AUDIT_FILTERS, source);

  console.page('/console/audit', 'audit.read', async (req) => {
    const { v } = req;
    const specs: FieldSpec[] = [{ name: 'actor', label: v.t('actor'), hint: 'person:NAME, client:NAME…' }, { name: 'action', label: v.t('action') }, ...dateSpecs(v, 'from', 'to')];
    const list = await listing(req, '/console/audit', specs, source);
    return {
      title: v.t('audit'),
      section: 'audit',
      body: html`${await headCard(v)}${list.form}
${card(undefined, html`${table([v.t('seq'), v.t('at'), v.t('actor'), v.t('action'), v.t('subject'), v.t('params')], list.rows.map((r) => [
        r.seq, dateTime(r.at), r.actor, html`<span class="mono">${r.action}</span>`, r.subject ?? '—', html`<span class="mono">${r.detailsJson}</span>`,
      ]), { numeric: [0], empty: v.t('none') })}${list.next}`)}`,
    };
  });

  console.page('/console/audit/verify', 'audit.read', async ({ v }) => {
    const auditKey = await getPkiKey(db, 'audit');
    const result = await verifyAuditLog(db, auditKey?.certificate ? [auditKey.certificate] : []);
    return {
      title: v.t('verifyChain'),
      section: 'audit',
      body: html`${result.ok ? notice('ok', v.t('chainOk', { count: result.count })) : notice('bad', v.t('chainBad', { detail: `#${result.seq} ${result.problem}: ${result.message}` }))}
${await headCard(v)}<p><a href="/console/audit">${v.t('back')}</a></p>`,
    };
  });

  console.action('/console/audit/heads', async ({ v, actor }) => {
    authorize(actor, 'audit.sign-head');
    const { signer, certificate } = services.authority.audit;
    await signAuditHead({ db, signer, certificate });
    return { title: v.t('signHead'), section: 'audit', body: html`${notice('ok', v.t('done'))}${await headCard(v)}` };
  });
}
