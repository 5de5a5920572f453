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
import { createSeal } from '../src/seals/service.js';
import { chinaDate } from '../src/licences/service.js';
import { freshSample, printedForm, registry, SAMPLE_DATA } from './licences-samples.js';
import { addClient, countRows } from './support/api-client.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig, render } from './support/validators.js';
import { redBounds } from './stamp-support.js';
import { MM } from '../src/stamp/units.js';

let stack: Stack;
let base: string;
let issuerKey: string;
let otherKey: string;

const TYPES = Object.keys(SAMPLE_DATA);

/** Fresh sample data (one current licence per holder number), the residence permit valid for years to come. */
function dataFor(type: string, patch: Record<string, string> = {}): Record<string, string> {
  return freshSample(type, type === 'residence-permit' ? { validTo: '2099-01-09', ...patch } : patch);
}

beforeAll(async () => {
  // Its public URL is its own address: pdfsig's online OCSP check reaches OneSeal's responder.
  stack = await openStack();
  base = stack.server.url;
  issuerKey = (await addClient(stack, 'registry-office', [], { scopes: ['licences'], licenceTypes: TYPES })).key;
  otherKey = (await addClient(stack, 'elsewhere', ['approval'])).key;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

async function call(method: string, path: string, body?: unknown, key: string | null = issuerKey, contentType = 'application/json'): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'Content-Type': contentType }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function issue(type: string, data: Record<string, string> = dataFor(type), extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await call('POST', '/v1/licences', { type, data, ...extra });
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

/** Values pdftotext must find on the page: every text field (long ones by their first characters, as they wrap), dates as printed. */
function printedValues(data: Record<string, string>): string[] {
  return Object.entries(data)
    .filter(([k]) => k !== 'photo')
    .map(([, v]) => printedForm(v))
    .map((v) => (v.length > 12 ? v.slice(0, 8) : v));
}

describe.each(TYPES)('issuing a %s', (type) => {
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
    for (const value of printedValues(issued.data)) expect(text, value).toContain(value.replace(/\s+/g, ''));
    expect(text).toContain(issued.id);
  });

  it('prints one issue date, the day of issue as 2025年01月10日, the same on the record and the public status', async () => {
    const today = chinaDate(new Date(issued.issuedAt));
    expect(issued.issuedOn).toBe(today);
    const text = tool('pdftotext', ['-raw', scratch(`${type}-date.pdf`, pdf), '-']);
    const [y, m, d] = today.split('-');
    expect(text).toContain(`${y}年${m}月${d}日`);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    const status = await json(await fetch(`${base}/v1/licences/${issued.id}/status`));
    expect(status.issuedOn).toBe(today);
    const page = await (await fetch(`${base}/v/${issued.id}`)).text();
    expect(page).toContain(`签发日期</dt><dd>${y}年${m}月${d}日`);
    if (type === 'residence-permit') expect(issued.data.issuedOn).toBe(today);
  });

  it('keeps the seal inside the frame (its red, rendered by pdftoppm, never crosses the outer frame line)', () => {
    const layout = registry.get(type).layout;
    const img = render(pdf);
    const red = redBounds(img)!;
    expect(red, 'the seal is visible').toBeDefined();
    const frame = layout.margin * MM;
    expect(red.x0).toBeGreaterThan(frame);
    expect(red.y0).toBeGreaterThan(frame);
    expect(red.x1).toBeLessThan(img.width - frame);
    expect(red.y1).toBeLessThan(img.height - frame);
    // Fitted into the layout's seal square: no wider or taller than the per-type size.
    expect(red.x1 - red.x0).toBeLessThanOrEqual(layout.seal.size * MM + 1);
    expect(red.y1 - red.y0).toBeLessThanOrEqual(layout.seal.size * MM + 1);
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
    const res = await call('POST', '/v1/licences', { type, data: dataFor(type, patch) });
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
    const res = await call('POST', `/v1/licences/${first.id}/versions`, { data: { ...first.data, address: '上海市徐汇区漕溪北路90号2层' } });
    const second = await json(res);
    expect(res.status, JSON.stringify(second)).toBe(201);
    expect(second.serial).toBe(first.serial);
    expect(second.version).toBe(2);
    expect(second.id).toBe(first.id.replace(/\.001\.[0-9A-Z]$/, `.002.${second.id.at(-1)}`));
    expect(second.supersedes).toBe(first.id);

    const old = await json(await call('GET', `/v1/licences/${first.id}`));
    expect(old).toMatchObject({ status: 'superseded', supersededBy: second.id });
    const again = await call('POST', `/v1/licences/${first.id}/versions`, { data: first.data });
    expect(again.status).toBe(409);

    const page = await (await fetch(`${base}/v/${first.id}`)).text();
    expect(page).toContain('已变更');
    expect(page).toContain(`href="/v/${second.id}"`);
  });

  it('revocation shows with its reason, on the public page at once; a second revocation is a conflict', async () => {
    const licence = await issue('business-licence');
    const page = async (query = '') => (await fetch(`${base}/v/${encodeURIComponent(licence.id)}${query}`)).text();
    // Seen (and so rendered and kept) in both languages before the revocation.
    expect(await page()).toContain('<h2 id="status">有效</h2>');
    expect(await page('?lang=en')).toContain('<h2 id="status">Valid</h2>');
    const res = await call('POST', `/v1/licences/${licence.id}/revoke`, { reason: '企业申请注销登记' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'revoked', revocationReason: '企业申请注销登记' });
    expect((await call('POST', `/v1/licences/${licence.id}/revoke`, { reason: 'again' })).status).toBe(409);
    expect((await call('POST', `/v1/licences/${licence.id}/revoke`, {})).status).toBe(422);
    const status = await json(await fetch(`${base}/v1/licences/${licence.id}/status`));
    expect(status).toMatchObject({ status: 'revoked', revocationReason: '企业申请注销登记' });
    expect(await page()).toContain('<h2 id="status">已注销</h2>');
    expect(await page('?lang=en')).toContain('<h2 id="status">Revoked</h2>');
  });

  it('a licence past its last day reads as expired; 长期 never does', async () => {
    const data = dataFor('food-business-licence', { validFrom: '2019-01-01', validTo: '2020-12-31' });
    const old = await issue('food-business-licence', data, { allowExpired: true });
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

const problemOf = async (res: Response): Promise<{ status: number; code: string; fields: string[]; detail: string; body: any }> => {
  const body = await json(res);
  return { status: res.status, code: String(body.type ?? '').split('/').pop()!, fields: (body.errors ?? []).map((e: { field: string }) => e.field), detail: body.detail, body };
};

describe('the issue request (issue 13)', () => {
  it('refuses unknown members with 422 naming each, and issues nothing', async () => {
    const before = await countRows(stack, 'licences');
    for (const [extra, fields] of [
      [{ seel: 'approval' }, ['seel']],
      [{ validTo: '2099-01-01', status: 'revoked' }, ['validTo', 'status']],
      [{ seal: 42 }, ['seal']],
      [{ allowExpired: 'yes' }, ['allowExpired']],
    ] as const) {
      const p = await problemOf(await call('POST', '/v1/licences', { type: 'business-licence', data: dataFor('business-licence'), ...extra }));
      expect(p, JSON.stringify(extra)).toMatchObject({ status: 422, code: 'invalid-request-fields', fields });
    }
    // A raw "__proto__" member is a member like any other: unknown, refused.
    const raw = `{"type":"business-licence","data":${JSON.stringify(dataFor('business-licence'))},"__proto__":{"allowExpired":true}}`;
    const smuggled = await problemOf(await fetch(`${base}/v1/licences`, { method: 'POST', headers: { Authorization: `Bearer ${issuerKey}`, 'Content-Type': 'application/json' }, body: raw }));
    expect(smuggled).toMatchObject({ status: 422, fields: ['__proto__'] });
    expect(await countRows(stack, 'licences')).toBe(before);
  });

  it('issues with the type\'s seal, or another seal only when the client is granted it', async () => {
    await createSeal(stack.services, { id: 'licence-b', organisation: '某某区行政审批局', creditCode: stack.services.config.seal.orgCreditCode, name: '证照专用章', isTest: true }, 'break-glass:test');
    const granted = (await addClient(stack, 'registry-b', ['licence-b'], { scopes: ['licences'], licenceTypes: TYPES })).key;
    const plain = await issue('business-licence');
    expect(plain.seal.id).toBe('approval');
    const res = await call('POST', '/v1/licences', { type: 'business-licence', data: dataFor('business-licence'), seal: 'licence-b' }, granted);
    const other = await json(res);
    expect(res.status, JSON.stringify(other)).toBe(201);
    expect(other.seal).toMatchObject({ id: 'licence-b', name: '证照专用章' });
    const report = await pdfsig(stack.trust, Buffer.from(await (await call('GET', `/v1/licences/${other.id}/pdf`, undefined, granted)).arrayBuffer()));
    expect(report.blocks[0]).toContain('Signature is Valid.');
    // Its next version keeps the seal it was issued with.
    const next = await json(await call('PATCH', `/v1/licences/${other.id}`, { data: { address: '北京市海淀区中关村大街1号' } }, granted, 'application/merge-patch+json'));
    expect(next.seal.id).toBe('licence-b');
    // A client without the grant is refused, naming the seal; nothing is issued.
    const refused = await problemOf(await call('POST', '/v1/licences', { type: 'business-licence', data: dataFor('business-licence'), seal: 'licence-b' }));
    expect(refused).toMatchObject({ status: 403, code: 'seal-not-granted' });
    expect(refused.detail).toContain('"licence-b"');
  });

  it('refuses a licence whose validity already ended (422 naming the field) unless allowExpired is true', async () => {
    const data = dataFor('food-business-licence', { validFrom: '2020-01-01', validTo: '2021-12-31' });
    const refused = await problemOf(await call('POST', '/v1/licences', { type: 'food-business-licence', data }));
    expect(refused).toMatchObject({ status: 422, code: 'licence-already-expired', fields: ['validTo'] });
    expect(refused.detail).toContain('allowExpired');
    expect(await issue('food-business-licence', data, { allowExpired: true })).toMatchObject({ status: 'expired' });
  });

  it('fills the 居住证 签发日期 itself and refuses another date from the client', async () => {
    const refused = await problemOf(await call('POST', '/v1/licences', { type: 'residence-permit', data: dataFor('residence-permit', { issuedOn: '2025-01-10' }) }));
    expect(refused).toMatchObject({ status: 422, fields: ['issuedOn'] });
    const today = chinaDate(new Date());
    const sameDay = await issue('residence-permit', dataFor('residence-permit', { issuedOn: today }));
    expect(sameDay.data.issuedOn).toBe(today);
  });
});

describe('duplicate check (one current licence per holder number)', () => {
  it('answers 409 naming the current licence, for each built-in type', async () => {
    for (const [type, field] of [['business-licence', 'unifiedSocialCreditCode'], ['residence-permit', 'idNumber'], ['food-business-licence', 'licenceNumber']] as const) {
      const data = dataFor(type);
      const first = await issue(type, data);
      const again = await problemOf(await call('POST', '/v1/licences', { type, data: { ...data, address: '另一个地址1号' } }));
      expect(again, type).toMatchObject({ status: 409, code: 'licence-duplicate', fields: [field] });
      expect(again.body.current).toBe(first.id);
      expect(again.detail).toContain(first.id);
    }
  });

  it('takes no serial for a refused duplicate: the next licence of the type has the next number', async () => {
    const data = dataFor('business-licence');
    const first = await issue('business-licence', data);
    expect((await call('POST', '/v1/licences', { type: 'business-licence', data })).status).toBe(409);
    const next = await issue('business-licence');
    expect(Number(next.serial)).toBe(Number(first.serial) + 1);
  });

  it('lets exactly one of two concurrent issues for the same holder through (the unique index decides)', async () => {
    const data = dataFor('business-licence');
    const before = await countRows(stack, 'licences');
    const replies = await Promise.all([0, 1, 2].map(() => call('POST', '/v1/licences', { type: 'business-licence', data })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    expect(await countRows(stack, 'licences')).toBe(before + 1);
    const winner = await json(replies.find((r) => r.status === 201)!);
    for (const r of replies.filter((x) => x.status === 409)) expect((await json(r)).current).toBe(winner.id);
  });

  it('admits a new licence once the current one is revoked or has expired; a change may not take another holder\'s number', async () => {
    const data = dataFor('business-licence');
    const first = await issue('business-licence', data);
    await call('POST', `/v1/licences/${first.id}/revoke`, { reason: '企业申请注销登记' });
    const second = await issue('business-licence', data);
    expect(second.status).toBe('valid');

    const food = dataFor('food-business-licence', { validFrom: '2020-01-01', validTo: '2021-12-31' });
    await issue('food-business-licence', food, { allowExpired: true });
    expect((await issue('food-business-licence', { ...food, validFrom: '2025-01-01', validTo: '2099-12-31' })).status).toBe('valid');

    const other = await issue('business-licence');
    const taken = await problemOf(await call('PATCH', `/v1/licences/${other.id}`, { data: { unifiedSocialCreditCode: data.unifiedSocialCreditCode } }, issuerKey, 'application/merge-patch+json'));
    expect(taken).toMatchObject({ status: 409, code: 'licence-duplicate' });
    expect(taken.body.current).toBe(second.id);
    expect((await json(await call('GET', `/v1/licences/${other.id}`))).status).toBe('valid');
  });
});

describe('PATCH /v1/licences/{id} (JSON merge patch)', () => {
  const patch = (id: string, body: unknown, type = 'application/merge-patch+json') => call('PATCH', `/v1/licences/${id}`, body, issuerKey, type);

  it('changes only the fields sent and issues the next version', async () => {
    const first = await issue('food-business-licence');
    const res = await patch(first.id, { data: { address: '上海市徐汇区漕溪北路90号2层' } });
    const second = await json(res);
    expect(res.status, JSON.stringify(second)).toBe(201);
    expect(second).toMatchObject({ version: 2, serial: first.serial, supersedes: first.id, type: first.type });
    expect(second.data).toEqual({ ...first.data, address: '上海市徐汇区漕溪北路90号2层' });
    expect(res.headers.get('location')).toBe(`/v1/licences/${second.id}`);
    expect((await patch(first.id, { data: { address: 'x' } })).status).toBe(409);
  });

  it('refuses to touch id, version, type or anything but data, and refuses removing a required field', async () => {
    const l = await issue('business-licence');
    for (const body of [{ id: 'x' }, { version: 9 }, { type: 'residence-permit' }, { status: 'valid', data: { address: 'y' } }, { seal: { id: 'licence-b' } }]) {
      const p = await problemOf(await patch(l.id, body));
      expect(p, JSON.stringify(body)).toMatchObject({ status: 422, code: 'read-only-fields' });
    }
    expect(await problemOf(await patch(l.id, { data: { legalRepresentative: null } }))).toMatchObject({ status: 422, fields: ['legalRepresentative'] });
    expect(await problemOf(await patch(l.id, { data: { unknownField: 'x' } }))).toMatchObject({ status: 422, fields: ['unknownField'] });
    const proto = await fetch(`${base}/v1/licences/${l.id}`, {
      method: 'PATCH', headers: { Authorization: `Bearer ${issuerKey}`, 'Content-Type': 'application/merge-patch+json' }, body: '{"data":{"__proto__":{"name":"x"}}}',
    });
    expect(await problemOf(proto)).toMatchObject({ status: 422, fields: ['__proto__'] });
    expect((await patch(l.id, { data: { address: 'z' } }, 'application/json')).status).toBe(415);
    expect((await patch(l.id, { data: 'address' })).status).toBe(422);
    // Nothing of that was issued: the licence is still the current version 1.
    expect(await json(await call('GET', `/v1/licences/${l.id}`))).toMatchObject({ status: 'valid', version: 1 });
  });
});

describe('GET /v1/licence-types', () => {
  it('lists each type with its data schema and seal; a client sees only the types it was granted', async () => {
    const all = await json(await call('GET', '/v1/licence-types'));
    expect(all.types.map((t: { id: string }) => t.id).sort()).toEqual([...TYPES].sort());
    const permit = all.types.find((t: { id: string }) => t.id === 'residence-permit');
    expect(permit).toMatchObject({ seal: 'approval', issueDateField: 'issuedOn', duplicateKey: ['idNumber'], page: { width: 148, height: 105 } });
    expect(permit.schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(permit.schema.required).toContain('idNumber');
    expect(permit.schema.required).not.toContain('issuedOn');
    expect(permit.schema.properties.sex.enum).toEqual(['男', '女']);
    expect(new RegExp(permit.schema.properties.idNumber.pattern).test(dataFor('residence-permit').idNumber!)).toBe(true);
    const food = all.types.find((t: { id: string }) => t.id === 'food-business-licence');
    expect(new RegExp(food.schema.properties.licenceNumber.pattern).test('JY23101040123456')).toBe(true);
    expect(new RegExp(food.schema.properties.licenceNumber.pattern).test('XJY23101040123456')).toBe(false);

    const narrow = (await addClient(stack, 'permits-only', [], { scopes: ['licences'], licenceTypes: ['residence-permit'] })).key;
    expect((await json(await call('GET', '/v1/licence-types', undefined, narrow))).types.map((t: { id: string }) => t.id)).toEqual(['residence-permit']);
    expect((await call('GET', '/v1/licence-types', undefined, otherKey)).status).toBe(403);
    expect((await call('GET', '/v1/licence-types', undefined, null)).status).toBe(401);
  });
});

describe('public status', () => {
  it('shows a person masked and an organisation in full, without authentication', async () => {
    const person = await issue('residence-permit');
    const s = await json(await fetch(`${base}/v1/licences/${person.id}/status`));
    const id = person.data.idNumber as string;
    expect(s.holder).toMatchObject({ name: '张*梅', id: `${id.slice(0, 6)}********${id.slice(-4)}`, masked: true });
    expect(JSON.stringify(s)).not.toContain(id);
    expect(JSON.stringify(s)).not.toContain('晓');
    expect(s.status).toBe('valid');

    const company = await issue('business-licence');
    const c = await json(await fetch(`${base}/v1/licences/${company.id}/status`));
    expect(c.holder).toMatchObject({ name: '北京星河数字科技有限公司', id: company.data.unifiedSocialCreditCode, masked: false });
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

  it('checks a copy sent as the part `document` (as everywhere else) or `file` (the page form\'s name)', async () => {
    const licence = await issue('business-licence');
    const pdf = await pdfOf(licence.id);
    for (const part of ['document', 'file']) {
      const form = new FormData();
      form.append(part, new Blob([pdf], { type: 'application/pdf' }), 'licence.pdf');
      const res = await fetch(`${base}/v/${licence.id}/check?lang=en`, { method: 'POST', body: form });
      expect(res.status, part).toBe(200);
      expect(await res.text(), part).toContain('Electronic seal signature verifies');
    }
    const other = new FormData();
    other.append('upload', new Blob([pdf], { type: 'application/pdf' }), 'licence.pdf');
    const refused = await fetch(`${base}/v/${licence.id}/check?lang=en`, { method: 'POST', body: other });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/The form has no \S{1,8}document\S{1,8} file/);
  }, 60_000);

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
    expect(doc.paths['/v1/licences/{id}'].patch.requestBody.content['application/merge-patch+json']).toBeDefined();
    expect(doc.paths['/v1/licence-types'].get.operationId).toBe('listLicenceTypes');
    for (const p of ['/v1/licences', '/v1/licences/{id}', '/v1/licences/{id}/pdf', '/v1/licences/{id}/versions', '/v1/licences/{id}/revoke', '/v1/licences/{id}/status', '/v/{id}']) {
      expect(doc.paths[p], p).toBeDefined();
    }
  });
});
