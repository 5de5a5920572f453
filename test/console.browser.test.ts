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
import { addClient, bearer, call, stampForm } from './support/api-client.js';
import { axeViolations, consoleLogin, launchBrowser, screenshots } from './support/console.js';
import { addPerson, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let browser: Browser;
let base: string;
const people: Record<string, TestPerson & { lastStep?: number }> = {};

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000' });
  base = stack.server.url;
  for (const [name, roles] of [['alice', ['seal-admin']], ['bob', ['seal-admin']], ['audrey', ['auditor']], ['li', ['licence-officer']]] as const) {
    people[name] = await addPerson(stack, name, [...roles]);
  }
  const on = await stack.cli(['seal', 'two-person', 'approval', 'on', '--break-glass']);
  expect(on.code, on.err).toBe(0);
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

describe('two seal-admins rotate a key through the console', () => {
  it('alice proposes, bob logs in with TOTP and approves, the new version appears and a later stamp carries it', async () => {
    const alice = await session('alice');
    await alice.page.goto(`${base}/console/seals/approval`);
    await screenshots(alice.page, 'seal');
    alice.page.on('dialog', (d) => void d.accept());
    await Promise.all([alice.page.waitForLoadState('load'), alice.page.getByRole('button', { name: '轮换密钥' }).click()]);
    expect(await alice.page.textContent('main')).toContain('已提交审批');
    await alice.page.goto(`${base}/console/proposals`);
    const row = alice.page.locator('tr', { hasText: 'seal.rotate' });
    expect(await row.getByRole('button', { name: '批准' }).count()).toBe(0);
    await screenshots(alice.page, 'proposals-proposer');

    const bob = await session('bob');
    await bob.page.goto(`${base}/console/proposals`);
    bob.page.on('dialog', (d) => void d.accept());
    await screenshots(bob.page, 'proposals-approver');
    await Promise.all([bob.page.waitForLoadState('load'), bob.page.locator('tr', { hasText: 'seal.rotate' }).getByRole('button', { name: '批准' }).click()]);
    expect(await bob.page.textContent('main')).toContain('已完成');
    await bob.page.goto(`${base}/console/seals/approval`);
    expect(await bob.page.locator('tr', { hasText: 'v2' }).textContent()).toContain('active');

    const client = await addClient(stack, '审批系统', ['approval']);
    const r = await call(`${base}/v1/stamps`, { method: 'POST', headers: bearer(client.key), body: stampForm([{ data: await onePagePdf(), filename: 'a.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100' }) });
    expect(r.status).toBe(200);
    const stamp = await call(`${base}/v1/stamps/${r.headers.get('stamp-id')}`, { headers: bearer(client.key) });
    expect(stamp.json<{ seal: { version: number } }>().seal.version).toBe(2);
    await alice.context.close();
    await bob.context.close();
  });
});
