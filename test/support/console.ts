/** Driving the web console in Debian's chromium (playwright-core, no browser download): login, first-login credentials, axe, screenshots. */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { TOTP_STEP_SECONDS, totpCode, totpStep } from '../../src/access/totp.js';
import { repoRoot } from './pdfs.js';
import type { TestPerson } from './people.js';

export const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'console');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A code from `secret` for a step no earlier than `notBefore` (each step is accepted once per person). The server
 * takes one step ahead of its clock at most, so a person logging in a third time within 30 s waits for the clock.
 */
export async function freshCode(secret: string, notBefore = 0): Promise<{ code: string; step: number }> {
  while (totpStep(new Date()) + 1 < notBefore) {
    await new Promise((r) => setTimeout(r, (TOTP_STEP_SECONDS * 1000) - (Date.now() % (TOTP_STEP_SECONDS * 1000)) + 10));
  }
  const step = Math.max(totpStep(new Date()), notBefore);
  return { code: totpCode(secret, step), step };
}

/** Name, password and a code on the login page; the page after it. */
export async function submitLogin(page: Page, base: string, person: { name: string; password: string }, otp?: string): Promise<void> {
  await page.goto(`${base}/console/login`);
  await page.getByLabel('用户名').fill(person.name);
  await page.getByLabel('密码', { exact: true }).fill(person.password);
  if (otp) await page.getByLabel('动态口令').fill(otp);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '登录' }).click()]);
}

/**
 * Logs a person in (with a code from their TOTP secret), and on the first login replaces the password and
 * TOTP secret someone else handled with new ones: the returned person holds the credentials now in force.
 */
export async function consoleLogin(page: Page, base: string, person: TestPerson & { lastStep?: number }): Promise<TestPerson & { lastStep: number }> {
  const login = await freshCode(person.totpSecret, (person.lastStep ?? 0) + 1);
  await submitLogin(page, base, person, login.code);
  if (!page.url().endsWith('/console/welcome')) {
    expect(page.url(), await page.innerText('body')).toBe(`${base}/console/`);
    return { ...person, lastStep: login.step };
  }
  const password = `${person.password}-own`;
  const secret = (await page.locator('#totp-secret').textContent())!.trim();
  await page.getByLabel('当前密码').fill(person.password);
  await page.getByLabel('新密码', { exact: true }).fill(password);
  await page.getByLabel('再次输入新密码').fill(password);
  const code = await freshCode(secret);
  await page.getByLabel('新动态口令').fill(code.code);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '保存' }).click()]);
  expect(page.url()).toBe(`${base}/console/?done=credentials`);
  return { ...person, password, totpSecret: secret, lastStep: code.step };
}

const AXE = readFileSync(path.join(repoRoot, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's violations of labels, names and contrast on the page as it is now (WCAG 2 A/AA rules). */
export async function axeViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  // Added through the DevTools protocol, not a <script> tag, so the page's CSP does not stop it.
  await page.evaluate(AXE);
  const result = await page.evaluate<{ violations: { id: string; nodes: { target: string[] }[] }[] }>(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })");
  return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Full-page screenshots at 1280 and 390 px wide. */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
