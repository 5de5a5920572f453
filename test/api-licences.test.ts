/**
 * Electronic licences over HTTP against a real OneSeal (SoftHSM token, SQLite file, server on
 * 127.0.0.1): every built-in type is issued and checked with poppler (pdftotext, pdfsig), zbarimg on a
 * 150 dpi rendering and the verification engine; changes, revocation, the public status and the
 * page behind the QR code are checked as a relying party sees them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/chain.js';
import { verifyPdf } from '../src/verify/index.js';
import { SAMPLE_DATA } from './licences-samples.js';
import { addClient } from './support/api-client.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig } from './support/validators.js';

let stack: Stack;
let base: string;
let issuerKey: string;
let otherKey: string;

/** The samples, with the residence permit valid for years to come (its sample term may have ended). */
const DATA: Record<string, Record<string, string>> = {
  ...SAMPLE_DATA,
  'residence-permit': { ...SAMPLE_DATA['residence-permit']!, validTo: '2099-01-09' },
};

beforeAll(async () => {
  // Its public URL is its own address: pdfsig's online OCSP check reaches OneSeal's responder.
  stack = await openStack();
  base = stack.server.url;
  issuerKey = (await addClient(stack, 'registry-office', [], { scopes: ['licences'], licenceTypes: Object.keys(DATA) })).key;
  otherKey = (await addClient(stack, 'elsewhere', ['approval'])).key;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

async function call(method: string, path: string, body?: unknown, key: string | null = issuerKey): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function issue(type: string, data: Record<string, string> = DATA[type]!): Promise<Record<string, any>> {
  const res = await call('POST', '/v1/licences', { type, data });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function pdfOf(id: string): Promise<Buffer> {
  const res = await call('GET', `/v1/licences/${id}/pdf`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  return Buffer.from(await res.arrayBuffer());
}

/** Response bodies as the loosely typed JSON the assertions pick apart. */
const json = (res: Response): Promise<any> => res.json() as Promise<any>;

function scratch(name: string, data?: Uint8Array): string {
  const file = path.join(stack.dir, name);
  if (data) writeFileSync(file, data);
  return file;
}

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

/** Values pdftotext must find on the page: every text field (long ones by their first characters, as they wrap). */
function printedValues(type: string): string[] {
  return Object.entries(DATA[type]!)
    .filter(([k]) => k !== 'photo')
    .map(([, v]) => (v.length > 12 ? v.slice(0, 8) : v));
}

describe.each(Object.keys(DATA))('issuing a %s', (type) => {
  let issued: Record<string, any>;
  let pdf: Buffer;
  beforeAll(async () => {
    issued = await issue(type);
    pdf = await pdfOf(issued.id);
  }, 120_000);

  it('answers 201 with the identifier, verify URL, PDF URL and status', () => {
    expect(issued.id).toMatch(/^1\.2\.156\.3005\.2\.[0-9A-Z]{21}\.[0-9A-Z]{18}\.\d{8}\.001\.[0-9A-Z]$/);
    expect(issued.verifyUrl).toBe(`${stack.env.ONESEAL_PUBLIC_URL}/v/${issued.id}`);
    expect(issued.pdfUrl).toBe(`${stack.env.ONESEAL_PUBLIC_URL}/v1/licences/${issued.id}/pdf`);
    expect(issued.status).toBe('valid');
    expect(issued.sha256).toBe(createHash('sha256').update(pdf).digest('hex'));
  });

  it('prints every field value (pdftotext)', () => {
    const file = scratch(`${type}.pdf`, pdf);
    const text = tool('pdftotext', ['-layout', file, '-']).replace(/\s+/g, '');
    for (const value of printedValues(type)) expect(text, value).toContain(value.replace(/\s+/g, ''));
    expect(text).toContain(issued.id);
  });

  it('carries a QR code that zbarimg reads as the verify URL with a signed payload at 150 dpi', () => {
    const file = scratch(`${type}-qr.pdf`, pdf);
    // The bottom-left quarter, where the QR code is: what a phone's camera frames.
    const [w, h] = tool('pdfinfo', [file]).match(/Page size:\s+([\d.]+) x ([\d.]+)/)!.slice(1).map((v) => Number(v) * 150 / 72);
    tool('pdftoppm', ['-r', '150', '-png', '-singlefile', '-x', '0', '-y', String(Math.round(h! / 2)), '-W', String(Math.round(w! / 2)), '-H', String(Math.round(h! / 2)), file, scratch(`${type}-qr`)]);
    const text = tool('zbarimg', ['--raw', '-q', scratch(`${type}-qr.png`)]).trim();
    expect(text.startsWith(`${issued.verifyUrl}#os1.`)).toBe(true);
    expect(text.slice(`${issued.verifyUrl}#os1.`.length)).toMatch(/^[A-Za-z0-9_-]{300,}$/);
  });

  it('is signed validly and trusted (pdfsig) with the long-term data in a DSS', async () => {
    const report = await pdfsig(stack.trust, pdf);
    expect(report.blocks).toHaveLength(1);
    expect(report.blocks[0]).toContain('Signature is Valid.');
    expect(report.blocks[0]).toContain('Certificate is Trusted.');
    expect(pdf.toString('latin1')).toMatch(/\/DSS\s/);
  });

  it('verifies as valid B-LT with a DocMDP 2 certification signature (verification engine)', async () => {
    const report = await verifyPdf(pdf, { trustAnchors: [stack.services.authority.root.certificate] });
    expect(report.verdict, JSON.stringify(report.signatures.map((s) => s.reasons))).toBe('valid');
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.level).toBe('B-LT');
    expect(report.signatures[0]!.docMdp).toBe(2);
  });
});

describe('validation', () => {
  const bad = async (type: string, patch: Record<string, string>): Promise<{ status: number; fields: string[] }> => {
    const res = await call('POST', '/v1/licences', { type, data: { ...DATA[type], ...patch } });
    const body = await json(res);
    return { status: res.status, fields: (body.errors ?? []).map((e: { field: string }) => e.field) };
  };

  it('refuses a bad credit code with 422 naming the field', async () => {
    expect(await bad('business-licence', { unifiedSocialCreditCode: '91110000802100433C' })).toEqual({ status: 422, fields: ['unifiedSocialCreditCode'] });
  });

  it('refuses a bad resident ID number with 422 naming the field', async () => {
    const id = SAMPLE_DATA['residence-permit']!.idNumber!;
    const wrongCheck = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
    expect(await bad('residence-permit', { idNumber: wrongCheck })).toEqual({ status: 422, fields: ['idNumber'] });
  });

  it('refuses an impossible date with 422 naming the field', async () => {
    expect(await bad('food-business-licence', { validFrom: '2023-02-29' })).toEqual({ status: 422, fields: ['validFrom'] });
  });

  it('refuses an unknown type with 422 naming "type"', async () => {
    expect(await bad('no-such-licence', {})).toMatchObject({ status: 422, fields: ['type'] });
  });

  it('needs a key with the licences scope', async () => {
    expect((await call('POST', '/v1/licences', { type: 'business-licence', data: SAMPLE_DATA['business-licence'] }, null)).status).toBe(401);
    const refused = await call('POST', '/v1/licences', { type: 'business-licence', data: SAMPLE_DATA['business-licence'] }, otherKey);
    expect(refused.status).toBe(403);
    expect((await json(refused)).detail).toMatch(/needs the scope licences/);
  });
});

describe('lifecycle', () => {
  it('a change issues version 002 with the same serial and supersedes 001, on the API and the public page', async () => {
    const first = await issue('food-business-licence');
    const res = await call('POST', `/v1/licences/${first.id}/versions`, { data: { ...SAMPLE_DATA['food-business-licence'], address: '上海市徐汇区漕溪北路90号2层' } });
    const second = await json(res);
    expect(res.status, JSON.stringify(second)).toBe(201);
    expect(second.serial).toBe(first.serial);
    expect(second.version).toBe(2);
    expect(second.id).toBe(first.id.replace(/\.001\.[0-9A-Z]$/, `.002.${second.id.at(-1)}`));
    expect(second.supersedes).toBe(first.id);

    const old = await json(await call('GET', `/v1/licences/${first.id}`));
    expect(old).toMatchObject({ status: 'superseded', supersededBy: second.id });
    const again = await call('POST', `/v1/licences/${first.id}/versions`, { data: SAMPLE_DATA['food-business-licence'] });
    expect(again.status).toBe(409);

    const page = await (await fetch(`${base}/v/${first.id}`)).text();
    expect(page).toContain('已变更');
    expect(page).toContain(`href="/v/${second.id}"`);
  });

  it('revocation shows with its reason; a second revocation is a conflict', async () => {
    const licence = await issue('business-licence');
    const res = await call('POST', `/v1/licences/${licence.id}/revoke`, { reason: '企业申请注销登记' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'revoked', revocationReason: '企业申请注销登记' });
    expect((await call('POST', `/v1/licences/${licence.id}/revoke`, { reason: 'again' })).status).toBe(409);
    expect((await call('POST', `/v1/licences/${licence.id}/revoke`, {})).status).toBe(422);
    const status = await json(await fetch(`${base}/v1/licences/${licence.id}/status`));
    expect(status).toMatchObject({ status: 'revoked', revocationReason: '企业申请注销登记' });
  });

  it('a licence past its last day reads as expired; 长期 never does', async () => {
    const data = { ...SAMPLE_DATA['food-business-licence'], validFrom: '2019-01-01', validTo: '2020-12-31' };
    const old = await issue('food-business-licence', data);
    expect(old.status).toBe('expired');
    const longTerm = await issue('business-licence');
    expect(longTerm.validTo).toBe('长期');
    expect(longTerm.status).toBe('valid');
  });

  it('records every issue, change and revocation in an intact audit chain', async () => {
    const db = stack.services.store.db;
    const actions = (await db('audit_log').select('action')).map((r) => r.action as string);
    expect(actions).toEqual(expect.arrayContaining(['licence.issue', 'licence.change', 'licence.revoke']));
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});

describe('public status', () => {
  it('shows a person masked and an organisation in full, without authentication', async () => {
    const person = await issue('residence-permit');
    const s = await json(await fetch(`${base}/v1/licences/${person.id}/status`));
    const id = SAMPLE_DATA['residence-permit']!.idNumber!;
    expect(s.holder).toMatchObject({ name: '张*梅', id: `${id.slice(0, 6)}********${id.slice(-4)}`, masked: true });
    expect(JSON.stringify(s)).not.toContain(id);
    expect(JSON.stringify(s)).not.toContain('晓');
    expect(s.status).toBe('valid');

    const company = await issue('business-licence');
    const c = await json(await fetch(`${base}/v1/licences/${company.id}/status`));
    expect(c.holder).toMatchObject({ name: '北京星河数字科技有限公司', id: '91110000802100433B', masked: false });
  });

  it('answers 404 problem+json for an unknown licence, and an HTML page on /v/', async () => {
    const res = await fetch(`${base}/v1/licences/1.2.156.3005.2.X/status`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const page = await fetch(`${base}/v/1.2.156.3005.2.<script>`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('未找到该证照');
    expect(html).not.toContain('<script>');
  });

  it('serves the page with a CSP that allows only its own stylesheet, and leaves the API policy alone', async () => {
    const licence = await issue('business-licence');
    const page = await fetch(`${base}/v/${licence.id}`);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    const html = await page.text();
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    const api = await fetch(`${base}/v1/licences/${licence.id}/status`);
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  });

  it('answers a form without a file with an HTML page leading back, not problem+json', async () => {
    const licence = await issue('business-licence');
    const form = new FormData();
    form.append('note', 'no file here');
    const res = await fetch(`${base}/v/${licence.id}/check`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('未能核对文件');
    expect(html).toContain(`href="/v/${licence.id}"`);
  });

  it('documents the licence operations in OpenAPI', async () => {
    const doc = await json(await fetch(`${base}/openapi.json`));
    for (const p of ['/v1/licences', '/v1/licences/{id}', '/v1/licences/{id}/pdf', '/v1/licences/{id}/versions', '/v1/licences/{id}/revoke', '/v1/licences/{id}/status', '/v/{id}']) {
      expect(doc.paths[p], p).toBeDefined();
    }
  });
});
