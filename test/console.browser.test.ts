/**
 * The web console in a real browser (Debian's chromium through playwright-core): two seal-admins rotate a
 * key (one proposes, the other logs in with TOTP and approves; a stamp made afterwards carries the new
 * version), an auditor sees every page and finds no control that changes anything (and the server
 * refuses such posts from an auditor's session), a licence officer issues a 营业执照 from the form,
 * CSRF, keyboard-only login, axe-core on each page, and screenshots at 1280 and 390 px in
 * test-artifacts/console/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PDFDocument } from '@cantoo/pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { addClient, bearer, call, countRows, stampForm } from './support/api-client.js';
import { axeViolations, consoleLogin, freshCode, launchBrowser, screenshots } from './support/console.js';
import { SAMPLE_DATA } from './licences-samples.js';
import { addPerson, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { getLicence } from '../src/store/licences.js';
import { creditCodeCheckChar } from '../src/standards/credit-code.js';
import { issueLicence, licenceDeps } from '../src/licences/service.js';

let stack: Stack;
let browser: Browser;
let base: string;
let client: { id: string; key: string };
let firstStamp: string;
let firstLicence: string;
const people: Record<string, TestPerson & { lastStep?: number }> = {};

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000' });
  base = stack.server.url;
  for (const [name, roles] of [['alice', ['seal-admin']], ['bob', ['seal-admin']], ['audrey', ['auditor']], ['li', ['licence-officer']]] as const) {
    people[name] = await addPerson(stack, name, [...roles]);
  }
  const on = await stack.cli(['seal', 'two-person', 'approval', 'on', '--break-glass']);
  expect(on.code, on.err).toBe(0);
  client = await addClient(stack, '审批系统', ['approval']);
  firstStamp = await stampOnce();
  firstLicence = (await issueLicence(licenceDeps(stack.services), { type: 'business-licence', data: SAMPLE_DATA['business-licence'] }, 'test')).id;
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function session(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  people[name] = await consoleLogin(page, base, people[name]!);
  return { context, page };
}

async function onePagePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]);
  return doc.save({ useObjectStreams: false });
}

/** A stamp made through the API by the stamping client; its id. */
async function stampOnce(): Promise<string> {
  const r = await call(`${base}/v1/stamps`, {
    method: 'POST',
    headers: bearer(client.key),
    body: stampForm([{ data: await onePagePdf(), filename: '批复.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100', caseNumber: 'SP-2026-0001', itemCode: 'XK-001' }),
  });
  expect(r.status).toBe(200);
  return r.headers.get('stamp-id')!;
}

/** The console's CSRF token of the page open now (every page carries it in the logout form). */
const csrfOf = (page: Page): Promise<string> => page.locator('input[name=_csrf]').first().inputValue();

/** A form post from the page's own session (its cookie), as a browser would send it. */
async function postFrom(page: Page, path: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
  const r = await page.request.post(`${base}${path}`, { form: fields, maxRedirects: 0 });
  return { status: r.status(), text: await r.text() };
}

/** axe finds nothing on the page, and it goes to test-artifacts/ at both widths. */
async function checkPage(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
  await screenshots(page, name);
}

describe('two seal-admins rotate a key through the console', () => {
  it('alice proposes, bob logs in with TOTP and approves, the new version appears and a later stamp carries it', async () => {
    const alice = await session('alice');
    await alice.page.goto(`${base}/console/seals/approval`);
    await screenshots(alice.page, 'seal');
    alice.page.on('dialog', (d) => void d.accept());
    await Promise.all([alice.page.waitForNavigation(), alice.page.getByRole('button', { name: '轮换密钥' }).click()]);
    expect(await alice.page.textContent('main')).toContain('已提交审批');
    await alice.page.goto(`${base}/console/proposals`);
    const row = alice.page.locator('tr', { hasText: 'seal.rotate' });
    expect(await row.getByRole('button', { name: '批准' }).count()).toBe(0);
    await screenshots(alice.page, 'proposals-proposer');

    const bob = await session('bob');
    await bob.page.goto(`${base}/console/proposals`);
    bob.page.on('dialog', (d) => void d.accept());
    await screenshots(bob.page, 'proposals-approver');
    await Promise.all([bob.page.waitForNavigation(), bob.page.locator('tr', { hasText: 'seal.rotate' }).getByRole('button', { name: '批准' }).click()]);
    expect(await bob.page.textContent('main')).toContain('已完成');
    await bob.page.goto(`${base}/console/seals/approval`);
    expect(await bob.page.locator('tr', { hasText: 'v2' }).textContent()).toContain('active');

    const stamp = await call(`${base}/v1/stamps/${await stampOnce()}`, { headers: bearer(client.key) });
    expect(stamp.json<{ seal: { version: number } }>().seal.version).toBe(2);
    const before = await call(`${base}/v1/stamps/${firstStamp}`, { headers: bearer(client.key) });
    expect(before.json<{ seal: { version: number } }>().seal.version).toBe(1);
    await alice.context.close();
    await bob.context.close();
  }, 300_000);
});

describe('an auditor', () => {
  it('sees every page, finds no control that changes anything, and the server refuses such posts', async () => {
    const { context, page } = await session('audrey');
    const pages = {
      overview: '/console/', proposals: '/console/proposals', seals: '/console/seals', 'seal-detail': '/console/seals/approval', clients: '/console/clients',
      'client-detail': `/console/clients/${client.id}`, stamps: '/console/stamps', 'stamp-detail': `/console/stamps/${firstStamp}`, licences: '/console/licences',
      'licence-detail': `/console/licences/${encodeURIComponent(firstLicence)}`, audit: '/console/audit', 'audit-verify': '/console/audit/verify', people: '/console/people',
    };
    for (const [name, path] of Object.entries(pages)) {
      const r = await page.goto(`${base}${path}`);
      expect(r?.status(), path).toBe(200);
      // The only forms that post are the logout and, on the audit pages, signing the chain head now: the
      // policy gives auditors that (it notarises the log and changes nothing in it).
      const posts = await page.locator('form[method=post]').evaluateAll((forms) => forms.map((f) => f.getAttribute('action')));
      expect(posts, path).toEqual(path.startsWith('/console/audit') ? ['/console/logout', '/console/audit/heads'] : ['/console/logout']);
      await checkPage(page, `auditor-${name}`);
    }
    await page.goto(`${base}/console/audit/verify`);
    expect(await page.textContent('main')).toContain('审计链完整');
    await page.goto(`${base}/console/stamps/${firstStamp}`);
    expect(await page.textContent('main')).toContain('SP-2026-0001');
    // The licence list and record show an organisation's holder (public registration data), no PDF link.
    await page.goto(`${base}/console/licences?type=business-licence`);
    expect(await page.textContent('main')).toContain(SAMPLE_DATA['business-licence']!.name);
    await page.goto(`${base}/console/licences/${encodeURIComponent(firstLicence)}`);
    expect(await page.getByRole('link', { name: '下载 PDF' }).count()).toBe(0);
    expect((await page.request.get(`${base}/console/licences/${encodeURIComponent(firstLicence)}/pdf`)).status()).toBe(403);

    const csrf = await csrfOf(page);
    const proposals = await countRows(stack, 'proposals');
    const clients = await countRows(stack, 'api_clients');
    for (const [path, fields] of [
      ['/console/seals/approval/rotate', {}],
      ['/console/seals', { id: 'x', organisation: '某单位', creditCode: '91110000802100433B', name: '公章' }],
      ['/console/clients', { name: 'rogue', scopes: 'stamps' }],
      [`/console/clients/${client.id}/revoke`, {}],
      [`/console/clients/${client.id}/rotate-key`, {}],
      ['/console/people', { name: 'eve', roles: 'seal-admin' }],
      ['/console/people/alice/disable', {}],
      ['/console/licences', { type: 'business-licence' }],
    ] as const) {
      const r = await postFrom(page, path, { _csrf: csrf, ...fields });
      expect(r.status, path).toBe(403);
    }
    expect(await countRows(stack, 'proposals')).toBe(proposals);
    expect(await countRows(stack, 'api_clients')).toBe(clients);
    expect((await call(`${base}/v1/stamps/${firstStamp}`, { headers: bearer(client.key) })).status).toBe(200);
    await context.close();
  }, 300_000);
});

describe('a licence officer', () => {
  it('issues a 营业执照 from the form: a wrong credit code is shown inline, a right one issues it, the PDF downloads', async () => {
    const { context, page } = await session('li');
    await page.goto(`${base}/console/licences`);
    await checkPage(page, 'licences');
    await page.locator('form[action="/console/licences/new"]').getByLabel('证照类型').selectOption('business-licence');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '签发证照' }).click()]);
    // Another company than the licence issued in beforeAll: the same holder twice would be a duplicate.
    const body = '91110108MA01CDNP7';
    const data: Record<string, string> = { ...SAMPLE_DATA['business-licence']!, name: '北京控制台测试有限公司', unifiedSocialCreditCode: body + creditCodeCheckChar(body) };
    const labels: Record<string, string> = {
      unifiedSocialCreditCode: '统一社会信用代码', name: '名称', entityType: '类型', legalRepresentative: '法定代表人', registeredCapital: '注册资本',
      establishedOn: '成立日期', businessTermTo: '营业期限至', address: '住所', businessScope: '经营范围',
    };
    for (const [key, label] of Object.entries(labels)) await page.getByLabel(label, { exact: true }).fill(data[key]!);
    const wrong = `${data.unifiedSocialCreditCode!.slice(0, 17)}${data.unifiedSocialCreditCode!.endsWith('A') ? 'B' : 'A'}`;
    await page.getByLabel('统一社会信用代码').fill(wrong);
    const count = await countRows(stack, 'licences');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '签发', exact: true }).click()]);
    const input = page.getByLabel('统一社会信用代码');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await input.getAttribute('aria-describedby'))!;
    expect(await page.locator(`#${describedBy.split(' ').at(-1)}`).textContent()).toContain('unified social credit code');
    expect(await page.getByLabel('名称', { exact: true }).inputValue()).toBe(data.name);
    expect(await countRows(stack, 'licences')).toBe(count);
    await checkPage(page, 'licence-form-error');

    await input.fill(data.unifiedSocialCreditCode!);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '签发', exact: true }).click()]);
    expect(page.url()).toContain('?done=issued');
    expect(await page.textContent('main')).toContain('证照已签发');
    await checkPage(page, 'licence');
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: '下载 PDF' }).click()]);
    const pdf = readFileSync((await download.path())!);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(createHash('sha256').update(pdf).digest('hex')).toBe((await getLicence(stack.services.store.db, id))!.sha256);
    await context.close();
  }, 300_000);
});

describe('CSRF and the keyboard', () => {
  it('refuses a post without the CSRF token, or with another session\'s, and the login form without its own', async () => {
    const { context, page } = await session('alice');
    const proposals = await countRows(stack, 'proposals');
    expect((await postFrom(page, '/console/seals/approval/rotate', {})).status).toBe(403);
    expect((await postFrom(page, '/console/seals/approval/rotate', { _csrf: 'x'.repeat(43) })).status).toBe(403);
    const other = await session('bob');
    expect((await postFrom(page, '/console/seals/approval/rotate', { _csrf: await csrfOf(other.page) })).status).toBe(403);
    expect(await countRows(stack, 'proposals')).toBe(proposals);
    // With its own token the same post is a proposal.
    await page.goto(`${base}/console/seals/approval`);
    expect((await postFrom(page, '/console/seals/approval/rotate', { _csrf: await csrfOf(page) })).status).toBe(202);
    expect(await countRows(stack, 'proposals')).toBe(proposals + 1);
    const login = await call(`${base}/console/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=alice&password=x' });
    expect(login.status).toBe(403);
    await context.close();
    await other.context.close();
  }, 300_000);

  it('logs in with the keyboard alone', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${base}/console/login`);
    await checkPage(page, 'login');
    const person = people.li!;
    const focused = () => page.evaluate<string | null>('document.activeElement && document.activeElement.getAttribute("name")');
    for (let i = 0; i < 10 && (await focused()) !== 'name'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('name');
    await page.keyboard.type(person.name);
    await page.keyboard.press('Tab');
    await page.keyboard.type(person.password);
    await page.keyboard.press('Tab');
    await page.keyboard.type(freshCode(person.totpSecret, (people.li!.lastStep ?? 0) + 1).code);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(page.url(), await page.innerText('main')).toBe(`${base}/console/`);
    expect(await page.textContent('header')).toContain('li');
    await checkPage(page, 'overview-officer');
    await context.close();
  }, 300_000);
});
