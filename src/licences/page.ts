/**
 * The public page behind a licence's QR code, as server-rendered HTML for a phone: one self-contained
 * document (inline CSS, inline SVG, no scripts, no external assets) so it loads at once on a weak
 * connection and the Content-Security-Policy can forbid everything else. Chinese first, English on request.
 * Every value from the database or the request goes through `esc`.
 */
import { createHash } from 'node:crypto';
import type { CopyCheck, LicenceStatus, PublicLicenceStatus } from './service.js';
import { LONG_TERM } from './types.js';
import { formatChineseDate, parseIsoDate } from '../standards/date.js';

export type PageLang = 'zh' | 'en';

export const pageLang = (q: unknown): PageLang => (q === 'en' ? 'en' : 'zh');

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f3f1ec;color:#1d1d1f;font:16px/1.55 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:480px;margin:0 auto;padding:0 0 28px}
header{background:#9e1b16;color:#fff;padding:14px 18px 16px;display:flex;align-items:center;gap:12px}
header svg{flex:none}
header h1{margin:0;font-size:19px;font-weight:600;letter-spacing:.04em}
header p{margin:1px 0 0;font-size:12.5px;opacity:.85}
.lang{margin-left:auto;color:#fff;font-size:14px;border:1px solid rgba(255,255,255,.6);border-radius:14px;padding:2px 11px;text-decoration:none;white-space:nowrap}
.card{background:#fff;margin:14px 12px 0;border-radius:10px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.status{text-align:center;padding:22px 18px 18px;border-top:6px solid var(--c)}
.status .mark{width:58px;height:58px;border-radius:50%;margin:0 auto 8px;background:var(--c);color:#fff;font-size:34px;line-height:58px;font-weight:700}
.status h2{margin:0;font-size:32px;line-height:1.25;color:var(--c)}
.status h2:lang(zh){letter-spacing:.12em}
.status p{margin:6px 0 0;color:#555;font-size:15px}
.valid{--c:#1e7b34}.superseded{--c:#b26a00}.revoked{--c:#b3261e}.expired{--c:#6b6b6b}.unknown{--c:#6b6b6b}
.status a{color:var(--c);font-weight:600;word-break:break-all}
dl{margin:0}
dt{color:#6b6b6b;font-size:13px;margin-top:11px}
dt:first-child{margin-top:0}
dd{margin:1px 0 0;font-size:16px;word-break:break-all}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13.5px;word-break:break-all}
h3{margin:0 0 6px;font-size:17px}
.hint{color:#555;font-size:14px;margin:0 0 12px}
input[type=file]{display:block;width:100%;font-size:15px;padding:10px;border:1px dashed #b8b2a7;border-radius:8px;background:#faf9f6}
button,.button{display:block;width:100%;margin-top:12px;padding:12px;border:0;border-radius:8px;background:#9e1b16;color:#fff;font-size:17px;font-weight:600;text-align:center;text-decoration:none}
.checks{list-style:none;margin:12px 0 0;padding:0;text-align:left}
.checks li{padding:8px 0;border-top:1px solid #eee;display:flex;gap:10px}
.ok{color:#1e7b34;font-weight:700}.bad{color:#b3261e;font-weight:700}
footer{color:#777;font-size:12.5px;text-align:center;margin:18px 16px 0}
`;

/** The policy for these pages: our one stylesheet (by hash) and form posts to ourselves; nothing else loads. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const T = {
  zh: {
    site: '电子证照核验',
    siteSub: '扫码核验 · 官方登记信息',
    other: 'English',
    status: { valid: '有效', superseded: '已变更', revoked: '已注销', expired: '已过期' } as Record<LicenceStatus, string>,
    statusNote: {
      valid: '该证照已登记在册，当前有效。',
      superseded: '该证照已变更，现行版本为：',
      revoked: '该证照已被注销。',
      expired: '该证照已超过有效期。',
    } as Record<LicenceStatus, string>,
    reason: '注销原因',
    colon: '：',
    revokedAt: '注销时间',
    type: '证照类型',
    holder: '持证主体',
    issuer: '发证机关',
    delegator: '委托机关',
    handledBy: '受托办理',
    item: '办理事项',
    validity: '有效期',
    to: '至',
    longTerm: '长期',
    tz: '（北京时间）',
    issuedOn: '签发日期',
    seal: '电子印章',
    signedAt: '签章时间',
    id: '证照标识',
    masked: '个人信息已部分隐藏',
    checkTitle: '核对您持有的文件',
    checkHint: '选择您收到的证照 PDF 文件，核对它是否与登记的证照完全一致、签章是否有效。文件仅用于本次核对，不会保存。',
    choose: '证照 PDF 文件',
    submit: '开始核对',
    genuine: '真实有效',
    genuineNotCurrent: '文件真实，但证照',
    notGenuine: '与登记不符',
    genuineNote: '上传的文件与登记的证照完全一致，电子签章验证通过。',
    notGenuineNote: '上传的文件不是登记的这份证照，或已被改动。请勿采信。',
    sameFile: '文件与登记的证照逐字节一致',
    differentFile: '文件与登记的证照不一致（已被改动或不是同一份）',
    sigValid: '电子签章验证通过',
    sigInvalid: '电子签章验证未通过',
    sigIndeterminate: '电子签章无法确认',
    sigNotSealed: '文件没有电子签章（时间戳只证明时间，不是签章）',
    unreadable: '不是可读取的 PDF 文件',
    back: '返回证照信息',
    uploadFailed: '未能核对文件',
    uploadFailedNote: '请选择证照 PDF 文件后重新提交。',
    notFound: '未找到该证照',
    notFoundNote: '没有标识为以下内容的证照登记记录。请确认二维码或链接完整，或联系发证机关。',
    footer: '本页信息来自发证机关的电子证照登记系统。',
  },
  en: {
    site: 'Licence verification',
    siteSub: 'Official register record',
    other: '中文',
    status: { valid: 'Valid', superseded: 'Superseded', revoked: 'Revoked', expired: 'Expired' } as Record<LicenceStatus, string>,
    statusNote: {
      valid: 'This licence is on the register and currently valid.',
      superseded: 'This licence was changed; the current version is:',
      revoked: 'This licence has been revoked.',
      expired: 'This licence is past its validity period.',
    } as Record<LicenceStatus, string>,
    reason: 'Reason',
    colon: ': ',
    revokedAt: 'Revoked at',
    type: 'Licence type',
    holder: 'Holder',
    issuer: 'Issuing authority',
    delegator: 'Delegating authority',
    handledBy: 'Handled on its behalf by',
    item: 'Item',
    validity: 'Valid',
    to: 'to',
    longTerm: 'long-term',
    tz: ' (UTC+8)',
    issuedOn: 'Date of issue',
    seal: 'Electronic seal',
    signedAt: 'Signed at',
    id: 'Licence identifier',
    masked: 'personal data partly hidden',
    checkTitle: 'Check the file you hold',
    checkHint: 'Choose the licence PDF you received to check that it is exactly the registered licence and that its seal signature is valid. The file is used for this check only and not kept.',
    choose: 'Licence PDF file',
    submit: 'Check file',
    genuine: 'Genuine',
    genuineNotCurrent: 'Genuine file, but the licence is',
    notGenuine: 'Not genuine',
    genuineNote: 'The uploaded file is exactly the registered licence and its electronic seal verifies.',
    notGenuineNote: 'The uploaded file is not this registered licence, or it was altered. Do not rely on it.',
    sameFile: 'Identical, byte for byte, to the registered licence',
    differentFile: 'Differs from the registered licence (altered, or another file)',
    sigValid: 'Electronic seal signature verifies',
    sigInvalid: 'Electronic seal signature does not verify',
    sigIndeterminate: 'Electronic seal signature could not be confirmed',
    sigNotSealed: 'The file carries no electronic seal (a time-stamp proves a time, it is not a seal)',
    unreadable: 'Not a readable PDF file',
    back: 'Back to the licence',
    uploadFailed: 'The file could not be checked',
    uploadFailedNote: 'Choose the licence PDF file and send the form again.',
    notFound: 'Licence not found',
    notFoundNote: 'There is no registered licence with this identifier. Check that the QR code or link is complete, or ask the issuing authority.',
    footer: 'Information from the issuing authority’s electronic licence register.',
  },
};

const MARK: Record<LicenceStatus, string> = { valid: '✓', superseded: '↻', revoked: '✕', expired: '!' };

/** China Standard Time, minutes: what the issuing bureau's own clocks show. */
function cst(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

const pagePath = (id: string, lang: PageLang, suffix = ''): string => `/v/${encodeURIComponent(id)}${suffix}${lang === 'en' ? '?lang=en' : ''}`;

const EMBLEM = `<svg width="38" height="38" viewBox="0 0 40 40" aria-hidden="true"><circle cx="20" cy="20" r="17.5" fill="none" stroke="#fff" stroke-width="2.2"/><path fill="#fff" d="M20 8.5l3.1 9.2h9.6l-7.8 5.7 3 9.2-7.9-5.7-7.9 5.7 3-9.2-7.8-5.7h9.6z"/></svg>`;

function layout(lang: PageLang, title: string, otherHref: string, body: string): string {
  const t = T[lang];
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${esc(title)} · ${esc(t.site)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>${EMBLEM}<div><h1>${esc(t.site)}</h1><p>${esc(t.siteSub)}</p></div><a class="lang" href="${esc(otherHref)}" hreflang="${lang === 'zh' ? 'en' : 'zh-CN'}">${esc(t.other)}</a></header>
${body}
<footer>${esc(t.footer)}</footer>
</main>
</body>
</html>
`;
}

function statusCard(s: PublicLicenceStatus, lang: PageLang): string {
  const t = T[lang];
  let extra = '';
  if (s.status === 'superseded' && s.supersededBy) {
    extra = `<p><a href="${esc(pagePath(s.supersededBy, lang))}">${esc(s.supersededBy)}</a></p>`;
  } else if (s.status === 'revoked') {
    extra = `<p>${esc(t.reason)}${esc(t.colon)}${esc(s.revocationReason ?? '')}</p><p>${esc(t.revokedAt)}${esc(t.colon)}${esc(s.revokedAt ? cst(s.revokedAt) + t.tz : '')}</p>`;
  }
  return `<section class="card status ${s.status}" aria-live="polite">
<div class="mark" aria-hidden="true">${MARK[s.status]}</div>
<h2 id="status">${esc(t.status[s.status])}</h2>
<p>${esc(t.statusNote[s.status])}</p>${extra}
</section>`;
}

function details(s: PublicLicenceStatus, lang: PageLang): string {
  const t = T[lang];
  // Dates as the licence prints them: 2025年01月10日 in Chinese, YYYY-MM-DD in English.
  const day = (d: string): string => (lang === 'zh' && parseIsoDate(d) ? formatChineseDate(parseIsoDate(d)!) : d);
  const to = s.validTo === LONG_TERM ? t.longTerm : day(s.validTo);
  const row = (label: string, value: string, cls = ''): string => `<dt>${esc(label)}</dt><dd${cls ? ` class="${cls}"` : ''}>${value}</dd>`;
  return `<section class="card"><dl>
${row(t.type, esc(lang === 'zh' ? s.type.title.zh : s.type.title.en))}
${row(t.holder, `${esc(s.holder.name)}${s.holder.masked ? ` <small>(${esc(t.masked)})</small>` : ''}`)}
${row(lang === 'zh' ? s.holder.idLabel.zh : s.holder.idLabel.en, esc(s.holder.id), 'mono')}
${row(s.handling?.centre ? t.delegator : t.issuer, esc(s.issuer.name))}
${s.handling?.centre ? row(t.handledBy, esc(s.handling.centre.name)) : ''}
${s.handling ? row(t.item, esc(s.handling.item.name)) : ''}
${row(t.validity, `${esc(day(s.validFrom))} ${esc(t.to)} ${esc(to)}`)}
${row(t.issuedOn, esc(day(s.issuedOn)))}
${row(t.seal, esc(s.seal.name))}
${row(t.signedAt, esc(cst(s.signedAt) + t.tz))}
${row(t.id, esc(s.id), 'mono')}
</dl></section>`;
}

/** GET /v/{id}: status, details and the upload form. */
export function licencePage(s: PublicLicenceStatus, lang: PageLang): string {
  const t = T[lang];
  const form = `<section class="card">
<h3>${esc(t.checkTitle)}</h3>
<p class="hint">${esc(t.checkHint)}</p>
<form method="post" action="${esc(pagePath(s.id, lang, '/check'))}" enctype="multipart/form-data">
<label for="file" class="hint">${esc(t.choose)}</label>
<input id="file" type="file" name="file" accept="application/pdf,.pdf" required>
<button type="submit">${esc(t.submit)}</button>
</form>
</section>`;
  const title = `${lang === 'zh' ? s.type.title.zh : s.type.title.en} · ${t.status[s.status]}`;
  return layout(lang, title, pagePath(s.id, lang === 'zh' ? 'en' : 'zh'), `${statusCard(s, lang)}\n${details(s, lang)}\n${form}`);
}

/** POST /v/{id}/check: the verdict on an uploaded copy. */
export function checkResultPage(s: PublicLicenceStatus, check: CopyCheck, lang: PageLang): string {
  const t = T[lang];
  const current = s.status === 'valid';
  const headline = check.genuine ? (current ? t.genuine : `${t.genuineNotCurrent}${lang === 'en' ? ' ' : ''}${t.status[s.status]}`) : t.notGenuine;
  const cls = check.genuine ? (current ? 'valid' : s.status) : 'revoked';
  const mark = check.genuine ? '✓' : '✕';
  const sig = { valid: t.sigValid, invalid: t.sigInvalid, unreadable: t.unreadable, indeterminate: t.sigIndeterminate, 'not-sealed': t.sigNotSealed }[check.verdict];
  const item = (ok: boolean, text: string): string => `<li><span class="${ok ? 'ok' : 'bad'}">${ok ? '✓' : '✕'}</span><span>${esc(text)}</span></li>`;
  const body = `<section class="card status ${cls}" aria-live="polite">
<div class="mark" aria-hidden="true">${mark}</div>
<h2 id="verdict">${esc(headline)}</h2>
<p>${esc(check.genuine ? t.genuineNote : t.notGenuineNote)}</p>
<ul class="checks">
${item(check.identical, check.identical ? t.sameFile : t.differentFile)}
${item(check.verdict === 'valid', sig)}
</ul>
<p class="mono">SHA-256 ${esc(check.sha256)}</p>
</section>
${details(s, lang)}
<section class="card"><a class="button" href="${esc(pagePath(s.id, lang))}">${esc(t.back)}</a></section>`;
  return layout(lang, headline, pagePath(s.id, lang === 'zh' ? 'en' : 'zh'), body);
}

/** An upload the check could not use (no file, too large, not a form): what happened and the way back. */
export function uploadErrorPage(s: PublicLicenceStatus, detail: string, lang: PageLang): string {
  const t = T[lang];
  const body = `<section class="card status unknown" aria-live="polite">
<div class="mark" aria-hidden="true">!</div>
<h2 id="verdict">${esc(t.uploadFailed)}</h2>
<p>${esc(t.uploadFailedNote)}</p>
<p>${esc(detail)}</p>
</section>
<section class="card"><a class="button" href="${esc(pagePath(s.id, lang))}">${esc(t.back)}</a></section>`;
  return layout(lang, t.uploadFailed, pagePath(s.id, lang === 'zh' ? 'en' : 'zh'), body);
}

/** The friendly 404 for an identifier with no licence (mistyped, truncated or forged QR codes). */
export function notFoundPage(id: string, lang: PageLang): string {
  const t = T[lang];
  const body = `<section class="card status unknown">
<div class="mark" aria-hidden="true">?</div>
<h2 id="status">${esc(t.notFound)}</h2>
<p>${esc(t.notFoundNote)}</p>
<p class="mono">${esc(id)}</p>
</section>`;
  return layout(lang, t.notFound, pagePath(id, lang === 'zh' ? 'en' : 'zh'), body);
}
