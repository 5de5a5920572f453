/**
 * 印章: seals, their key versions and certificates (serial, validity, status) and the impression, for
 * those who may read them; seal-admins propose creating a seal, rotating its key, revoking a version,
 * destroying a retired key and the rotation policy (each through requestChange: at once or a proposal).
 */
import { requestChange } from '../../access/two-person.js';
import { OneSealError } from '../../errors.js';
import { ACCEPTED_REASONS, requireSeal } from '../../seals/lifecycle.js';
import { KEY_ALGORITHMS, parseVersionNumber } from '../../seals/requests.js';
import { sealDetail, sealView } from '../../seals/views.js';
import { activeSealVersion, listSeals, listSealVersions, type SealRecord } from '../../store/seals.js';
import { actionButton, badge, can, card, dateTime, field, kv, postForm, table, type View } from '../components.js';
import { esc, html, raw } from '../html.js';
import type { ConsoleRouter } from '../router.js';
import { outcomeReply } from './outcome.js';

const STATUS_BADGE = { active: 'ok', pending: 'warn', retired: '', revoked: 'bad', destroyed: 'bad' } as const;

/** The generated impression as SVG: the ring, the organisation along the upper arc, the star, the seal's name. */
function impressionSvg(seal: SealRecord): string {
  const appearance = (seal.appearance ?? {}) as { kind?: string; pngBase64?: string };
  if (appearance.kind === 'image' && typeof appearance.pngBase64 === 'string' && /^[A-Za-z0-9+/=]+$/.test(appearance.pngBase64)) {
    return `<img class="seal-img" alt="${esc(seal.name)}" src="data:image/png;base64,${appearance.pngBase64}">`;
  }
  const red = '#d90f14';
  const star = Array.from({ length: 10 }, (_, i) => {
    const r = i % 2 === 0 ? 22 : 9;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    return `${(100 + r * Math.cos(a)).toFixed(2)},${(100 + r * Math.sin(a)).toFixed(2)}`;
  }).join(' ');
  return `<svg class="seal-img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="${esc(`${seal.organisation} ${seal.name}`)}">
<defs><path id="arc-${esc(seal.id)}" d="M 32 112 A 70 70 0 1 1 168 112"/></defs>
<circle cx="100" cy="100" r="94" fill="none" stroke="${red}" stroke-width="6"/>
<text fill="${red}" font-size="19" font-weight="700" text-anchor="middle"><textPath href="#arc-${esc(seal.id)}" startOffset="50%">${esc(seal.organisation)}</textPath></text>
<polygon points="${star}" fill="${red}"/>
<text x="100" y="150" fill="${red}" font-size="16" font-weight="700" text-anchor="middle">${esc(seal.name)}</text>
<text x="100" y="174" fill="${red}" font-size="8" text-anchor="middle">${esc(seal.creditCode)}</text>
</svg>`;
}

function createForm(v: View) {
  return card(v.t('createSeal'), postForm(v, '/console/seals', html`
${field({ name: 'id', label: v.t('sealId'), hint: v.t('sealIdHint'), required: true, pattern: '[a-z0-9][a-z0-9-]{0,62}' })}
${field({ name: 'organisation', label: v.t('organisation'), required: true })}
${field({ name: 'creditCode', label: v.t('creditCode'), required: true })}
${field({ name: 'name', label: v.t('sealName'), required: true })}
${field({ name: 'keyAlgorithm', label: v.t('keyAlgorithm'), options: KEY_ALGORITHMS.map((a) => [a, a]) })}`, { submit: v.t('createSeal') }));
}

function policyForm(v: View, sealId: string, policy: { everyDays?: number; afterSignatures?: number } | null) {
  return card(v.t('rotationPolicy'), html`${postForm(v, `/console/seals/${sealId}/rotation-policy`, html`
${field({ name: 'everyDays', label: v.t('everyDays'), type: 'number', value: policy?.everyDays !== undefined ? String(policy.everyDays) : '' })}
${field({ name: 'afterSignatures', label: v.t('afterSignatures'), type: 'number', value: policy?.afterSignatures !== undefined ? String(policy.afterSignatures) : '' })}`, { submit: v.t('setPolicy') })}
${policy ? html`<p>${actionButton(v, `/console/seals/${sealId}/rotation-policy`, v.t('removePolicy'), { secondary: true, fields: html`<input type="hidden" name="remove" value="1">` })}</p>` : ''}`);
}

export function registerSealPages(console: ConsoleRouter): void {
  const { services } = console;
  const db = services.store.db;

  console.page('/console/seals', 'seal.read', async ({ v }) => {
    const seals = await listSeals(db);
    const rows = await Promise.all(seals.map(async (s) => {
      const active = await activeSealVersion(db, s.id);
      return [html`<a href="/console/seals/${s.id}">${s.id}</a>`, s.organisation, s.name, active ? `v${active.version}` : '—', active?.certSerial ?? '—', dateTime(active?.notAfter), s.twoPersonControl ? v.t('yes') : v.t('no')];
    }));
    return {
      title: v.t('seals'),
      section: 'seals',
      body: html`${card(undefined, table([v.t('sealId'), v.t('organisation'), v.t('sealName'), v.t('activeVersion'), v.t('serial'), v.t('notAfter'), v.t('twoPerson')], rows, { empty: v.t('none') }))}
${can(v, 'seal.create') ? createForm(v) : ''}`,
    };
  });

  console.page('/console/seals/:id', 'seal.read', async ({ ctx, v }) => {
    const seal = await requireSeal(services, ctx.params.id!);
    const admin = can(v, 'seal.admin-read');
    const shown = admin ? await sealDetail(db, seal) : sealView(seal, (await listSealVersions(db, seal.id)).filter((x) => x.status === 'active'));
    const versionRows = shown.versions.map((x) => [
      `v${x.version}`,
      badge(STATUS_BADGE[x.status], x.status),
      x.algorithm,
      html`<span class="mono">${x.certSerial ?? '—'}</span>`,
      html`${dateTime(x.notBefore)} – ${dateTime(x.notAfter)}`,
      x.signatureCount,
      html`<div class="actions">${can(v, 'seal.revoke') && (x.status === 'active' || x.status === 'retired') ? actionButton(v, `/console/seals/${seal.id}/versions/${x.version}/revoke`, v.t('revoke'), {
        secondary: true,
        fields: field({ name: 'reason', label: v.t('revocationReason'), options: ACCEPTED_REASONS.map((r) => [r, r]) }),
      }) : ''}${can(v, 'seal.destroy-key') && (x.status === 'retired' || x.status === 'revoked') ? actionButton(v, `/console/seals/${seal.id}/versions/${x.version}/destroy-key`, v.t('destroyKey'), { secondary: true, confirm: v.t('destroyKey') }) : ''}</div>`,
    ]);
    return {
      title: `${v.t('seal')} ${seal.id}`,
      section: 'seals',
      body: html`<div class="grid">${card(v.t('impression'), raw(impressionSvg(seal)))}
${card(undefined, kv([
        [v.t('organisation'), seal.organisation], [v.t('creditCode'), seal.creditCode], [v.t('sealName'), seal.name],
        [v.t('keyAlgorithm'), seal.keyAlgorithm], [v.t('activeVersion'), shown.activeVersion !== null ? `v${shown.activeVersion}` : '—'],
        [v.t('twoPerson'), seal.twoPersonControl ? v.t('yes') : v.t('no')],
        [v.t('rotationPolicy'), seal.rotationPolicy ? JSON.stringify(seal.rotationPolicy) : v.t('none')],
      ]))}</div>
${card(v.t('versions'), html`${table([v.t('version'), v.t('status'), v.t('algorithm'), v.t('serial'), v.t('validity'), v.t('signatures'), v.t('actions')], versionRows, { numeric: [5] })}
${can(v, 'seal.rotate') ? html`<p>${actionButton(v, `/console/seals/${seal.id}/rotate`, v.t('rotate'), { confirm: v.t('confirmRotate') })}</p>` : ''}`)}
${can(v, 'seal.rotation-policy') ? policyForm(v, seal.id, seal.rotationPolicy ?? null) : ''}
${'certificate' in shown && shown.certificate ? card(v.t('certificate'), html`<details><summary>PEM</summary><pre class="mono">${String(shown.certificate)}</pre></details>`) : ''}`,
    };
  });

  console.action('/console/seals', async ({ v, actor }, form) => {
    const outcome = await requestChange(services, actor, 'seal.create', {
      id: form.text('id'), organisation: form.text('organisation'), creditCode: form.text('creditCode'), name: form.text('name'), keyAlgorithm: form.text('keyAlgorithm') || undefined,
    });
    return outcomeReply(v, v.t('createSeal'), 'seals', outcome, '/console/seals');
  });

  console.action('/console/seals/:id/rotate', async ({ ctx, v, actor }) => {
    const outcome = await requestChange(services, actor, 'seal.rotate', { sealId: ctx.params.id! });
    return outcomeReply(v, v.t('rotate'), 'seals', outcome, `/console/seals/${ctx.params.id}`);
  });

  console.action('/console/seals/:id/versions/:version/revoke', async ({ ctx, v, actor }, form) => {
    const outcome = await requestChange(services, actor, 'seal.revoke', { sealId: ctx.params.id!, version: parseVersionNumber(ctx.params.version), reason: form.text('reason') });
    return outcomeReply(v, v.t('revoke'), 'seals', outcome, `/console/seals/${ctx.params.id}`);
  });

  console.action('/console/seals/:id/versions/:version/destroy-key', async ({ ctx, v, actor }) => {
    const outcome = await requestChange(services, actor, 'seal.destroy-key', { sealId: ctx.params.id!, version: parseVersionNumber(ctx.params.version) });
    return outcomeReply(v, v.t('destroyKey'), 'seals', outcome, `/console/seals/${ctx.params.id}`);
  });

  console.action('/console/seals/:id/rotation-policy', async ({ ctx, v, actor }, form) => {
    const number = (name: string): number | undefined => {
      const text = form.text(name);
      if (text === '') return undefined;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new OneSealError('invalid-rotation-policy', 'unprocessable', `${name} must be a number.`, { fields: [{ field: name, message: 'must be a number' }] });
      return n;
    };
    const everyDays = number('everyDays');
    const afterSignatures = number('afterSignatures');
    const policy = form.get('remove') ? null : { ...(everyDays !== undefined ? { everyDays } : {}), ...(afterSignatures !== undefined ? { afterSignatures } : {}) };
    const outcome = await requestChange(services, actor, 'seal.rotation-policy', { sealId: ctx.params.id!, policy });
    return outcomeReply(v, v.t('rotationPolicy'), 'seals', outcome, `/console/seals/${ctx.params.id}`);
  });
}
