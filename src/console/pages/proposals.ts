/**
 * 待审批: two-person-control proposals with who proposed what and when. A second seal-admin approves
 * (which carries the change out) or rejects; the proposer sees no approve button, and approveProposal
 * refuses them anyway, from any page or tool.
 */
import { approveProposal, proposalView, readProposals, rejectProposal } from '../../access/two-person.js';
import type { ProposalRecord } from '../../store/approvals.js';
import { actionButton, badge, can, card, dateTime, notice, table } from '../components.js';
import { html } from '../html.js';
import type { Word } from '../i18n.js';
import type { ConsoleRequest, ConsoleRouter } from '../router.js';
import { resultBody } from './outcome.js';

const STATUS_WORD: Record<ProposalRecord['status'], Word> = { pending: 'statusPending', approved: 'statusApproved', rejected: 'statusRejected', executed: 'statusExecuted' };
const STATUS_BADGE = { pending: 'warn', approved: 'warn', rejected: 'bad', executed: 'ok' } as const;

export function proposalTable({ v, actor }: ConsoleRequest, proposals: readonly ProposalRecord[], withActions: boolean) {
  return table([v.t('action'), v.t('subject'), v.t('params'), v.t('proposedBy'), v.t('proposedAt'), v.t('status'), ...(withActions ? [v.t('actions')] : [])], proposals.map((p) => {
    const shown = proposalView(p);
    const own = p.proposedById === actor.id;
    const open = p.status === 'pending' || p.status === 'approved';
    const controls = html`<div class="actions">${open && !own && can(v, 'proposal.approve')
      ? actionButton(v, `/console/proposals/${p.id}/approve`, v.t('approve'), { confirm: v.t('confirmApprove'), fields: html`<input type="hidden" name="digest" value="${shown.digest}">` })
      : ''}${p.status === 'pending' && can(v, 'proposal.reject') ? actionButton(v, `/console/proposals/${p.id}/reject`, own ? v.t('withdraw') : v.t('reject'), { secondary: true }) : ''}${open && own ? html`<span class="muted">${v.t('ownProposal')}</span>` : ''}</div>`;
    return [
      html`<span id="p-${p.id}" class="mono">${p.action}</span>`,
      p.subject,
      html`<span class="mono">${JSON.stringify(shown.params)}</span>`,
      p.proposedBy,
      dateTime(p.proposedAt),
      html`${badge(STATUS_BADGE[p.status], v.t(STATUS_WORD[p.status]))}${p.approvedBy ? html`<br><span class="muted">${v.t('decidedBy')}: ${p.approvedBy}</span>` : ''}${p.rejectedBy ? html`<br><span class="muted">${v.t('decidedBy')}: ${p.rejectedBy}</span>` : ''}`,
      ...(withActions ? [controls] : []),
    ];
  }), { empty: v.t('none') });
}

export function registerProposalPages(console: ConsoleRouter): void {
  const { services } = console;
  console.page('/console/proposals', 'proposal.read', async (req) => {
    const all = await readProposals(services, req.actor, {});
    const open = all.filter((p) => p.status === 'pending' || p.status === 'approved');
    const closed = all.filter((p) => !open.includes(p)).reverse().slice(0, 100);
    return {
      title: req.v.t('proposals'),
      section: 'proposals',
      body: html`${card(undefined, proposalTable(req, open, true))}${card(req.v.t('history'), proposalTable(req, closed, false))}`,
    };
  });

  console.action('/console/proposals/:id/approve', async ({ ctx, v, actor }, form) => {
    const digest = form.text('digest');
    const { proposal, result } = await approveProposal(services, actor, ctx.params.id!, digest ? { digest } : {});
    return {
      title: v.t('proposals'),
      section: 'proposals',
      body: html`${notice('ok', html`${v.t('done')} <span class="mono">${proposal.action}</span> ${proposal.subject}`)}${resultBody(v, result)}<p><a href="/console/proposals">${v.t('back')}</a></p>`,
    };
  });

  console.action('/console/proposals/:id/reject', async ({ ctx, actor }) => {
    await rejectProposal(services, actor, ctx.params.id!);
    return { redirect: '/console/proposals' };
  });
}
