/**
 * `oneseal licence issue | change | show | revoke` against a real data dir (SoftHSM, SQLite, CA): the issued
 * file is the recorded licence (same SHA-256), signed and trusted (pdfsig), and the public page of the
 * running server reflects what the commands did.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSample, SAMPLE_DATA } from './licences-samples.js';
import { assertPublicUrlSet, sharedPublicUrl } from '../src/public-url.js';
import { repoRoot } from './support/pdfs.js';
import { addPerson, cliLogin } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig } from './support/validators.js';

let stack: Stack;
let dataFile: string;

beforeAll(async () => {
  stack = await openStack();
  // The licence commands act as the logged-in licence officer.
  await cliLogin(stack, await addPerson(stack, 'lin', ['licence-officer']));
  // The README's example data.
  dataFile = path.join(repoRoot, 'fixtures', 'licences', 'business-licence.json');
});
afterAll(async () => {
  await stack?.close();
});

describe('oneseal licence', () => {
  let issued: { id: string; verifyUrl: string; status: string; sha256: string };
  const output = (): string => path.join(stack.dir, 'licence.pdf');

  it('issue --json writes the signed PDF and prints id, verifyUrl and status', async () => {
    const r = await stack.cli(['licence', 'issue', '--type', 'business-licence', '--data', dataFile, '-o', output(), '--json']);
    expect(r.code, r.err).toBe(0);
    issued = JSON.parse(r.out);
    expect(issued.id).toMatch(/^1\.2\.156\.3005\.2\./);
    expect(issued.verifyUrl).toBe(`${stack.env.ONESEAL_PUBLIC_URL}/v/${issued.id}`);
    expect(issued.status).toBe('valid');
    const pdf = readFileSync(output());
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(issued.sha256);
    const report = await pdfsig(stack.trust, pdf);
    expect(report.blocks[0]).toContain('Signature is Valid.');
    expect(report.blocks[0]).toContain('Certificate is Trusted.');
  });

  it('show prints the record and its status', async () => {
    const r = await stack.cli(['licence', 'show', issued.id]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(issued.id);
    expect(r.out).toMatch(/status\s+valid/);
    const entry = await stack.services.store.db('audit_log').where({ action: 'licence.issue', subject: issued.id }).first();
    expect(entry.actor).toBe('person:lin');
    expect(r.out).toContain('北京星河数字科技有限公司');
  });

  it('change issues version 002 with the new values, signed and trusted, and supersedes the old one', async () => {
    const changedFile = path.join(stack.dir, 'changed.json');
    const data = { ...(JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, unknown>), address: '北京市朝阳区望京街道星河大厦18层' };
    writeFileSync(changedFile, JSON.stringify(data));
    const changedPdf = path.join(stack.dir, 'licence-v2.pdf');
    const r = await stack.cli(['licence', 'change', issued.id, '--data', changedFile, '-o', changedPdf, '--json']);
    expect(r.code, r.err).toBe(0);
    const changed = JSON.parse(r.out) as typeof issued & { version: number; serial: string };
    expect(changed.id).not.toBe(issued.id);
    expect(changed.version).toBe(2);
    expect(changed.status).toBe('valid');
    const pdf = readFileSync(changedPdf);
    expect(createHash('sha256').update(pdf).digest('hex')).toBe(changed.sha256);
    const report = await pdfsig(stack.trust, pdf);
    expect(report.blocks[0]).toContain('Signature is Valid.');
    expect((await stack.cli(['licence', 'show', issued.id])).out).toMatch(/status\s+superseded/);
    // the old version cannot be changed twice, and the public page of the old one points at the new one
    const again = await stack.cli(['licence', 'change', issued.id, '--data', changedFile, '-o', changedPdf]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('superseded');
    expect(await (await fetch(`${stack.server.url}/v/${issued.id}`)).text()).toContain(changed.id);
    issued = changed;
  });

  it('revoke records the reason; show and the public page then say revoked', async () => {
    const r = await stack.cli(['licence', 'revoke', issued.id, '--reason', '营业执照遗失补领', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'revoked', revocationReason: '营业执照遗失补领' });
    expect((await stack.cli(['licence', 'show', issued.id])).out).toMatch(/status\s+revoked/);
    const page = await (await fetch(`${stack.server.url}/v/${issued.id}`)).text();
    expect(page).toContain('已注销');
    expect(page).toContain('营业执照遗失补领');
    const again = await stack.cli(['licence', 'revoke', issued.id, '--reason', 'x']);
    expect(again.code).toBe(1);
    expect(again.err).toContain('revoked');
  });

  it('reports bad data by field, and unknown licences and missing options as usage problems', async () => {
    const bad = path.join(stack.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...SAMPLE_DATA['business-licence'], establishedOn: '2015-02-30' }));
    const r = await stack.cli(['licence', 'issue', '--type', 'business-licence', '--data', bad, '-o', output(), '--json']);
    // Bad input is the caller's to fix: exit 2, like any other unusable input.
    expect(r.code, r.err).toBe(2);
    expect(JSON.parse(r.err).error).toMatchObject({ code: 'invalid-licence-data', message: expect.stringContaining('establishedOn') });
    expect((await stack.cli(['licence', 'show', '1.2.156.3005.2.NOPE'])).code).toBe(2);
    expect((await stack.cli(['licence', 'issue', '--type', 'business-licence', '-o', output()])).code).toBe(2);
  });
});

describe('one public URL for the server and the CLI (issue 13)', () => {
  it('a licence issued from the CLI without a public URL of its own carries the running server\'s, in its record and its QR code', async () => {
    const file = path.join(stack.dir, 'fresh.json');
    writeFileSync(file, JSON.stringify(freshSample('business-licence')));
    const out = path.join(stack.dir, 'from-cli.pdf');
    // As a shell without the server's environment would run it: no ONESEAL_PUBLIC_URL, the default port 8080.
    const r = await stack.cli(['licence', 'issue', '--type', 'business-licence', '--data', file, '-o', out, '--json'], { ONESEAL_PUBLIC_URL: '', ONESEAL_PORT: '' });
    expect(r.code, r.err).toBe(0);
    const issued = JSON.parse(r.out) as { id: string; verifyUrl: string };
    expect(issued.verifyUrl).toBe(`${stack.env.ONESEAL_PUBLIC_URL}/v/${issued.id}`);
    expect(issued.verifyUrl).not.toContain(':8080');
    // The bottom-left quarter, where the QR code is (a phone frames it so; zbarimg misses the dense signed code on a whole page).
    const [w, h] = execFileSync('pdfinfo', [out], { encoding: 'utf8' }).match(/Page size:\s+([\d.]+) x ([\d.]+)/)!.slice(1).map((v) => Number(v) * 150 / 72);
    execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', '-x', '0', '-y', String(Math.round(h! / 2)), '-W', String(Math.round(w! / 2)), '-H', String(Math.round(h! / 2)), out, path.join(stack.dir, 'from-cli')]);
    const scanned = execFileSync('zbarimg', ['--raw', '-q', path.join(stack.dir, 'from-cli.png')], { encoding: 'utf8' }).trim();
    expect(scanned.startsWith(`${issued.verifyUrl}#os1.`), scanned).toBe(true);
  });

  it('takes the CLI\'s own configured URL first, the server\'s next, and refuses a guessed one in production', async () => {
    const db = stack.services.store.db;
    expect(await sharedPublicUrl(db, { publicUrl: 'https://cli.example.gov.cn', publicUrlConfigured: true })).toEqual({ url: 'https://cli.example.gov.cn', source: 'configured' });
    expect(await sharedPublicUrl(db, { publicUrl: 'http://127.0.0.1:8080', publicUrlConfigured: false })).toEqual({ url: stack.env.ONESEAL_PUBLIC_URL, source: 'server' });
    expect(() => assertPublicUrlSet({ production: true }, 'derived')).toThrow(expect.objectContaining({ code: 'public-url-unset' }));
    for (const source of ['configured', 'server'] as const) expect(() => assertPublicUrlSet({ production: true }, source)).not.toThrow();
    expect(() => assertPublicUrlSet({ production: false }, 'derived')).not.toThrow();
  });
});

