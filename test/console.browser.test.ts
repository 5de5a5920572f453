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

const pageWidth = (page: Page): Promise<number> => page.evaluate<number>('document.documentElement.scrollWidth');

/** axe finds nothing on the page, it fits 1280 px and a 390 px phone without sideways scrolling, and it goes to test-artifacts/ at both widths. */
async function checkPage(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  expect(await pageWidth(page), name).toBeLessThanOrEqual(1280);
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await pageWidth(page), `${name} at 390 px`).toBeLessThanOrEqual(390);
  expect(await axeViolations(page), `${name} at 390 px`).toEqual([]);
  await screenshots(page, name);
}

/** Clicks a link that downloads; the file's bytes. */
async function download(page: Page, link: ReturnType<Page['getByRole']>): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return readFileSync((await file.path())!);
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

describe('seal-admins add a person and a system through the console (proposals under two-person control)', () => {
  it('alice proposes a person and sees the generated password once; bob approves and sees the TOTP secret once; the person logs in with both', async () => {
    const alice = await session('alice');
    await alice.page.goto(`${base}/console/people`);
    await checkPage(alice.page, 'people-admin');
    const add = alice.page.locator('form[action="/console/people"]');
    await add.getByLabel('用户名').fill('pat');
    await add.getByLabel('证照经办人').check();
    const proposals = await countRows(stack, 'proposals');
    await Promise.all([alice.page.waitForNavigation(), add.getByRole('button', { name: '新增用户' }).click()]);
    expect(await alice.page.textContent('main')).toContain('已提交审批');
    expect(await countRows(stack, 'proposals')).toBe(proposals + 1);
    expect(await stack.services.store.db('people').where({ name: 'pat' }).first()).toBeUndefined();
    const password = (await alice.page.locator('#secret-password').textContent())!.trim();
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await alice.page.getByRole('button', { name: '复制' }).count()).toBe(1);
    await checkPage(alice.page, 'person-proposed');

    const bob = await session('bob');
    await bob.page.goto(`${base}/console/proposals`);
    bob.page.on('dialog', (d) => void d.accept());
    const row = bob.page.locator('tr', { hasText: 'person.add' }).filter({ hasText: 'pat' });
    await Promise.all([bob.page.waitForNavigation(), row.getByRole('button', { name: '批准' }).click()]);
    const totpSecret = (await bob.page.locator('#secret-totpSecret').textContent())!.trim();
    expect(await bob.page.textContent('main')).not.toContain(password);
    await checkPage(bob.page, 'person-approved');
    // Neither page shows the other's factor again: the list shows the person, not their secrets.
    await bob.page.goto(`${base}/console/people`);
    expect(await bob.page.locator('tr', { hasText: 'pat' }).textContent()).toContain('证照经办人');
    expect(await bob.page.textContent('main')).not.toContain(totpSecret);

    const pat = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const patPage = await pat.newPage();
    await consoleLogin(patPage, base, { id: 'pat', name: 'pat', password, totpSecret, roles: ['licence-officer'] });
    expect(await patPage.textContent('header')).toContain('证照经办人');
    await pat.close();
    await alice.context.close();
    await bob.context.close();
  }, 300_000);

  it('alice proposes a system with the two-person seal; bob approves and gets its key once, with a copy button that copies it', async () => {
    const alice = await session('alice');
    await alice.page.goto(`${base}/console/clients`);
    await checkPage(alice.page, 'clients-admin');
    const create = alice.page.locator('form[action="/console/clients"]');
    await create.getByLabel('系统名称').fill('窗口受理系统');
    await create.locator('input[name=seals][value=approval]').check();
    await Promise.all([alice.page.waitForNavigation(), create.getByRole('button', { name: '新建接入系统' }).click()]);
    expect(await alice.page.textContent('main')).toContain('已提交审批');
    expect(await alice.page.locator('[id^=secret-]').count()).toBe(0);
    expect(await stack.services.store.db('api_clients').where({ name: '窗口受理系统' }).first()).toBeUndefined();

    const bob = await session('bob');
    await bob.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await bob.page.goto(`${base}/console/proposals`);
    bob.page.on('dialog', (d) => void d.accept());
    const row = bob.page.locator('tr', { hasText: 'client.create' }).filter({ hasText: '窗口受理系统' });
    await Promise.all([bob.page.waitForNavigation(), row.getByRole('button', { name: '批准' }).click()]);
    const key = (await bob.page.locator('#secret-key').textContent())!.trim();
    expect(await bob.page.textContent('main')).toContain('仅显示这一次');
    const copy = bob.page.getByRole('button', { name: '复制' });
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('已复制');
    expect(await bob.page.evaluate<string>('navigator.clipboard.readText()')).toBe(key);
    await checkPage(bob.page, 'client-key-once');

    // The key works, and the system's own page never shows it again.
    expect((await call(`${base}/v1/stamps`, { headers: bearer(key) })).status).toBe(200);
    const created = (await stack.services.store.db('api_clients').where({ name: '窗口受理系统' }).first()) as { id: string };
    await bob.page.goto(`${base}/console/clients/${created.id}`);
    expect(await bob.page.textContent('main')).not.toContain(key);
    await alice.context.close();
    await bob.context.close();
  }, 300_000);
});

describe('the stamp register', () => {
  it('an auditor filters stamps, downloads the CSV of those filters, opens one (record, placement, verification) and downloads its PDF', async () => {
    await stampOnce();
    const { context, page } = await session('audrey');
    await page.goto(`${base}/console/stamps`);
    const filters = page.locator('form.filters');
    await filters.getByLabel('案件编号').fill('SP-2026-0001');
    await filters.getByLabel('事项编码').fill('XK-001');
    await Promise.all([page.waitForNavigation(), filters.getByRole('button', { name: '查询' }).click()]);
    const expected = await stack.services.store.db('stamps').where({ case_number: 'SP-2026-0001', item_code: 'XK-001' }).pluck('id') as string[];
    expect(expected.length).toBeGreaterThan(1);
    expect(await page.locator('main tbody tr').count()).toBe(expected.length);

    const csvLink = page.getByRole('link', { name: '下载 CSV（当前筛选条件）' });
    const href = new URL((await csvLink.getAttribute('href'))!, base);
    expect(href.pathname).toBe('/console/stamps.csv');
    expect(Object.fromEntries(href.searchParams)).toEqual({ caseNumber: 'SP-2026-0001', itemCode: 'XK-001' });
    const csv = (await download(page, csvLink)).toString('utf8').replace(/^\ufeff/, '').trim().split('\r\n');
    expect(csv[0]).toMatch(/^id,createdAt,clientId,/);
    expect(csv.slice(1).map((line) => line.split(',')[0]).sort()).toEqual([...expected].sort());
    // A filter that matches nothing lists nothing, and its CSV is the header alone.
    await page.goto(`${base}/console/stamps?itemCode=NO-SUCH-ITEM`);
    expect(await page.locator('main tbody tr').count()).toBe(0);
    expect((await download(page, page.getByRole('link', { name: '下载 CSV（当前筛选条件）' }))).toString('utf8').trim().split('\r\n')).toHaveLength(1);

    await page.goto(`${base}/console/stamps?caseNumber=SP-2026-0001`);
    await Promise.all([page.waitForNavigation(), page.locator(`a[href="/console/stamps/${firstStamp}"]`).click()]);
    const record = (await call(`${base}/v1/stamps/${firstStamp}`, { headers: bearer(client.key) })).json<{
      seal: { certSerial: string }; sha256: { after: string }; placement: { placed: { page: number; rect: number[] }; fieldName: string };
    }>();
    const main = (await page.textContent('main'))!;
    for (const text of ['SP-2026-0001', '批复.pdf', 'XK-001', record.sha256.after]) expect(main).toContain(text);
    const [x1, y1, x2, y2] = record.placement.placed.rect as [number, number, number, number];
    const placement = (await page.locator('section.card', { has: page.getByRole('heading', { name: '盖章位置' }) }).textContent())!;
    expect(placement).toContain(`页码${record.placement.placed.page}`);
    expect(placement).toContain(`x ${x1.toFixed(1)} pt`);
    expect(placement).toContain(`y ${y1.toFixed(1)} pt`);
    expect(placement).toContain(`${(x2 - x1).toFixed(1)} pt`);
    expect(placement).toContain(`${(y2 - y1).toFixed(1)} pt`);
    const verification = page.locator('section.card', { has: page.getByRole('heading', { name: '验证结果' }) });
    const verified = (await verification.textContent())!;
    // The stored output's own signature: its field, the seal certificate's serial, its level.
    expect(await verification.getByRole('heading', { name: `签章 ${record.placement.fieldName}` }).count()).toBe(1);
    expect(verified).toContain(record.seal.certSerial);
    expect(verified).toContain('覆盖范围');
    expect(await verification.locator('.badge').first().textContent()).toBe('有效');
    await checkPage(page, 'stamp-detail');

    const pdf = await download(page, page.getByRole('link', { name: '下载 PDF' }));
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(record.sha256.after);
    await context.close();
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
    await page.keyboard.type((await freshCode(person.totpSecret, (people.li!.lastStep ?? 0) + 1)).code);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(page.url(), await page.innerText('main')).toBe(`${base}/console/`);
    expect(await page.textContent('header')).toContain('li');
    await checkPage(page, 'overview-officer');
    await context.close();
  }, 300_000);
});
