/**
 * The console over plain HTTP (no browser; also run on PostgreSQL): the login gate, cookie attributes,
 * the Content-Security-Policy and pages without any inline script or style, the first-login credential
 * change (a wrong code refused, the old password and TOTP secret useless afterwards), the overview's
 * stamp counts, and the language switch that never redirects elsewhere.
 */
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode, totpStep } from '../src/access/totp.js';
import { CONSOLE_CSP } from '../src/console/assets.js';
import { setSessionCookie } from '../src/console/web-session.js';
import { addClient, bearer, call, stampForm } from './support/api-client.js';
import { addPerson, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { PDFDocument } from '@cantoo/pdf-lib';

let stack: Stack;
let base: string;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000' });
  base = stack.server.url;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** A tiny cookie jar: name → value from each Set-Cookie. */
class Browser {
  readonly cookies = new Map<string, string>();
  async fetch(path: string, init: RequestInit = {}) {
    const r = await fetch(`${base}${path}`, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair!.split('=');
      if (v) this.cookies.set(k!, v);
      else this.cookies.delete(k!);
    }
    return { status: r.status, headers: r.headers, text: await r.text() };
  }
  post(path: string, fields: Record<string, string>) {
    return this.fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }
}

const hidden = (html: string, name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;

async function login(b: Browser, person: Pick<TestPerson, 'name' | 'password' | 'totpSecret'>, step = totpStep(new Date())) {
  const page = await b.fetch('/console/login');
  return b.post('/console/login', { _csrf: hidden(page.text, '_csrf'), name: person.name, password: person.password, otp: totpCode(person.totpSecret, step) });
}

describe('console over HTTP', () => {
  it('sends strangers to the login page; sets HttpOnly, SameSite=Strict cookies under /console; forbids inline script and style', async () => {
    const b = new Browser();
    const gate = await b.fetch('/console/seals');
    expect(gate.status).toBe(303);
    expect(gate.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fseals');
    const page = await b.fetch('/console/login');
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toContain('unsafe');
    expect(page.headers.getSetCookie()[0]).toMatch(/^oneseal_login_csrf=[\w-]+; path=\/console; expires=[^;]+; samesite=strict; httponly$/);

    const person = await addPerson(stack, 'carol', ['seal-admin']);
    const r = await login(b, person);
    expect(r.status).toBe(303);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('oneseal_console='))!;
    expect(cookie).toMatch(/^oneseal_console=oss_[\w-]{43}; path=\/console; expires=[^;]+; samesite=strict; httponly$/);

    // Every page a seal-admin opens: no inline script, no style attribute, no event handler attribute.
    for (const path of ['/console/welcome', '/console/login']) {
      const html = (await b.fetch(path)).text;
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    }
  });

  it('marks the session cookie Secure when the public URL is https (behind a TLS proxy)', async () => {
    const app = new Koa();
    app.use((ctx) => {
      setSessionCookie(ctx, 'https://oneseal.example.gov.cn', 'oss_token', new Date(Date.now() + 60_000).toISOString());
      ctx.body = 'ok';
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(r.headers.getSetCookie()[0]).toMatch(/; secure; httponly$/);
    } finally {
      server.close();
    }
  });

  it('makes a first login replace both factors: a wrong code is refused, then the old password and secret stop working', async () => {
    const person = await addPerson(stack, 'dan', ['auditor']);
    const b = new Browser();
    await login(b, person);
    expect((await b.fetch('/console/')).headers.get('location')).toBe('/console/welcome');
    const welcome = (await b.fetch('/console/welcome')).text;
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(welcome)![1]!;
    expect(welcome).toContain('<svg');
    const fields = { _csrf: hidden(welcome, '_csrf'), totpOffer: hidden(welcome, 'totpOffer'), currentPassword: person.password, newPassword: 'a new one only dan knows', repeatPassword: 'a new one only dan knows' };
    const wrong = await b.post('/console/welcome', { ...fields, otp: totpCode(person.totpSecret, totpStep(new Date())) });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('aria-invalid="true"');
    const ok = await b.post('/console/welcome', { ...fields, otp: totpCode(secret, totpStep(new Date())) });
    expect(ok.status).toBe(303);
    expect((await b.fetch('/console/')).status).toBe(200);

    const old = await login(new Browser(), person, totpStep(new Date()) + 1);
    expect(old.status).toBe(401);
    const renewed = await login(new Browser(), { ...person, password: 'a new one only dan knows', totpSecret: secret }, totpStep(new Date()) + 1);
    expect(renewed.status).toBe(303);
  });

  it('counts today’s stamps per seal, system, item code, department and centre on the overview of an auditor', async () => {
    const client = await addClient(stack, '一网通办', ['approval']);
    const doc = await PDFDocument.create();
    doc.addPage([595, 842]);
    const pdf = await doc.save();
    for (let i = 0; i < 2; i++) {
      const r = await call(`${base}/v1/stamps`, { method: 'POST', headers: bearer(client.key), body: stampForm([{ data: pdf, filename: 'a.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100', itemCode: 'XK-7' }) });
      expect(r.status).toBe(200);
    }
    const person = await addPerson(stack, 'erin', ['auditor']);
    const b = new Browser();
    await login(b, person);
    const welcome = (await b.fetch('/console/welcome')).text;
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(welcome)![1]!;
    await b.post('/console/welcome', { _csrf: hidden(welcome, '_csrf'), totpOffer: hidden(welcome, 'totpOffer'), currentPassword: person.password, newPassword: 'erin picks this one', repeatPassword: 'erin picks this one', otp: totpCode(secret, totpStep(new Date())) });
    const overview = (await b.fetch('/console/')).text;
    for (const key of ['approval', '一网通办', 'XK-7']) expect(overview).toMatch(new RegExp(`<td data-label="[^"]+">${key}</td><td data-label="[^"]+" class="num">2</td>`));
    // An item outside the catalogue has no department, and a district-hall client no centre: both count under —.
    for (const label of ['按部门', '按办理中心（— 为区政务服务大厅）']) {
      expect(overview).toMatch(new RegExp(`<h3>${label}</h3>.*?<td data-label="${label}">—</td><td data-label="[^"]+" class="num">2</td>`, 's'));
    }
  });

  it('switches the language and returns only to a console page', async () => {
    const b = new Browser();
    const r = await b.fetch('/console/lang?to=en&back=%2Fconsole%2Flogin');
    expect(r.headers.get('location')).toBe('/console/login');
    expect((await b.fetch('/console/login')).text).toContain('<html lang="en">');
    for (const back of ['https://evil.example/', '//evil.example/console/', '/v1/stamps']) {
      expect((await b.fetch(`/console/lang?to=zh&back=${encodeURIComponent(back)}`)).headers.get('location')).toBe('/console/');
    }
  });
});
