/**
 * /docs in a real (offline) Chromium: the page loads nothing but itself and /openapi.json, breaks no
 * CSP rule, and lists the stamp API's operations with parameters, bodies and responses.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await openStack();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('GET /docs', () => {
  it('renders every stamp API operation from /openapi.json without outside requests or CSP violations', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${stack.server.url}/docs`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('section#createStamp');
    expect(problems).toEqual([]);
    expect(requests.every((u) => u.startsWith(stack.server.url))).toBe(true);
    expect(requests).toContain(`${stack.server.url}/openapi.json`);

    for (const id of ['createStamp', 'getStamp', 'getStampPdf', 'createStampBatch', 'getStampBatch', 'listSeals', 'getSeal']) {
      expect(await page.locator(`section#${id}`).count(), id).toBe(1);
    }
    const stamp = await page.locator('section#createStamp').innerText();
    expect(stamp).toContain('/v1/stamps');
    expect(stamp).toContain('Idempotency-Key');
    expect(stamp).toContain('multipart/form-data');
    expect(stamp).toContain('application/pdf');
    expect(stamp).toMatch(/caseNumber/);
    expect(stamp).toMatch(/413\s+The upload is over the size limit/);
    expect(await page.locator('section#createStampBatch').innerText()).toContain('ZIP rather than multipart/mixed');
    await page.close();
  });
});
