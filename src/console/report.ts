/**
 * A stamp's placement and the verification report of a stored PDF, as console cards: what was asked for
 * and where the seal landed (page, position, size), and per signature who signed, at what level, what
 * it covers, what changed later and why anything is not valid — the facts the verdict rests on.
 */
import { MM } from '../stamp/units.js';
import type { Report, SignatureReport, Verdict } from '../verify/index.js';
import type { Bilingual } from '../verify/reasons.js';
import { VERDICT_WORDS } from '../verify/text-report.js';
import { badge, card, kv, type View } from './components.js';
import { html, type Html, type Part } from './html.js';

const VERDICT_BADGE: Record<Verdict, 'ok' | 'warn' | 'bad'> = { valid: 'ok', indeterminate: 'warn', 'not-sealed': 'warn', invalid: 'bad' };

interface StoredPlacement {
  requested?: { kind?: string; page?: number; text?: string; name?: string };
  placed?: { page: number; rect: [number, number, number, number] } | null;
  straddle?: boolean;
  fieldName?: string;
}

const words = (v: View, m: Bilingual): string => (v.lang === 'en' ? m.en : m.zh);
const verdictBadge = (v: View, verdict: Verdict): Html => badge(VERDICT_BADGE[verdict], words(v, VERDICT_WORDS[verdict]));
const length = (pt: number): string => `${pt.toFixed(1)} pt (${(pt / MM).toFixed(1)} mm)`;

/** Where the seal is: page, lower-left corner and size in PDF points (and mm), as the stamp record keeps them. */
export function placementCard(v: View, stored: unknown): Html {
  const p = (stored ?? {}) as StoredPlacement;
  const r = p.requested;
  const asked = r?.kind === 'anchor' ? `${r.kind}: “${r.text ?? ''}”` : r?.kind === 'field' ? `${r.kind}: ${r.name ?? ''}` : r?.kind ?? '—';
  const placed = p.placed;
  const rows: [string, Part][] = [[v.t('requested'), asked]];
  if (placed) {
    const [x1, y1, x2, y2] = placed.rect;
    rows.push(
      [v.t('page'), placed.page],
      [v.t('position'), `x ${length(Math.min(x1, x2))}, y ${length(Math.min(y1, y2))}`],
      [v.t('size'), `${length(Math.abs(x2 - x1))} × ${length(Math.abs(y2 - y1))}`],
    );
  } else {
    rows.push([v.t('page'), v.t('invisible')]);
  }
  if (p.fieldName) rows.push([v.t('signatureField'), html`<span class="mono">${p.fieldName}</span>`]);
  if (p.straddle) rows.push([v.t('straddle'), '✓']);
  return card(v.t('placement'), kv(rows));
}

function signatureRows(v: View, s: SignatureReport): [string, Part][] {
  const rows: [string, Part][] = [[v.t('verdict'), verdictBadge(v, s.verdict)]];
  if (s.signer) rows.push([v.t('signer'), `${s.signer.commonName ?? s.signer.subject}${s.signer.creditCode ? ` (${s.signer.creditCode})` : ''}`]);
  if (s.signer?.organisation) rows.push([v.t('organisation'), s.signer.organisation]);
  if (s.signer) rows.push([v.t('serial'), html`<span class="mono">${s.signer.serial}</span>`]);
  rows.push([v.t('level'), s.level ?? '—']);
  if (s.signingTime) rows.push([v.t('signingTime'), s.signingTime]);
  if (s.provenTime) rows.push([v.t('provenTime'), `${s.provenTime}${s.timestamp?.tsa ? ` (${s.timestamp.tsa})` : ''}`]);
  rows.push([v.t('coverage'), s.coverage ? words(v, s.coverage.message) : '—']);
  for (const m of s.modifications) rows.push([v.t('laterChange'), `${words(v, m.message)}${m.refusal ? ` — ${words(v, m.refusal)}` : ''}`]);
  for (const reason of s.reasons) rows.push([reason.code, words(v, reason.message)]);
  return rows;
}

/** The stored output verified as a relying party would: the document verdict, then each signature's facts. */
export function verificationCard(v: View, report: Report): Html {
  return card(v.t('verification'), html`<p>${verdictBadge(v, report.verdict)}</p>
${report.signatures.map((s) => html`<h3>${s.kind === 'doc-timestamp' ? v.t('docTimestamp') : v.t('signature')} <span class="mono">${s.fieldName}</span></h3>${kv(signatureRows(v, s))}`)}
${report.findings.length ? kv(report.findings.map((f) => [f.code, words(v, f.message)] as const)) : ''}`);
}
