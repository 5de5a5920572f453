/**
 * The signed QR payload checked in a real browser (Debian's chromium through playwright-core): the public
 * licence page verifies the fragment with WebCrypto and still says "离线核验：签名有效" when the status request
 * fails, and says otherwise for a tampered fragment; the offline verifier /verify-offline/ installs its
 * service worker on a first visit and then, with the network emulated offline, verifies a scanned payload
 * and tells the issued PDF from another one; a photo of a printed licence is decoded by the page's own QR decoder
 * (vendored jsQR, the path taken where the browser has no BarcodeDetector). Strict CSP: every script is a file of our origin.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLicence, licenceDeps } from '../src/licences/service.js';
import { getLicencePdf } from '../src/store/licences.js';
import { freshSample } from './licences-samples.js';
import { openStack, type Stack } from './support/stamp-stack.js';

/** The machine is shared: give the page's scripts time, the assertions still need the exact text. */
const SLOW = { timeout: 30_000 };
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;
const qr: Record<string, string> = {};
const creditCodes: Record<string, string> = {};

/** Issues a licence, writes its PDF and reads its QR code back with zbarimg from a whole-page 150 dpi render. */
async function issue(name: string, type: string): Promise<void> {
  const data = freshSample(type);
  creditCodes[name] = data.unifiedSocialCreditCode!;
  const record = await issueLicence(licenceDeps(stack.services), { type, data }, 'test');
  const file = path.join(dir, `${name}.pdf`);
  writeFileSync(file, (await getLicencePdf(stack.services.store.db, record.id))!);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', file, path.join(dir, name)]);
  qr[name] = execFileSync('zbarimg', ['--raw', '-q', path.join(dir, `${name}.png`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'oneseal-qr-browser-'));
  stack = await openStack();
  await issue('a', 'business-licence');
  await issue('b', 'business-licence');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  // Whatever this chromium build offers, the offline page must decode with its own fallback (jsQR).
  await context.addInitScript('delete window.BarcodeDetector;');
  page = await context.newPage();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the public licence page', () => {
  it('verifies the signed fragment and says so even when the status request fails', async () => {
    await page.route('**/.well-known/oneseal/status-list.json', (route) => route.abort());
    const res = await page.goto(qr.a!);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res?.headers()['content-security-policy']).not.toContain('unsafe-inline');
    await expect.poll(() => page.textContent('#offline-result'), SLOW).toBe('离线核验：签名有效');
    expect(await page.textContent('#offline-status')).toContain('状态查询失败');
    await page.unroute('**/.well-known/oneseal/status-list.json');
  });

  it('says the signature is invalid for another licence’s fragment on this page', async () => {
    await page.goto('about:blank');
    await page.goto(`${qr.a!.slice(0, qr.a!.indexOf('#'))}${qr.b!.slice(qr.b!.indexOf('#'))}`);
    await expect.poll(() => page.textContent('#offline-result'), SLOW).toMatch(/^离线核验：签名无效/);
  });
});

describe('the offline verifier', () => {
  it('is installable: a web manifest with a name, start URL and icon, and a service worker', async () => {
    await page.goto(`${stack.server.url}/verify-offline/`);
    await expect.poll(() => page.textContent('#lists'), SLOW).toMatch(/^信任列表更新于 [^（]*；状态列表更新于 [^（]*$/);
    expect(await page.evaluate('navigator.serviceWorker.ready.then((r) => !!r.active)')).toBe(true);
    const manifest = (await (await fetch(`${stack.server.url}/verify-offline/manifest.webmanifest`)).json()) as { icons: unknown[] };
    expect(manifest).toMatchObject({ display: 'standalone', start_url: './' });
    expect(manifest.icons.length).toBeGreaterThan(0);
  });

  it('verifies a payload with the network off, and checks a presented PDF against its hash', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await expect.poll(() => page.textContent('#lists'), SLOW).toContain('本次未能更新');
      await page.fill('#text', qr.a!);
      await page.click('#check');
      await expect.poll(() => page.textContent('#result'), SLOW).toBe('离线核验：签名有效 · 真实有效');
      expect(await page.textContent('#fields')).toContain(creditCodes.a);
      await page.setInputFiles('#pdf', path.join(dir, 'a.pdf'));
      await expect.poll(() => page.textContent('#pdf-result'), SLOW).toMatch(/^文件与二维码签名一致/);
      await page.setInputFiles('#pdf', path.join(dir, 'b.pdf'));
      await expect.poll(() => page.textContent('#pdf-result'), SLOW).toMatch(/^文件与二维码签名不符/);

      // A photo of the printed licence (the whole 150 dpi page), decoded by the vendored jsQR from the service worker's cache.
      expect(await page.evaluate('"BarcodeDetector" in window')).toBe(false);
      await page.fill('#text', '');
      await page.setInputFiles('#photo', path.join(dir, 'b.png'));
      await expect.poll(() => page.inputValue('#text'), SLOW).toBe(qr.b);
      await expect.poll(() => page.textContent('#result'), SLOW).toBe('离线核验：签名有效 · 真实有效');
      expect(await page.textContent('#fields')).toContain(creditCodes.b);

      const at = qr.a!.indexOf('#os1.') + 200;
      await page.fill('#text', qr.a!.slice(0, at) + (qr.a![at] === 'A' ? 'B' : 'A') + qr.a!.slice(at + 1));
      await page.click('#check');
      await expect.poll(() => page.textContent('#result'), SLOW).toBe('离线核验：伪造或被篡改');
    } finally {
      await context.setOffline(false);
    }
  });
});
