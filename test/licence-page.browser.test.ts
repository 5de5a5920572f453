/**
 * The page behind a licence's QR code in a real browser (Debian's chromium through playwright-core, no
 * download), at a phone's 390 px width: the status of a valid, a superseded and a revoked licence in
 * Chinese and after the English switch, and the "check the file you hold" form telling the issued file
 * (genuine) from a one-byte change and from an appended incremental update (not genuine).
 * Screenshots go to test-artifacts/ (gitignored) for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeLicence, issueLicence, licenceDeps, revokeLicence, type LicenceDeps } from '../src/licences/service.js';
import { PdfReader } from '../src/pdf/reader.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import { getLicencePdf } from '../src/store/licences.js';
import { freshSample } from './licences-samples.js';
import { repoRoot } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts');
let stack: Stack;
let deps: LicenceDeps;
let browser: Browser;
let page: Page;
const ids = { valid: '', superseded: '', current: '', revoked: '', person: '' };
const permit = freshSample('residence-permit', { validTo: '2099-01-09' });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await openStack();
  deps = licenceDeps(stack.services);
  const food = freshSample('food-business-licence');
  ids.valid = (await issueLicence(deps, { type: 'business-licence', data: freshSample('business-licence') }, 'test')).id;
  ids.superseded = (await issueLicence(deps, { type: 'food-business-licence', data: food }, 'test')).id;
  ids.current = (await changeLicence(deps, ids.superseded, { ...food, address: '上海市徐汇区漕溪北路90号2层' }, 'test')).id;
  ids.revoked = (await issueLicence(deps, { type: 'business-licence', data: freshSample('business-licence') }, 'test')).id;
  await revokeLicence(deps, ids.revoked, '企业申请注销登记', 'test');
  ids.person = (await issueLicence(deps, { type: 'residence-permit', data: permit }, 'test')).id;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(ARTIFACTS, `licence-page-${name}.png`), fullPage: true });

async function open(id: string): Promise<void> {
  const res = await page.goto(`${stack.server.url}/v/${id}`);
  expect(res?.status()).toBe(200);
}

describe('licence page at 390 px', () => {
  it.each([
    ['valid', '有效', 'Valid'],
    ['superseded', '已变更', 'Superseded'],
    ['revoked', '已注销', 'Revoked'],
  ] as const)('shows a %s licence in Chinese, then in English after the switch', async (kind, zh, en) => {
    await open(ids[kind]);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect((await page.textContent('#status'))?.trim()).toBe(zh);
    // Nothing overflows the phone's width.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(`${kind}-zh`);
    await page.click('a.lang');
    expect(page.url()).toContain('lang=en');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect((await page.textContent('#status'))?.trim()).toBe(en);
    await shot(`${kind}-en`);
  });

  it('links a superseded licence to its current version', async () => {
    await open(ids.superseded);
    await page.click(`a[href="/v/${ids.current}"]`);
    expect((await page.textContent('#status'))?.trim()).toBe('有效');
    expect(await page.textContent('body')).toContain(ids.current);
  });

  it('shows the revocation reason', async () => {
    await open(ids.revoked);
    expect(await page.textContent('.status')).toContain('企业申请注销登记');
  });

  it('masks a person: 张*梅 and the ID number as first 6 + last 4', async () => {
    await open(ids.person);
    const text = (await page.textContent('body'))!;
    const idNumber = permit.idNumber!;
    expect(text).toContain('张*梅');
    expect(text).toContain(`${idNumber.slice(0, 6)}********${idNumber.slice(-4)}`);
    expect(text).not.toContain(idNumber);
    await shot('person-zh');
  });

  it('renders with its inline stylesheet allowed by the CSP (styles applied, no violations)', async () => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await open(ids.valid);
    const colour = await page.evaluate<string>("getComputedStyle(document.querySelector('header')).backgroundColor");
    expect(colour).toBe('rgb(158, 27, 22)');
    expect(violations).toEqual([]);
  });
});

describe('checking the file you hold', () => {
  let original: Buffer;
  beforeAll(async () => {
    original = (await getLicencePdf(deps.db, ids.valid))!;
  });

  async function upload(name: string, bytes: Buffer, lang: 'zh' | 'en' = 'zh'): Promise<string> {
    await page.goto(`${stack.server.url}/v/${ids.valid}${lang === 'en' ? '?lang=en' : ''}`);
    await page.setInputFiles('input[type=file]', { name: `${name}.pdf`, mimeType: 'application/pdf', buffer: bytes });
    await Promise.all([page.waitForURL(/\/check/), page.click('button[type=submit]')]);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(`check-${name}-${lang}`);
    return (await page.textContent('#verdict'))!.trim();
  }

  it('says the issued file is genuine (真实有效)', async () => {
    expect(await upload('original', original)).toBe('真实有效');
    expect(await upload('original', original, 'en')).toBe('Genuine');
  });

  it('says a copy with one byte changed is not genuine (与登记不符)', async () => {
    const tampered = Buffer.from(original);
    const at = tampered.indexOf('OneSeal', 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    tampered[at] = 'X'.charCodeAt(0);
    expect(await upload('one-byte', tampered)).toBe('与登记不符');
    expect(await page.textContent('.checks')).toContain('电子签章验证未通过');
  });

  it('says a copy with an incremental update appended is not genuine', async () => {
    const reader = PdfReader.load(original);
    const first = reader.pages()[0]!;
    const rotated = first.dict.clone();
    rotated.set('Rotate', 90);
    const writer = new IncrementalWriter(reader);
    writer.update(first.ref, rotated);
    const updated = Buffer.concat([original, writer.build().tail]);
    expect(await upload('appended', updated)).toBe('与登记不符');
    // The rotation is a change DocMDP 2 forbids, so the engine rejects the signature as well.
    expect(await page.textContent('.checks')).toContain('电子签章验证未通过');
  });
});
