/**
 * The search APIs over a real server: the stamp register, licences and the audit log, paged with
 * cursors and as CSV. Attacks tried: another client's stamps by every filter, by its cursor and by an
 * altered one; an operator reaching personal data by listing, filtering or CSV; a formula in a file
 * name reaching a spreadsheet. Pages are walked while stamps are being made.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertStamps } from '../src/store/stamps.js';
import { addClient, bearer, call, callAs, type Reply } from './support/api-client.js';
import { freshSample } from './licences-samples.js';
import { makePdf } from './support/pdfs.js';
import { personWithSession } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
const who: Record<'a' | 'b' | 'auditor' | 'operator' | 'sealAdmin' | 'officer', { key: string; id?: string }> = {} as never;
const get = (as: { key: string }, path: string): Promise<Reply> => callAs(stack.server.url, as, 'GET', path);

interface StampItem {
  id: string;
  client: { id: string; name: string };
  createdAt: string;
  caseNumber?: string | null;
  filename?: string | null;
  itemCode: string | null;
  personalData?: string;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

async function stampOver(key: string, fields: Record<string, string>, filename: string): Promise<string> {
  const form = new FormData();
  form.append('document', new Blob([await makePdf({ pages: 1 })], { type: 'application/pdf' }), filename);
  for (const [k, v] of Object.entries({ seal: 'approval', invisible: 'true', level: 'B-B', ...fields })) form.append(k, v);
  const r = await call(`${stack.server.url}/v1/stamps`, { method: 'POST', headers: bearer(key), body: form });
  expect(r.status, r.bytes.toString()).toBe(200);
  return r.headers.get('stamp-id')!;
}

/** Stamp records as the store holds them, for volume: several share a millisecond, so the id must break ties. */
async function recordStamps(clientId: string, n: number, base: Date, extra: { caseNumber?: string; itemCode?: string; filename?: string } = {}): Promise<void> {
  await insertStamps(stack.services.store.db, Array.from({ length: n }, (_, i) => ({
    id: randomUUID(), clientId, sealId: 'approval', sealVersion: 1, certSerial: '01', sha256In: 'a'.repeat(64), sha256Out: 'b'.repeat(64), level: 'B-B',
    placement: { requested: { kind: 'invisible' } }, caseNumber: extra.caseNumber ?? null, itemCode: extra.itemCode ?? null, department: null, centreCode: null, idempotencyKey: null, requestHash: null,
    outputPath: null, createdAt: new Date(base.getTime() + Math.floor(i / 3)).toISOString(), batchId: null, batchIndex: null, filename: extra.filename ?? null,
  })));
}

/** Every page of `path` (which has a query string) with `limit`, calling `between` after each page. */
async function walk<T>(as: { key: string }, path: string, between: () => Promise<void> = async () => {}): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await get(as, `${path}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, r.bytes.toString()).toBe(200);
    const page = r.json<Page<T>>();
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
    await between();
  } while (cursor);
  return { items, pages };
}

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '100000', ONESEAL_RATE_LIMIT_BURST: '100000' });
  who.a = await addClient(stack, 'window-a', ['approval']);
  who.b = await addClient(stack, 'window-b', ['approval']);
  who.auditor = await personWithSession(stack, 'search-auditor', ['auditor']);
  who.operator = await personWithSession(stack, 'search-operator', ['operator']);
  who.sealAdmin = await personWithSession(stack, 'search-admin', ['seal-admin']);
  who.officer = await personWithSession(stack, 'search-officer', ['licence-officer']);
  await recordStamps(who.a.id!, 40, new Date('2026-10-15T04:00:00Z'), { itemCode: 'ITEM-BULK' });
  await recordStamps(who.b.id!, 10, new Date('2026-10-20T04:00:00Z'), { caseNumber: 'B-BULK' });
  await stampOver(who.a.key, { caseNumber: 'A-001', itemCode: 'ITEM-1' }, 'a-申请书.pdf');
  await stampOver(who.a.key, { caseNumber: 'A-002', itemCode: 'ITEM-1' }, 'a2.pdf');
  await stampOver(who.b.key, { caseNumber: 'B-001', itemCode: 'ITEM-1' }, '=cmd|\' /C calc\'!A0.pdf');
  await stampOver(who.b.key, { caseNumber: '+B-002, "二"', itemCode: 'ITEM-2' }, '@b.pdf');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('GET /v1/stamps', () => {
  it('pages newest first across same-millisecond stamps without repeating or missing one while stamps are being made', async () => {
    const before = (await stack.services.store.db('stamps').select('id')).map((r: { id: string }) => r.id);
    let made = 0;
    const { items, pages } = await walk<StampItem>(who.auditor, '/v1/stamps?limit=7', async () => {
      // A real stamp while paging (newer than every cursor), and one more record between pages.
      if (made++ < 3) await stampOver(who.a.key, { caseNumber: `DURING-${made}` }, 'during.pdf');
    });
    const ids = items.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => before.includes(id)).sort()).toEqual([...before].sort());
    expect(pages).toBeGreaterThan(before.length / 7);
    const keys = items.map((s) => `${s.createdAt}|${s.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
  });

  it('combines filters, and reads a client by id or name and times as China dates or exact instants', async () => {
    const ids = async (q: string) => (await walk<StampItem>(who.auditor, `/v1/stamps?limit=500&${q}`)).items;
    expect((await ids('caseNumber=A-001')).map((s) => s.filename)).toEqual(['a-申请书.pdf']);
    expect(await ids('itemCode=ITEM-1')).toHaveLength(3);
    expect((await ids(`itemCode=ITEM-1&client=${who.b.id}`)).map((s) => s.caseNumber)).toEqual(['B-001']);
    expect((await ids('itemCode=ITEM-1&client=window-a')).map((s) => s.caseNumber).sort()).toEqual(['A-001', 'A-002']);
    expect(await ids('client=no-such-client')).toEqual([]);
    expect(await ids('filename=a2.pdf&seal=approval')).toHaveLength(1);
    expect(await ids('filename=a2.pdf&seal=other')).toHaveLength(0);
    // 2026-10-15T04:00Z is 12:00 on 15 October in China: in the day range, not before it.
    expect(await ids('from=2026-10-15&to=2026-10-15')).toHaveLength(40);
    expect(await ids('from=2026-10-01&to=2026-10-31&itemCode=ITEM-BULK')).toHaveLength(40);
    expect(await ids('to=2026-10-15T12:00:00%2B08:00')).toHaveLength(0);
    expect(await ids('from=2026-10-20T04:00:00Z&to=2026-10-21')).toHaveLength(10);
  });

  it('shows a client only its own stamps, whatever it filters on or sends as a cursor', async () => {
    const mine = (await walk<StampItem>(who.a, '/v1/stamps?limit=9')).items;
    expect(mine.length).toBeGreaterThanOrEqual(42);
    expect(new Set(mine.map((s) => s.client.id))).toEqual(new Set([who.a.id]));
    for (const q of [`client=${who.b.id}`, 'client=window-b', 'caseNumber=B-001', 'caseNumber=B-BULK', 'filename=b2.pdf', 'itemCode=ITEM-2']) {
      const r = await get(who.a, `/v1/stamps?${q}`);
      expect(r.status, q).toBe(200);
      expect(r.json<Page<StampItem>>().items, q).toEqual([]);
    }
    // B's own valid cursor, given to A with the same query: refused, not a window into B's list.
    const bPage = (await get(who.b, '/v1/stamps?limit=2')).json<Page<StampItem>>();
    expect(bPage.nextCursor).toBeTruthy();
    const carried = await get(who.a, `/v1/stamps?limit=2&cursor=${bPage.nextCursor}`);
    expect(carried.status).toBe(400);
    expect(carried.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(carried.json<{ type: string }>().type).toMatch(/invalid-cursor$/);
  });

  it('refuses a cursor that was altered, made up, or carried to other filters', async () => {
    const page = (await get(who.a, '/v1/stamps?limit=3')).json<Page<StampItem>>();
    const decoded = JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString()) as { k: [string, string]; m: string };
    // A position moved into the future, under the old MAC: would list from the top again.
    const moved = Buffer.from(JSON.stringify({ ...decoded, k: ['9999-12-31T00:00:00.000Z', decoded.k[1]] })).toString('base64url');
    const forged = Buffer.from(JSON.stringify({ k: decoded.k, m: 'A'.repeat(43) })).toString('base64url');
    for (const [label, path] of [
      ['moved', `/v1/stamps?limit=3&cursor=${moved}`],
      ['forged MAC', `/v1/stamps?limit=3&cursor=${forged}`],
      ['garbage', '/v1/stamps?limit=3&cursor=not*base64'],
      ['other filters', `/v1/stamps?limit=3&itemCode=ITEM-BULK&cursor=${page.nextCursor}`],
    ] as const) {
      const r = await get(who.a, path);
      expect(r.status, label).toBe(400);
      expect(r.json<{ type: string }>().type, label).toMatch(/invalid-cursor$/);
    }
    // The same cursor with the same filters (and another page size) continues.
    expect((await get(who.a, `/v1/stamps?limit=5&cursor=${page.nextCursor}`)).status).toBe(200);
  });

  it('gives operators no file names or case numbers: not listed, not filterable, not in CSV', async () => {
    const page = (await get(who.operator, '/v1/stamps?limit=500')).json<Page<StampItem>>();
    expect(page.items.length).toBeGreaterThan(50);
    for (const s of page.items) {
      expect(s.personalData).toBe('masked');
      expect(s).not.toHaveProperty('filename');
      expect(s).not.toHaveProperty('caseNumber');
    }
    const single = (await get(who.operator, `/v1/stamps/${page.items[0]!.id}`)).json<StampItem>();
    expect(single.personalData).toBe('masked');
    expect(single).not.toHaveProperty('filename');
    for (const q of ['caseNumber=A-001', 'filename=a2.pdf']) {
      const r = await get(who.operator, `/v1/stamps?${q}`);
      expect(r.status, q).toBe(403);
      expect(r.json<{ requiredRoles: string[] }>().requiredRoles).toEqual(['auditor']);
    }
    const csv = await get(who.operator, '/v1/stamps?format=csv');
    expect(csv.status).toBe(200);
    const text = csv.bytes.toString('utf8');
    expect(text.split('\r\n')[0]).not.toMatch(/filename|caseNumber/);
    expect(text).not.toContain('a-申请书');
    expect(text).not.toContain('A-001');
  });

  it('is refused to people whose role does not read stamps', async () => {
    for (const p of [who.sealAdmin, who.officer]) {
      const r = await get(p, '/v1/stamps');
      expect(r.status).toBe(403);
      expect(r.json<{ requiredRoles: string[] }>().requiredRoles).toEqual(['auditor', 'operator']);
    }
    expect((await call(`${stack.server.url}/v1/stamps`)).status).toBe(401);
  });

  it('streams every matching stamp as RFC 4180 CSV that a spreadsheet cannot run (checked with Python\'s csv module)', async () => {
    // A name with a line break and quotes (multipart uploads percent-encode those, older records may not).
    await recordStamps(who.b.id!, 1, new Date('2026-09-01T00:00:00Z'), { filename: '-b,"quoted"\r\nname.pdf' });
    const r = await call(`${stack.server.url}/v1/stamps?client=window-b`, { headers: bearer(who.auditor.key, { Accept: 'text/csv' }) });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="stamps-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(r.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = JSON.parse(execFileSync('python3', ['-c', 'import csv,io,json,sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode("utf-8-sig"), newline="")))))'], { input: r.bytes, encoding: 'utf8' })) as string[][];
    const [header, ...body] = rows;
    expect(header).toEqual(['id', 'createdAt', 'clientId', 'clientName', 'sealId', 'sealVersion', 'certSerial', 'level', 'itemCode', 'department', 'centre', 'caseNumber', 'filename', 'batchId', 'sha256Before', 'sha256After']);
    expect(body).toHaveLength(13);
    const col = (name: string) => body.map((row) => row[header!.indexOf(name)]);
    expect(col('filename')).toContain('\'=cmd|\' /C calc\'!A0.pdf');
    expect(col('filename')).toContain('\'@b.pdf');
    expect(col('filename')).toContain('\'-b,"quoted"\r\nname.pdf');
    expect(col('caseNumber')).toContain('\'+B-002, "二"');
    expect(new Set(col('clientName'))).toEqual(new Set(['window-b']));
    // The same as JSON pages give, in the same order.
    const pages = (await walk<StampItem>(who.auditor, '/v1/stamps?client=window-b&limit=5')).items.map((s) => s.id);
    expect(col('id')).toEqual(pages);
  });

  it('answers bad queries with problem+json naming the parameter', async () => {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=1.5', 'limit'], ['casenumber=A-001', 'casenumber'], ['from=yesterday', 'from'],
      ['to=2026-02-30', 'to'], ['to=2026-13-01', 'to'], ['from=2026-11-01T25:00Z', 'from'], ['format=xml', 'format'], ['seal=a&seal=b', 'seal']] as const) {
      const r = await get(who.auditor, `/v1/stamps?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.headers.get('content-type'), q).toMatch(/application\/problem\+json/);
      expect(r.json<{ errors: { field: string }[] }>().errors[0]!.field, q).toBe(field);
    }
  });
});

describe('GET /v1/stamp-batches/{id}/zip', () => {
  it('gives the client that made a batch, and auditors, the same ZIP again; other clients and operators nothing', async () => {
    const form = new FormData();
    for (const name of ['一.pdf', 'two.pdf']) form.append('document', new Blob([await makePdf({ pages: 1 })], { type: 'application/pdf' }), name);
    for (const [k, v] of Object.entries({ seal: 'approval', invisible: 'true', level: 'B-B', caseNumber: 'ZIP-1' })) form.append(k, v);
    const made = await call(`${stack.server.url}/v1/stamp-batches`, { method: 'POST', headers: bearer(who.a.key), body: form });
    expect(made.status, made.bytes.toString()).toBe(200);
    const id = made.headers.get('stamp-batch-id')!;

    for (const p of [who.a, who.auditor]) {
      const again = await get(p, `/v1/stamp-batches/${id}/zip`);
      expect(again.status).toBe(200);
      expect(again.headers.get('content-type')).toBe('application/zip');
      // Byte for byte what the POST answered: the same stored PDFs, manifest and entry times.
      expect(again.bytes.equals(made.bytes)).toBe(true);
    }
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    execFileSync('sh', ['-c', `cat > "${dir}/b.zip"`], { input: made.bytes });
    expect(execFileSync('unzip', ['-t', `${dir}/b.zip`], { encoding: 'utf8' })).toMatch(/No errors detected/);
    execFileSync('rm', ['-rf', dir]);

    const other = await get(who.b, `/v1/stamp-batches/${id}/zip`);
    expect(other.status).toBe(404);
    expect(other.bytes.toString()).not.toContain('ZIP-1');
    const operator = await get(who.operator, `/v1/stamp-batches/${id}/zip`);
    expect(operator.status).toBe(403);
    expect(operator.json<{ requiredRoles: string[] }>().requiredRoles).toEqual(['auditor']);
    // The operator reads the batch record, without its case number or file names.
    const record = (await get(who.operator, `/v1/stamp-batches/${id}`)).json<{ caseNumber?: string; personalData: string; stamps: StampItem[] }>();
    expect(record.personalData).toBe('masked');
    expect(record).not.toHaveProperty('caseNumber');
    expect(record.stamps.map((s) => s.filename)).toEqual([undefined, undefined]);
    expect((await get(who.a, `/v1/stamp-batches/${randomUUID()}/zip`)).status).toBe(404);
    expect((await get(who.a, '/v1/stamp-batches/..%2F..%2Fetc/zip')).status).toBe(404);
  });
});

interface LicenceItem {
  id: string;
  type: string;
  status: string;
  holder: { name: string; id: string; masked?: boolean };
  data?: Record<string, string>;
  personalData?: string;
}

describe('GET /v1/licences', () => {
  const issued: Record<string, string> = {};
  let licenceClient: { key: string; id: string };
  let otherLicenceClient: { key: string; id: string };
  // Each type admits one current licence per holder number, so each licence has a holder of its own; the companies share a name.
  const person = freshSample('residence-permit');
  const company = freshSample('business-licence');
  const samples: Record<string, Record<string, string>> = {
    company, permit: person, clientCompany: freshSample('business-licence'), otherCompany: freshSample('business-licence'),
  };

  beforeAll(async () => {
    licenceClient = await addClient(stack, 'licence-window', [], { scopes: ['licences'], licenceTypes: ['business-licence', 'residence-permit'] });
    otherLicenceClient = await addClient(stack, 'licence-window-2', [], { scopes: ['licences'], licenceTypes: ['business-licence'] });
    const issue = async (as: { key: string }, type: string, which: string) => {
      // The permit's validity ended in January: issued anyway, it is the expired licence the status filter must find.
      const r = await callAs(stack.server.url, as, 'POST', '/v1/licences', { type, data: samples[which], ...(which === 'permit' ? { allowExpired: true } : {}) });
      expect(r.status, r.bytes.toString()).toBe(201);
      return r.json<{ id: string }>().id;
    };
    issued.company = await issue(who.officer, 'business-licence', 'company');
    issued.permit = await issue(licenceClient, 'residence-permit', 'permit');
    issued.clientCompany = await issue(licenceClient, 'business-licence', 'clientCompany');
    issued.otherCompany = await issue(otherLicenceClient, 'business-licence', 'otherCompany');
    const revoked = await callAs(stack.server.url, who.officer, 'POST', `/v1/licences/${issued.company}/revoke`, { reason: '测试吊销' });
    expect(revoked.status).toBe(200);
  }, 180_000);

  const list = async (as: { key: string }, q = '') => {
    const r = await get(as, `/v1/licences?limit=2${q ? `&${q}` : ''}`);
    expect(r.status, r.bytes.toString()).toBe(200);
    return (await walk<LicenceItem>(as, `/v1/licences?limit=2${q ? `&${q}` : ''}`)).items;
  };

  it('gives licence officers every licence in full, newest issue first, with the effective status', async () => {
    const all = await list(who.officer);
    expect(all.map((l) => l.id)).toEqual([issued.otherCompany, issued.clientCompany, issued.permit, issued.company]);
    expect(all.find((l) => l.id === issued.permit)).toMatchObject({ status: 'expired', holder: { name: person.name, id: person.idNumber } });
    expect((await list(who.officer, 'status=revoked')).map((l) => l.id)).toEqual([issued.company]);
    expect((await list(who.officer, 'status=expired')).map((l) => l.id)).toEqual([issued.permit]);
    expect((await list(who.officer, 'status=valid')).map((l) => l.id)).toEqual([issued.otherCompany, issued.clientCompany]);
    expect((await list(who.officer, `type=residence-permit&holderId=${person.idNumber}`)).map((l) => l.id)).toEqual([issued.permit]);
    expect((await list(who.officer, `holderName=${encodeURIComponent(company.name!)}&status=valid`))).toHaveLength(2);
    expect(await list(who.officer, 'issuedTo=2020-01-01')).toEqual([]);
    expect(await list(who.officer, 'issuedFrom=2020-01-01&type=food-business-licence')).toEqual([]);
  });

  it('gives a system client only the licences it issued, of types it is still granted', async () => {
    expect((await list(licenceClient)).map((l) => l.id)).toEqual([issued.clientCompany, issued.permit]);
    expect((await list(otherLicenceClient)).map((l) => l.id)).toEqual([issued.otherCompany]);
    expect(await list(otherLicenceClient, `holderId=${person.idNumber}`)).toEqual([]);
  });

  it('masks people for auditors and lets them search holders only among organisations', async () => {
    const all = await list(who.auditor);
    expect(all).toHaveLength(4);
    const permit = all.find((l) => l.id === issued.permit)!;
    expect(permit.personalData).toBe('masked');
    expect(permit.data).toBeUndefined();
    expect(permit.holder.id).not.toBe(person.idNumber);
    expect(JSON.stringify(all)).not.toContain(person.idNumber);
    // Whether a person holds a licence is itself personal data: the search finds nothing, as for a stranger.
    expect(await list(who.auditor, `holderId=${person.idNumber}`)).toEqual([]);
    expect(await list(who.auditor, `holderName=${encodeURIComponent(person.name!)}`)).toEqual([]);
    expect((await list(who.auditor, `holderId=${company.unifiedSocialCreditCode}`)).map((l) => l.id)).toEqual([issued.company]);
    expect(await list(who.auditor, `holderName=${encodeURIComponent(company.name!)}`)).toHaveLength(3);
    const csv = (await get(who.auditor, '/v1/licences?format=csv')).bytes.toString('utf8');
    expect(csv).not.toContain(person.idNumber);
    expect(csv).toContain(company.unifiedSocialCreditCode);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(5);
  });

  it('is refused to operators, seal-admins and stamping clients; bad filters are 400', async () => {
    for (const p of [who.operator, who.sealAdmin, who.a]) expect((await get(p, '/v1/licences')).status).toBe(403);
    for (const q of ['type=driving-licence', 'status=lost', 'issuedFrom=tomorrow']) expect((await get(who.officer, `/v1/licences?${q}`)).status, q).toBe(400);
  });
});

describe('GET /v1/audit', () => {
  interface Entry { seq: number; actor: string; action: string; details: unknown }

  it('gives auditors and seal-admins the log newest first, filtered by actor, action and time, paged and as CSV', async () => {
    const stamping = (await walk<Entry>(who.auditor, '/v1/audit?limit=4&action=stamp.create&actor=client:window-b')).items;
    expect(stamping.length).toBe(2);
    expect(new Set(stamping.map((e) => `${e.actor} ${e.action}`))).toEqual(new Set(['client:window-b stamp.create']));
    const all = (await walk<Entry>(who.sealAdmin, '/v1/audit?limit=50')).items;
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.at(-1)).toBe(1);
    expect(all.some((e) => e.action === 'licence.revoke')).toBe(true);
    expect((await walk<Entry>(who.auditor, '/v1/audit?to=2020-01-01')).items).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await walk<Entry>(who.auditor, `/v1/audit?from=${today}T00:00:00Z&action=stamp.create`)).items.length).toBeGreaterThanOrEqual(4);
    const csv = await get(who.auditor, '/v1/audit?format=csv&actor=client:window-b');
    expect(csv.status).toBe(200);
    const lines = csv.bytes.toString('utf8').split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('\ufeffseq,at,actor,action,subject,details,hash');
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });

  it('is refused to operators, licence officers and clients', async () => {
    for (const p of [who.operator, who.officer, who.a]) {
      const r = await get(p, '/v1/audit');
      expect(r.status).toBe(403);
    }
  });
});

describe('OpenAPI', () => {
  it('documents each search operation with its parameters, examples, CSV and 400', async () => {
    const doc = (await call(`${stack.server.url}/openapi.json`)).json<{ paths: Record<string, Record<string, {
      operationId: string; parameters: { name: string; example?: unknown }[]; responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
    }>> }>();
    for (const [path, filters] of [['/v1/stamps', ['caseNumber', 'itemCode', 'department', 'centre', 'client', 'seal', 'from', 'to', 'filename']],
      ['/v1/licences', ['type', 'holderId', 'holderName', 'status', 'issuedFrom', 'issuedTo']], ['/v1/audit', ['actor', 'action', 'from', 'to']]] as const) {
      const op = doc.paths[path]!.get!;
      expect(op.operationId, path).toMatch(/^search/);
      expect(op.parameters.map((p) => p.name), path).toEqual([...filters, 'limit', 'cursor', 'format']);
      for (const f of filters) expect(op.parameters.find((p) => p.name === f)!.example, `${path} ${f}`).toBeDefined();
      expect(op.responses[200]!.content!['application/json']!.example, path).toBeDefined();
      expect(op.responses[200]!.content!['text/csv']!.example, path).toBeDefined();
      expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    }
    const zip = doc.paths['/v1/stamp-batches/{id}/zip']!.get!;
    expect(zip.operationId).toBe('getStampBatchZip');
    expect(zip.parameters[0]!.example).toBeDefined();
  });
});
