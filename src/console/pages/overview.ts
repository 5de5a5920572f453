/**
 * 概览: stamps today and this month (China time) per seal, per system and per item code, for those who
 * may read stamp records; the HSM's and the database's health; certificates running out within 90
 * days; pending proposals for those who may read them.
 */
import { listProposals } from '../../store/approvals.js';
import { countStampsSince, type StampCountKey } from '../../store/stamps.js';
import { serviceCertificates } from '../../observability/certificate-expiry.js';
import { chinaDate } from '../../licences/service.js';
import { badge, can, card, dateTime, notice, table, type View } from '../components.js';
import { html } from '../html.js';
import type { ConsoleRouter, ConsoleRequest } from '../router.js';
import { proposalTable } from './proposals.js';

const DAY_MS = 24 * 3600_000;
const EXPIRY_WINDOW_DAYS = 90;

/** Midnight in China (UTC+8) of the day, or of the first of the month, as a UTC ISO time. */
function chinaStart(now: Date, of: 'day' | 'month'): string {
  const date = chinaDate(now);
  return new Date(`${of === 'day' ? date : `${date.slice(0, 8)}01`}T00:00:00+08:00`).toISOString();
}

async function check(run: () => Promise<unknown>): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = (await run()) as { ok?: boolean; detail?: string } | undefined;
    return { ok: r?.ok ?? true, detail: r?.detail ?? '' };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

async function stampCounts({ services, v }: ConsoleRequest, now: Date) {
  const db = services.store.db;
  const keys: [StampCountKey, 'perSeal' | 'perClient' | 'perItem' | 'perDepartment' | 'perCentre'][] = [
    ['seal', 'perSeal'], ['client', 'perClient'], ['item', 'perItem'], ['department', 'perDepartment'], ['centre', 'perCentre'],
  ];
  const periods = [[chinaStart(now, 'day'), v.t('stampsToday')], [chinaStart(now, 'month'), v.t('stampsMonth')]] as const;
  return Promise.all(periods.map(async ([since, title]) => card(title, html`<div class="grid">${await Promise.all(keys.map(async ([key, label]) =>
    html`<div><h3>${v.t(label)}</h3>${table([v.t(label), v.t('count')], (await countStampsSince(db, since, key)).map((r) => [r.key || '—', r.count]), { numeric: [1], empty: v.t('none') })}</div>`))}</div>`)));
}

function healthCard(v: View, checks: [string, { ok: boolean; detail: string }][]) {
  return card(v.t('health'), table([v.t('subject'), v.t('status'), ''], checks.map(([name, c]) =>
    [name, c.ok ? badge('ok', v.t('healthy')) : badge('bad', v.t('unhealthy')), c.detail])));
}

export function registerOverview(console: ConsoleRouter): void {
  console.page('/console/', undefined, async (req) => {
    const { services, v } = req;
    const now = new Date();
    const [hsm, db] = await Promise.all([check(() => services.hsm.health()), check(() => services.store.db.raw('select 1'))]);
    const certs = (await serviceCertificates(services))
      .filter((c) => c.notAfter.getTime() - now.getTime() < EXPIRY_WINDOW_DAYS * DAY_MS)
      .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
    const pending = can(v, 'proposal.read') ? await listProposals(services.store.db, { status: 'pending' }) : undefined;
    return {
      title: v.t('overview'),
      section: 'overview',
      body: html`${req.query('done') === 'credentials' ? notice('ok', v.t('credentialsSaved')) : ''}
<div class="grid">${healthCard(v, [[v.t('hsm'), hsm], [v.t('database'), db]])}
${card(v.t('expiring'), table([v.t('certificate'), v.t('notAfter'), v.t('daysLeft')], certs.map((c) =>
        [c.name, dateTime(c.notAfter.toISOString()), Math.floor((c.notAfter.getTime() - now.getTime()) / DAY_MS)]), { numeric: [2], empty: v.t('none') }))}</div>
${pending ? card(v.t('pending'), proposalTable(req, pending, false)) : ''}
${can(v, 'stamp.read') ? await stampCounts(req, now) : ''}`,
    };
  });
}
