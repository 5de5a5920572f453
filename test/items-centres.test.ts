/**
 * Items delegated to town service centres, over the real server (SoftHSM, SQLite or PostgreSQL, HTTP on
 * 127.0.0.1): a centre's client stamps only the items delegated to its centre — not another centre's,
 * not without naming an item, not by setting the seal or reason itself, not a moment after the item
 * was taken back — and every stamp and licence says who handled it, as pdfsig and the public page show.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DATA } from './licences-samples.js';
import { call, callAs, countRows, stampForm, type Reply } from './support/api-client.js';
import { cliLogin, loginToken, personWithSession, type TestPerson } from './support/people.js';
import { fixture, fixturePath, openStack, type Stack } from './support/stamp-stack.js';
import { expectSigned } from './support/validators.js';

let stack: Stack;
type Who = TestPerson & { key: string };
let alice: Who;
let bob: Who;
let town: { id: string; key: string };
let west: { id: string; key: string };
let hall: { id: string; key: string };
let townLicences: { id: string; key: string };
const letter = fixture('approval-letter.pdf');
const TOWN = '东村镇便民服务中心';
const BUREAU = '某某区行政审批局';
const db = () => stack.services.store.db;

const as = (who: { key: string }, method: string, path: string, body?: unknown): Promise<Reply> => callAs(stack.server.url, who, method, path, body);
const problem = (r: Reply) => r.json<{ type: string; detail: string; rows?: unknown[] }>();
const problemType = (r: Reply) => problem(r).type.split('/').pop();

function stamp(who: { key: string }, fields: Record<string, string>, pdf: Uint8Array = letter): Promise<Reply> {
  return call(`${stack.server.url}/v1/stamps`, { method: 'POST', headers: { Authorization: `Bearer ${who.key}` }, body: stampForm([{ data: pdf, filename: 'letter.pdf' }], fields) });
}

function importCatalogue(who: { key: string }, body: string, type = 'text/csv'): Promise<Reply> {
  return call(`${stack.server.url}/v1/items/import`, { method: 'POST', headers: { Authorization: `Bearer ${who.key}`, 'Content-Type': type }, body });
}

async function client(name: string, args: string[]): Promise<{ id: string; key: string }> {
  const r = await stack.cli(['client', 'add', '--name', name, ...args, '--break-glass', '--json']);
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out) as { id: string; key: string };
}

/** alice proposes, bob approves: the delegation change runs once, on approval. */
async function twoPeople(path: string, body: unknown): Promise<void> {
  const proposed = await as(alice, 'POST', path, body);
  expect(proposed.status, proposed.bytes.toString()).toBe(202);
  const approved = await as(bob, 'POST', `/v1/admin/proposals/${proposed.json<{ proposal: { id: string } }>().proposal.id}/approve`);
  expect(approved.status, approved.bytes.toString()).toBe(200);
}

beforeAll(async () => {
  stack = await openStack();
  alice = await personWithSession(stack, 'alice', ['seal-admin']);
  bob = await personWithSession(stack, 'bob', ['seal-admin']);
  const imported = await importCatalogue(alice, readFileSync(fixturePath('items/catalogue.csv'), 'utf8'));
  expect(imported.status, imported.bytes.toString()).toBe(200);
  for (const [code, name] of [['dongcun', TOWN], ['xicun', '西村镇便民服务中心']]) {
    expect((await as(alice, 'POST', '/v1/admin/centres', { code, name })).status).toBe(201);
  }
  town = await client('dongcun-window', ['--seals', 'approval', '--centre', 'dongcun']);
  west = await client('xicun-window', ['--seals', 'approval', '--centre', 'xicun']);
  hall = await client('hall-window', ['--seals', 'approval']);
  townLicences = await client('dongcun-licences', ['--scopes', 'licences', '--licence-types', 'food-business-licence', '--centre', 'dongcun']);
  await twoPeople('/v1/admin/delegations', { item: 'SCJG-0201', centre: 'dongcun' });
  await twoPeople('/v1/admin/delegations', { item: 'SCJG-0301', centre: 'xicun' });
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('the catalogue', () => {
  it('imports the fixture catalogue (CSV and the same items as JSON) and lists it', async () => {
    const again = await importCatalogue(alice, readFileSync(fixturePath('items/catalogue.json'), 'utf8'), 'application/json');
    expect(again.status, again.bytes.toString()).toBe(200);
    expect(again.json<{ imported: number }>().imported).toBe(40);
    const listed = await as(town, 'GET', '/v1/items?department=卫健');
    const items = listed.json<{ items: { code: string; department: string }[] }>().items;
    expect(items.length).toBeGreaterThan(5);
    expect(items.every((i) => i.department === '卫健')).toBe(true);
    expect(await countRows(stack, 'items')).toBe(40);
  });

  const header = 'code,name,department,seal,level,placement,certify,reasonTemplate,licenceType,overridable';
  const good = 'T-1,测试事项,市场监管,approval,B-T,anchor:（盖章）,,,,';
  const bad: [string, string, RegExp][] = [
    ['unknown seal', 'T-2,测试事项,市场监管,no-such-seal,B-T,anchor:（盖章）,,,,', /seal there is no seal "no-such-seal"/],
    ['duplicate code', 'T-1,又一事项,卫健,approval,B-T,anchor:（盖章）,,,,', /duplicate code "T-1" \(first on line 2\)/],
    ['bad anchor', 'T-2,测试事项,市场监管,approval,B-T,anchor:,,,,', /placement the anchor text must be/],
    ['bad level', 'T-2,测试事项,市场监管,approval,B-Z,anchor:（盖章）,,,,', /level must be one of B-B, B-T, B-LT, B-LTA, not "B-Z"/],
    ['reason template without the handling body', 'T-2,测试事项,市场监管,approval,B-T,anchor:（盖章）,,{item},,', /reasonTemplate must contain \{handling\}/],
    ['unknown licence type', 'T-2,测试事项,市场监管,approval,B-T,anchor:（盖章）,,,driving-licence,', /licenceType there is no licence type/],
    ['an option that may not be overridden', 'T-2,测试事项,市场监管,approval,B-T,anchor:（盖章）,,,,seal', /overridable "seal" cannot be overridden/],
  ];
  for (const [kind, row, message] of bad) {
    it(`refuses a file with ${kind}, naming line 4, and changes nothing`, async () => {
      const before = await db()('items').orderBy('code');
      const r = await importCatalogue(alice, [header, good, 'T-3,第三事项,公安,approval,,invisible,,,,', row].join('\n'));
      expect(r.status, r.bytes.toString()).toBe(422);
      expect(problemType(r)).toBe('invalid-catalogue');
      expect(problem(r).detail).toMatch(/^The catalogue was not imported \(nothing changed\): line 4: /);
      expect(problem(r).detail).toMatch(message);
      expect(problem(r).rows).toEqual([expect.objectContaining({ line: 4 })]);
      expect(await db()('items').orderBy('code')).toEqual(before);
    });
  }

  it('reports every bad row of a JSON file with its own line', async () => {
    const json = `[\n  {"code": "J-1", "name": "甲", "department": "民政", "seal": "approval", "placement": "invisible"},\n  {"code": "J-2", "name": "乙",\n   "department": "民政", "seal": "approval", "level": "B-X", "placement": "invisible"},\n  {"code": "J-3", "name": "丙", "department": "民政", "seal": "approval", "placement": "position:0,1,1"}\n]`;
    const r = await importCatalogue(alice, json, 'application/json');
    expect(r.status).toBe(422);
    expect(problem(r).rows).toEqual([expect.objectContaining({ line: 3, field: 'level' }), expect.objectContaining({ line: 5, field: 'placement' })]);
    expect(await db()('items').where('code', 'like', 'J-%')).toEqual([]);
  });

  it('may be imported by a seal-admin only', async () => {
    const r = await importCatalogue(hall, `${header}\n${good}`);
    expect([r.status, problemType(r)]).toEqual([403, 'scope-required']);
  });
});

describe('a town centre', () => {
  let stamped: Buffer;

  it('stamps a delegated item with the item\'s profile: the reason names the centre and pdfsig finds it valid', async () => {
    const r = await stamp(town, { itemCode: 'SCJG-0201', caseNumber: 'DC-2026-001' });
    expect(r.status, r.bytes.toString()).toBe(200);
    stamped = r.bytes;
    await expectSigned(stack.trust, letter, stamped, { added: 1, tsaCert: stack.services.authority.tsa.certificate, timestamped: true });
    const record = (await as(town, 'GET', `/v1/stamps/${r.headers.get('Stamp-Id')}`)).json<Record<string, unknown>>();
    expect(record).toMatchObject({ itemCode: 'SCJG-0201', department: '市场监管', centre: 'dongcun', level: 'B-LT', placement: { requested: { kind: 'anchor', text: '（盖章）' } } });
  });

  it('is named in the verification report beside the bureau whose seal it is', async () => {
    const r = await call(`${stack.server.url}/v1/verifications`, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: stamped });
    const [sig] = r.json<{ signatures: { reason: string; location: string; signer: { organisation: string } }[] }>().signatures;
    expect(sig).toMatchObject({ reason: `受托办理：${TOWN}（食品经营许可）`, location: TOWN, signer: { organisation: BUREAU } });
  });

  it('may not stamp an item not delegated to it, nor another centre\'s item', async () => {
    for (const item of ['WJ-0101', 'SCJG-0301']) {
      const r = await stamp(town, { itemCode: item });
      expect([r.status, problemType(r)]).toEqual([403, 'item-not-delegated']);
      expect(problem(r).detail).toContain(item);
      expect(problem(r).detail).toContain('dongcun');
    }
    expect((await stamp(west, { itemCode: 'SCJG-0301' })).status).toBe(200);
  });

  it('must name an item: leaving it out to stamp freely is refused', async () => {
    const r = await stamp(town, { anchor: '（盖章）' });
    expect([r.status, problemType(r)]).toEqual([403, 'item-required']);
    const empty = await stamp(town, { itemCode: '', anchor: '（盖章）' });
    expect([empty.status, problemType(empty)]).toEqual([403, 'item-required']);
  });

  it('may not set what the item fixes: the seal, the reason or location, a placement the profile does not open', async () => {
    const r = await stamp(town, { itemCode: 'SCJG-0201', reason: `受托办理：西村镇便民服务中心（食品经营许可）`, location: '西村' });
    expect([r.status, problemType(r)]).toEqual([403, 'option-fixed-by-item']);
    const level = await stamp(town, { itemCode: 'SCJG-0201', level: 'B-B' });
    expect([level.status, problemType(level)]).toEqual([403, 'option-fixed-by-item']);
    // placement is open for this item: the request's own placement counts, the reason still names the centre.
    const placed = await stamp(town, { itemCode: 'SCJG-0201', page: '1', x: '100', y: '60' });
    expect(placed.status, placed.bytes.toString()).toBe(200);
  });

  it('may not slip a non-delegated item into a batch', async () => {
    const form = stampForm([{ data: letter, filename: 'a.pdf' }, { data: letter, filename: 'b.pdf' }], { itemCode: 'SCJG-0201', 'documents[1].itemCode': 'WJ-0101' });
    const before = await countRows(stack, 'stamps');
    const r = await call(`${stack.server.url}/v1/stamp-batches`, { method: 'POST', headers: { Authorization: `Bearer ${town.key}` }, body: form });
    expect([r.status, problemType(r)]).toEqual([403, 'item-not-delegated']);
    expect(await countRows(stack, 'stamps')).toBe(before);
  });

  it('issues a licence for a delegated item; its public page shows the delegating bureau and the centre', async () => {
    const body = { type: 'food-business-licence', itemCode: 'SCJG-0201', data: SAMPLE_DATA['food-business-licence'] };
    const r = await as(townLicences, 'POST', '/v1/licences', body);
    expect(r.status, r.bytes.toString()).toBe(201);
    const id = r.json<{ id: string }>().id;
    const page = (await call(`${stack.server.url}/v/${encodeURIComponent(id)}`)).bytes.toString('utf8');
    expect(page).toContain(`<dt>委托机关</dt><dd>${BUREAU}</dd>`);
    expect(page).toContain(`<dt>受托办理</dt><dd>${TOWN}</dd>`);
    expect(page).toContain('<dt>办理事项</dt><dd>食品经营许可</dd>');
    const status = (await call(`${stack.server.url}/v1/licences/${encodeURIComponent(id)}/status`)).json<Record<string, unknown>>();
    expect(status).toMatchObject({ issuer: { name: BUREAU }, handling: { centre: { code: 'dongcun', name: TOWN }, item: { code: 'SCJG-0201' } } });
    for (const refused of [{ ...body, itemCode: undefined }, { ...body, itemCode: 'SCJG-0301' }]) {
      expect((await as(townLicences, 'POST', '/v1/licences', refused)).status).toBe(403);
    }
    const wrongType = await as(townLicences, 'POST', '/v1/licences', { ...body, itemCode: 'SCJG-0101' });
    expect(wrongType.status).toBe(403); // not delegated to dongcun comes first
  });

  it('loses the item at once when it is taken back', async () => {
    await twoPeople('/v1/admin/delegations/revoke', { item: 'SCJG-0201', centre: 'dongcun' });
    const r = await stamp(town, { itemCode: 'SCJG-0201' });
    expect([r.status, problemType(r)]).toEqual([403, 'item-not-delegated']);
    const licence = await as(townLicences, 'POST', '/v1/licences', { type: 'food-business-licence', itemCode: 'SCJG-0201', data: SAMPLE_DATA['food-business-licence'] });
    expect(licence.status).toBe(403);
  });
});

describe('the district hall', () => {
  it('stamps with or without an item, the item saying the bureau handled it', async () => {
    expect((await stamp(hall, { anchor: '（盖章）' })).status).toBe(200);
    const r = await stamp(hall, { itemCode: 'WJ-0101' });
    expect(r.status, r.bytes.toString()).toBe(200);
    const record = (await as(hall, 'GET', `/v1/stamps/${r.headers.get('Stamp-Id')}`)).json<Record<string, unknown>>();
    expect(record).toMatchObject({ itemCode: 'WJ-0101', department: '卫健', centre: null });
    const v = await call(`${stack.server.url}/v1/verifications`, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: r.bytes });
    expect(v.json<{ signatures: { reason: string }[] }>().signatures[0]!.reason).toBe(`办理：${BUREAU}（公共场所卫生许可）`);
  });

  it('may still record an item code of its own system (not in the catalogue): no profile, counted as "other"', async () => {
    const r = await stamp(hall, { itemCode: 'OWN-SYSTEM-42', anchor: '（盖章）', reason: '审批同意' });
    expect(r.status, r.bytes.toString()).toBe(200);
    const record = (await as(hall, 'GET', `/v1/stamps/${r.headers.get('Stamp-Id')}`)).json<Record<string, unknown>>();
    expect(record).toMatchObject({ itemCode: 'OWN-SYSTEM-42', department: null, centre: null });
    // A centre has no such freedom: the item must be in the catalogue and delegated to it.
    const town404 = await stamp(town, { itemCode: 'OWN-SYSTEM-42', anchor: '（盖章）' });
    expect([town404.status, problemType(town404)]).toEqual([404, 'item-not-found']);
  });

  it('stays limited by its seal grants when it names an item', async () => {
    const other = await client('hall-other', ['--seals', 'approval']);
    await stack.cli(['client', 'ungrant', 'hall-other', '--seals', 'approval', '--break-glass']);
    expect((await stamp(other, { itemCode: 'WJ-0101' })).status).toBe(403);
  });
});

describe('delegation needs two people', () => {
  it('one seal-admin cannot propose and approve it alone', async () => {
    const proposed = await as(alice, 'POST', '/v1/admin/delegations', { item: 'WJ-0101', centre: 'dongcun' });
    expect(proposed.status).toBe(202);
    const id = proposed.json<{ proposal: { id: string } }>().proposal.id;
    const own = await as(alice, 'POST', `/v1/admin/proposals/${id}/approve`);
    expect([own.status, problemType(own)]).toEqual([403, 'same-person-approval']);
    expect((await stamp(town, { itemCode: 'WJ-0101' })).status).toBe(403);
    expect(await db()('delegations').where({ item_code: 'WJ-0101' })).toEqual([]);
    // A system client can neither propose nor approve.
    expect((await as(hall, 'POST', '/v1/admin/delegations', { item: 'WJ-0101', centre: 'dongcun' })).status).toBe(403);
  });

  it('break-glass runs at once and is audited as break-glass', async () => {
    const r = await stack.cli(['delegate', '--item', 'WJ-0102', '--centre', 'dongcun', '--break-glass', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ item: 'WJ-0102', centre: 'dongcun', delegated: true });
    const [entry] = await db()('audit_log').where({ action: 'delegation.create', subject: 'WJ-0102@dongcun' });
    expect(entry.actor).toMatch(/^break-glass:/);
    expect(JSON.parse(entry.details as string)).toMatchObject({ breakGlass: true });
    expect((await stamp(town, { itemCode: 'WJ-0102' })).status).toBe(200);
  });

  it('the CLI proposes as the logged-in person, and refuses to take back what was never delegated', async () => {
    await cliLogin(stack, alice);
    const r = await stack.cli(['delegate', '--item', 'GA-0101', '--centre', 'xicun']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/proposed delegation.create of GA-0101@xicun as proposal/);
    expect(await db()('delegations').where({ item_code: 'GA-0101' })).toEqual([]);
    const never = await stack.cli(['undelegate', '--item', 'WJ-0102', '--centre', 'xicun']);
    expect(never.code).toBe(1);
    expect(never.err).toMatch(/not delegated to xicun/);
  });
});

describe('licence officers', () => {
  it('of a centre must name a delegated item in the CLI too, and changing a licence follows its item', async () => {
    const added = await stack.cli(['user', 'add', '--name', 'town-officer', '--roles', 'licence-officer', '--centre', 'dongcun', '--break-glass', '--json']);
    expect(added.code, added.err).toBe(0);
    const person = JSON.parse(added.out) as TestPerson & { centre: string };
    expect(person.centre).toBe('dongcun');
    const officer = { ...person, key: await loginToken(stack, person) };
    const data = path.join(stack.dir, 'food.json');
    writeFileSync(data, JSON.stringify({ ...SAMPLE_DATA['food-business-licence'], licenceNumber: 'JY14401060099999' }));
    await cliLogin(stack, officer);
    const out = path.join(stack.dir, 'food.pdf');
    const without = await stack.cli(['licence', 'issue', '--type', 'food-business-licence', '--data', data, '-o', out]);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/Centre "dongcun" may issue licences only for the items delegated to it/);
    const notDelegated = await stack.cli(['licence', 'issue', '--type', 'food-business-licence', '--item', 'SCJG-0202', '--data', data, '-o', out]);
    expect(notDelegated.err).toMatch(/SCJG-0202 .* not delegated to centre "dongcun"/);
    expect(await stack.cli(['delegate', '--item', 'SCJG-0202', '--centre', 'dongcun', '--break-glass'])).toMatchObject({ code: 0 });
    const issued = await stack.cli(['licence', 'issue', '--type', 'food-business-licence', '--item', 'SCJG-0202', '--data', data, '-o', out, '--json']);
    expect(issued.code, issued.err).toBe(0);
    const id = JSON.parse(issued.out).id as string;
    expect(await db()('licences').where({ id }).first('item_code', 'centre_code')).toEqual({ item_code: 'SCJG-0202', centre_code: 'dongcun' });
    // Taken back: the centre's officer can no longer issue the next version of that licence.
    expect(await stack.cli(['undelegate', '--item', 'SCJG-0202', '--centre', 'dongcun', '--break-glass'])).toMatchObject({ code: 0 });
    const change = await as(officer, 'POST', `/v1/licences/${encodeURIComponent(id)}/versions`, { data: SAMPLE_DATA['food-business-licence'] });
    expect([change.status, problemType(change)]).toEqual([403, 'item-not-delegated']);
  });

  it('of the district hall may name an item only for the licence type it issues', async () => {
    const officer = await personWithSession(stack, 'hall-officer', ['licence-officer']);
    const r = await as(officer, 'POST', '/v1/licences', { type: 'food-business-licence', itemCode: 'WJ-0101', data: SAMPLE_DATA['food-business-licence'] });
    expect([r.status, problemType(r)]).toEqual([422, 'item-licence-type-mismatch']);
  });
});

describe('statistics', () => {
  it('count stamps per centre, department and item, for a period', async () => {
    const byCentre = await as(alice, 'GET', '/v1/stats/stamps?by=centre');
    expect(byCentre.status, byCentre.bytes.toString()).toBe(200);
    expect(byCentre.json<{ groups: unknown[] }>().groups).toEqual([
      { key: 'district-hall', count: 3 },
      { key: 'dongcun', name: TOWN, count: 3 },
      { key: 'xicun', name: '西村镇便民服务中心', count: 1 },
    ]);
    const byDepartment = (await as(alice, 'GET', '/v1/stats/stamps?by=department&from=2020-01-01')).json<{ total: number; groups: { key: string; count: number }[] }>();
    expect(byDepartment.total).toBe(7);
    expect(byDepartment.groups).toContainEqual({ key: '市场监管', count: 3 });
    const later = (await as(alice, 'GET', `/v1/stats/stamps?by=item&from=${new Date(Date.now() + 86_400_000).toISOString()}`)).json<{ total: number }>();
    expect(later.total).toBe(0);
    for (const bad of ['by=seal', 'by=item&from=yesterday']) {
      const r = await as(alice, 'GET', `/v1/stats/stamps?${bad}`);
      expect([r.status, problemType(r)]).toEqual([400, 'invalid-stats-query']);
    }
    // A centre's own client reads no statistics.
    expect((await as(town, 'GET', '/v1/stats/stamps?by=centre')).status).toBe(403);
  });

  it('the stamp search filters by department and centre', async () => {
    const r = await as(town, 'GET', `/v1/stamps?centre=dongcun&department=${encodeURIComponent('市场监管')}`);
    expect(r.status, r.bytes.toString()).toBe(200);
    const found = r.json<{ items: { itemCode: string; centre: string }[] }>().items;
    expect(found.map((s) => [s.itemCode, s.centre])).toEqual([['SCJG-0201', 'dongcun'], ['SCJG-0201', 'dongcun']]);
    // Another centre's client filtering for dongcun still sees only its own stamps.
    expect((await as(west, 'GET', '/v1/stamps?centre=dongcun')).json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('are in /metrics by department, item and centre', async () => {
    const text = (await call(`${stack.server.url}/metrics`)).bytes.toString('utf8');
    expect(text).toContain('oneseal_centre_stamps_total{centre="dongcun"} 3');
    expect(text).toContain('oneseal_centre_stamps_total{centre="district-hall"} 3');
    expect(text).toContain('oneseal_item_stamps_total{item="other"} 1');
    expect(text).not.toContain('OWN-SYSTEM-42');
    expect(text).toContain('oneseal_item_stamps_total{item="SCJG-0201"} 2');
    expect(text).toMatch(/oneseal_department_stamp_seconds_count\{department="市场监管"\} 3/);
  });
});
