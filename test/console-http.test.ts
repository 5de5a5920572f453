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
import { appendAudit } from '../src/audit/chain.js';
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

/** A new person logged in, past the first-login page (their own password and TOTP secret set). */
async function settledSession(name: string, roles: string[]): Promise<Browser> {
  const person = await addPerson(stack, name, roles);
  const b = new Browser();
  await login(b, person);
  const welcome = (await b.fetch('/console/welcome')).text;
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(welcome)![1]!;
  const password = `${name} picks this one`;
  const r = await b.post('/console/welcome', { _csrf: hidden(welcome, '_csrf'), totpOffer: hidden(welcome, 'totpOffer'), currentPassword: person.password, newPassword: password, repeatPassword: password, otp: totpCode(secret, totpStep(new Date())) });
  expect(r.status).toBe(303);
  return b;
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
    const b = await settledSession('erin', ['auditor']);
    const overview = (await b.fetch('/console/')).text;
    for (const key of ['approval', '一网通办', 'XK-7']) expect(overview).toMatch(new RegExp(`<td data-label="[^"]+">${key}</td><td data-label="[^"]+" class="num">2</td>`));
    // An item outside the catalogue has no department, and a district-hall client no centre: both count under —.
    for (const label of ['按部门', '按办理中心（— 为区政务服务大厅）']) {
      expect(overview).toMatch(new RegExp(`<h3>${label}</h3>.*?<td data-label="${label}">—</td><td data-label="[^"]+" class="num">2</td>`, 's'));
    }
  });

  it('pages through the audit log and downloads lists as CSV with the API\'s columns, masking and refusals', async () => {
    const client = await addClient(stack, '窗口系统', ['approval']);
    const doc = await PDFDocument.create();
    doc.addPage([595, 842]);
    const r = await call(`${base}/v1/stamps`, { method: 'POST', headers: bearer(client.key), body: stampForm([{ data: await doc.save(), filename: '张三的申请.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100', caseNumber: 'CSV-1', itemCode: 'XK-CSV' }) });
    expect(r.status).toBe(200);
    // More entries than one page (50), so the audit list has a next page to follow.
    await stack.services.store.db.transaction(async (trx) => {
      for (let i = 0; i < 60; i++) await appendAudit(trx, { actor: 'system:test', action: 'test.page', subject: `entry-${i}`, details: {} });
    });

    const auditor = await settledSession('fay', ['auditor']);
    const first = await auditor.fetch('/console/audit?action=test.page');
    const next = /<p class="pager"><a href="([^"]+)">/.exec(first.text)![1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    const second = await auditor.fetch(next);
    expect(second.status).toBe(200);
    const subjects = (html: string) => [...html.matchAll(/>(entry-\d+)</g)].map((m) => m[1]);
    expect(subjects(first.text)).toHaveLength(50);
    expect([...subjects(first.text), ...subjects(second.text)].sort()).toEqual(Array.from({ length: 60 }, (_, i) => `entry-${i}`).sort());
    expect(first.text).toContain('href="/console/audit.csv?action=test.page"');
    const auditCsv = await auditor.fetch('/console/audit.csv?action=test.page');
    expect(auditCsv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(auditCsv.text.trim().split('\r\n')).toHaveLength(61);

    const stampsCsv = await auditor.fetch('/console/stamps.csv?itemCode=XK-CSV');
    expect(stampsCsv.text).toContain('CSV-1,张三的申请.pdf');
    // An operator's CSV has neither case numbers nor file names, and filtering on them is refused.
    const operator = await settledSession('gus', ['operator']);
    const masked = await operator.fetch('/console/stamps.csv?itemCode=XK-CSV');
    expect(masked.status).toBe(200);
    expect(masked.text.split('\r\n')[0]).not.toMatch(/caseNumber|filename/);
    expect(masked.text).not.toContain('张三');
    expect(masked.text.trim().split('\r\n')).toHaveLength(2);
    expect((await operator.fetch('/console/stamps.csv?caseNumber=CSV-1')).status).toBe(403);
    expect((await operator.fetch('/console/audit.csv')).status).toBe(403);
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
