/**
 * 用印记录: the stamp register searched and filtered (newest first) and downloaded as CSV, one stamp's record
 * with its placement and the verification of its stored output, and the PDF download, each as the policy allows: operators
 * see neither file names nor case numbers, and only those with stamp.pdf open the document.
 */
import { allows } from '../../access/policy.js';
import { STAMP_FILTERS, stampListing } from '../../api/routes/stamp-search.js';
import { sendStoredPdf, stampViewFor, storedPdf, visibleStamp } from '../../api/routes/stamps.js';
import type { StampView } from '../../store/stamps.js';
import { can, card, dateTime, kv, table, type FieldSpec } from '../components.js';
import { html } from '../html.js';
import { placementCard, verificationCard } from '../report.js';
import type { ConsoleRouter } from '../router.js';
import { csvDownload, dateSpecs, listing, type ListingSource } from './listing.js';

export function registerStampPages(console: ConsoleRouter): void {
  const { services } = console;
  const source: ListingSource<StampView> = (req, values) => stampListing(services, req.actor, values);
  csvDownload(console, '/console/stamps', 'stamp.read', STAMP_FILTERS, source);

  console.page('/console/stamps', 'stamp.read', async (req) => {
    const { v, actor } = req;
    const personal = allows(actor, 'stamp.personal-data');
    const specs: FieldSpec[] = [
      ...(personal ? [{ name: 'caseNumber', label: v.t('caseNumber') }] : []),
      { name: 'itemCode', label: v.t('itemCode') },
      { name: 'department', label: v.t('department') },
      { name: 'centre', label: v.t('centre') },
      { name: 'client', label: v.t('client') },
      { name: 'seal', label: v.t('seal') },
      ...dateSpecs(v, 'from', 'to'),
      ...(personal ? [{ name: 'filename', label: v.t('filename') }] : []),
    ];
    const list = await listing(req, '/console/stamps', specs, source);
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
        [v.t('department'), stamp.department ?? '—'], [v.t('centre'), stamp.centreCode ?? '—'],
        ...('caseNumber' in record ? [[v.t('caseNumber'), record.caseNumber ?? '—'] as const, [v.t('filename'), record.filename ?? '—'] as const] : []),
        ['SHA-256', html`<span class="mono">${record.sha256.after}</span>`],
      ]))}
${placementCard(v, record.placement)}
${report ? verificationCard(v, report) : ''}
${mayOpen ? html`<p><a class="button" href="/console/stamps/${stamp.id}/pdf" download>${v.t('downloadPdf')}</a></p>` : ''}`,
    };
  });

  console.page('/console/stamps/:id/pdf', 'stamp.pdf', async ({ ctx, actor }) => {
    await sendStoredPdf(ctx, services, await visibleStamp(actor, services, ctx.params.id!, 'stamp.pdf'));
    return { sent: true };
  });
}
