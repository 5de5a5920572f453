/**
 * 登录, 退出 and the first login: name, password and the one-time code (the same login as the API, so
 * the same lock-out and audit), and, while someone else knows one of the person's factors, a page that
 * replaces both with factors only the person knows (a new password, a TOTP secret shown as a QR code).
 */
import type Router from '@koa/router';
import QRCode from 'qrcode';
import { offerTotp, setOwnCredentials } from '../../access/people.js';
import { login, logout } from '../../access/sessions.js';
import { toProblem } from '../../api/problem.js';
import { RateLimiter } from '../../api/rate-limit.js';
import { OneSealError } from '../../errors.js';
import type { Services } from '../../services.js';
import { CSS, CSS_PATH, JS, JS_PATH } from '../assets.js';
import { field, notice, postForm, secret, view, type View } from '../components.js';
import { html, raw } from '../html.js';
import { langOf } from '../i18n.js';
import { requestLang, sendPage, WELCOME_PATH, type ConsoleRouter } from '../router.js';
import { checkCsrf, clearSessionCookie, issueLoginCsrf, LOGIN_CSRF_COOKIE, readCookie, readForm, setLangCookie, setSessionCookie, type Form } from '../web-session.js';

/** Only console paths: `next` and `back` never send a person elsewhere. */
function consolePath(value: unknown): string {
  return typeof value === 'string' && /^\/console\/[^\\]*$/.test(value) && !value.startsWith('//') ? value : '/console/';
}

function loginPage(v: View, next: string, values: { name?: string } = {}, error?: string) {
  return {
    title: v.t('login'),
    body: html`<div class="login card">${error ? notice('bad', error) : ''}${postForm(v, `/console/login?next=${encodeURIComponent(next)}`, html`
${field({ name: 'name', label: v.t('name'), value: values.name ?? '', required: true, autocomplete: 'username' })}
${field({ name: 'password', label: v.t('password'), type: 'password', required: true, autocomplete: 'current-password' })}
${field({ name: 'otp', label: v.t('otp'), hint: v.t('otpHint'), autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}' })}`, { submit: v.t('login') })}</div>`,
  };
}

/** The QR code of an otpauth URL as inline SVG (no image request, nothing for the CSP to allow). */
function qrSvg(text: string): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const rects: string[] = [];
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (modules.get(y, x)) rects.push(`M${x + 4} ${y + 4}h1v1h-1z`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n + 8} ${n + 8}" role="img" aria-label="QR"><rect width="${n + 8}" height="${n + 8}" fill="#fff"/><path d="${rects.join('')}" fill="#000"/></svg>`;
}

export function registerLoginPages(router: Router, console: ConsoleRouter, services: Services): void {
  const { publicUrl } = services.config;
  const { loginsPerMinute } = services.config.sessions;
  const addresses = new RateLimiter({ perSecond: loginsPerMinute / 60, burst: loginsPerMinute });

  router.get(CSS_PATH, (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = CSS;
  });
  router.get(JS_PATH, (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = JS;
  });

  router.get('/console/lang', (ctx) => {
    setLangCookie(ctx, publicUrl, langOf(ctx.query.to));
    ctx.status = 303;
    ctx.redirect(consolePath(ctx.query.back));
  });

  router.get('/console/login', (ctx) => {
    const v = view(requestLang(ctx), ctx.originalUrl, issueLoginCsrf(ctx, publicUrl));
    sendPage(ctx, v, loginPage(v, consolePath(ctx.query.next)));
  });

  router.post('/console/login', async (ctx) => {
    const next = consolePath(ctx.query.next);
    const v = view(requestLang(ctx), '/console/login', issueLoginCsrf(ctx, publicUrl));
    let form: Form | undefined;
    try {
      form = await readForm(ctx);
      checkCsrf(form, readCookie(ctx, LOGIN_CSRF_COOKIE));
      const decision = addresses.take(`login:${ctx.ip}`);
      if (!decision.allowed) {
        throw new OneSealError('rate-limited', 'rate-limited', `Too many logins from this address; retry after ${decision.retryAfterSeconds} s.`, { retryAfter: decision.retryAfterSeconds });
      }
      const otp = form.text('otp');
      const session = await login(services, { name: form.text('name'), password: form.get('password') ?? '', ...(otp ? { otp } : {}) }, 'console');
      setSessionCookie(ctx, publicUrl, session.token, session.expiresAt);
      ctx.status = 303;
      ctx.redirect(next);
    } catch (e) {
      const problem = toProblem(e, ctx.state.requestId as string, ctx.path);
      sendPage(ctx, v, { ...loginPage(v, next, { name: form?.text('name') ?? '' }, problem.body.detail ?? problem.body.title), status: problem.status });
    }
  });

  console.action('/console/logout', async (req) => {
    await logout(services, req.actor);
    clearSessionCookie(req.ctx, publicUrl);
    return { redirect: '/console/login' };
  });

  const welcome = (v: View, offerFor: Parameters<typeof offerTotp>[1], errors: Record<string, string> = {}) => {
    const offer = offerTotp(services, offerFor);
    return {
      title: v.t('firstLogin'),
      body: html`${notice('info', v.t('firstLoginNote'))}${postForm(v, WELCOME_PATH, html`
<input type="hidden" name="totpOffer" value="${offer.sealed}">
${field({ name: 'currentPassword', label: v.t('currentPassword'), type: 'password', required: true, autocomplete: 'current-password', ...(errors.currentPassword ? { error: errors.currentPassword } : {}) })}
${field({ name: 'newPassword', label: v.t('newPassword'), type: 'password', required: true, autocomplete: 'new-password', hint: v.t('newPasswordHint'), ...(errors.newPassword ? { error: errors.newPassword } : {}) })}
${field({ name: 'repeatPassword', label: v.t('repeatPassword'), type: 'password', required: true, autocomplete: 'new-password', ...(errors.repeatPassword ? { error: errors.repeatPassword } : {}) })}
<p>${v.t('scanQr')}</p><div class="qr">${raw(qrSvg(offer.shown.otpauthUrl))}</div>
${secret(v, 'totp-secret', v.t('totpSecret'), offer.shown.totpSecret)}
${field({ name: 'otp', label: v.t('newOtp'), hint: v.t('newOtpHint'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}', ...(errors.otp ? { error: errors.otp } : {}) })}`, { submit: v.t('save') })}`,
    };
  };

  console.page(WELCOME_PATH, undefined, async ({ v, actor }) => welcome(v, actor), { welcome: true });

  console.action(WELCOME_PATH, async ({ v, actor }, form) => {
    const newPassword = form.get('newPassword') ?? '';
    if (newPassword !== (form.get('repeatPassword') ?? '')) return { ...welcome(v, actor, { repeatPassword: v.t('passwordsDiffer') }), status: 422 };
    try {
      await setOwnCredentials(services, actor, { currentPassword: form.get('currentPassword') ?? '', newPassword, totpOffer: form.get('totpOffer') ?? '', otp: form.text('otp') });
    } catch (e) {
      if (!(e instanceof OneSealError) || !e.fields) throw e;
      return { ...welcome(v, actor, Object.fromEntries(e.fields.map((f) => [f.field, f.message]))), status: 422 };
    }
    return { redirect: '/console/?done=credentials' };
  });
}
