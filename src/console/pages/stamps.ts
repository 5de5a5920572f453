/**
 * 用印记录: the stamp register searched and filtered (newest first), one stamp's record with its placement
 * and the verification of its stored output, and the PDF download, each as the policy allows: operators
 * see neither file names nor case numbers, and only those with stamp.pdf open the document.
 */
import { allows } from '../../access/policy.js';
import { timeFilter } from '../../api/search-query.js';
import { sendStoredPdf, stampViewFor, storedPdf, visibleStamp } from '../../api/routes/stamps.js';
import { findClientByName } from '../../store/clients.js';
import { searchStamps } from '../../store/stamps.js';
import { VERDICT_WORDS } from '../../verify/text-report.js';
import { badge, can, card, dateTime, kv, table, type FieldSpec } from '../components.js';
import { html } from '../html.js';
import type { ConsoleRouter } from '../router.js';
import { dateSpecs, listing } from './listing.js';

export function registerStampPages(console: ConsoleRouter): void {
  const { services } = console;
  const db = services.store.db;

  console.page('/console/stamps', 'stamp.read', async (req) => {
    const { v, actor } = req;
    const personal = allows(actor, 'stamp.personal-data');
    const specs: FieldSpec[] = [
      ...(personal ? [{ name: 'caseNumber', label: v.t('caseNumber') }] : []),
      { name: 'itemCode', label: v.t('itemCode') },
      { name: 'client', label: v.t('client') },
      { name: 'seal', label: v.t('seal') },
      ...dateSpecs(v, 'from', 'to'),
      ...(personal ? [{ name: 'filename', label: v.t('filename') }] : []),
    ];
    const list = await listing(req, '/console/stamps', specs, async (q, after, limit) => {
      const clientId = q.client ? (await findClientByName(db, q.client))?.id ?? q.client : undefined;
      return searchStamps(db, {
        clientId, sealId: q.seal, caseNumber: q.caseNumber, itemCode: q.itemCode, filename: q.filename,
        from: timeFilter('from', q.from), to: timeFilter('to', q.to, true),
      }, after, limit);
    }, (s) => [s.createdAt, s.id]);
    return {
      title: v.t('stamps'),
      section: 'stamps',
      body: html`${list.form}
${card(undefined, html`${table([v.t('at'), v.t('seal'), v.t('client'), v.t('itemCode'), ...(personal ? [v.t('caseNumber'), v.t('filename')] : []), v.t('level')], list.rows.map((s) => [
        html`<a href="/console/stamps/${s.id}">${dateTime(s.createdAt)}</a>`, `${s.sealId} v${s.sealVersion}`, s.clientName, s.itemCode ?? '—',
        ...(personal ? [s.caseNumber ?? '—', s.filename ?? '—'] : []), s.level,
      ]), { empty: v.t('none') })}${list.next}`)}`,
    };
  });

  console.page('/console/stamps/:id', 'stamp.read', async ({ ctx, v, actor }) => {
    const stamp = await visibleStamp(actor, services, ctx.params.id!, 'stamp.read');
    const record = stampViewFor(actor, stamp);
    const mayOpen = can(v, 'stamp.pdf') && stamp.outputPath !== null;
    const report = mayOpen ? await services.verifier.verifyWithin(services.config.requestTimeoutMs, await storedPdf(services, stamp)) : undefined;
    return {
      title: `${v.t('stamps')} ${stamp.id}`,
      section: 'stamps',
      body: html`${card(undefined, kv([
        [v.t('at'), dateTime(record.createdAt)], [v.t('client'), stamp.clientName], [v.t('seal'), `${record.seal.id} v${record.seal.version}`],
        [v.t('serial'), html`<span class="mono">${record.seal.certSerial}</span>`], [v.t('level'), record.level], [v.t('itemCode'), record.itemCode ?? '—'],
        ...('caseNumber' in record ? [[v.t('caseNumber'), record.caseNumber ?? '—'] as const, [v.t('filename'), record.filename ?? '—'] as const] : []),
        ['SHA-256', html`<span class="mono">${record.sha256.after}</span>`],
        [v.t('placement'), html`<span class="mono">${JSON.stringify(record.placement)}</span>`],
      ]))}
${report ? card(v.t('verification'), html`<p>${badge(report.verdict === 'valid' ? 'ok' : 'bad', v.lang === 'en' ? VERDICT_WORDS[report.verdict].en : VERDICT_WORDS[report.verdict].zh)}</p>`) : ''}
${mayOpen ? html`<p><a class="button" href="/console/stamps/${stamp.id}/pdf" download>${v.t('downloadPdf')}</a></p>` : ''}`,
    };
  });

  console.page('/console/stamps/:id/pdf', 'stamp.pdf', async ({ ctx, actor }) => {
    await sendStoredPdf(ctx, services, await visibleStamp(actor, services, ctx.params.id!, 'stamp.pdf'));
    return { sent: true };
  });
}
