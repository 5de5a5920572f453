/**
 * The licence lifecycle in-process (real SoftHSM, SQLite, CA): serials per type and issuer, versions and
 * supersession under concurrency, revocation, expiry at read time, masking, the copy check, and the
 * public page's escaping. HTTP is covered in api-licences.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskIdNumber, maskPersonName } from '../src/licences/masking.js';
import { esc, licencePage, notFoundPage } from '../src/licences/page.js';
import {
  changeLicence,
  chinaDate,
  checkLicenceCopy,
  effectiveStatus,
  issueLicence,
  licenceDeps,
  publicStatus,
  revokeLicence,
  type LicenceDeps,
} from '../src/licences/service.js';
import { OneSealError } from '../src/errors.js';
import { openStore, type Store } from '../src/store/db.js';
import { Verifier } from '../src/verifying/verifier.js';
import {
  allocateLicenceSerial,
  getLicence,
  getLicencePdf,
  insertLicence,
  markLicenceRevoked,
  markLicenceSuperseded,
  type LicenceRecord,
} from '../src/store/licences.js';
import { insertSeal } from '../src/store/seals.js';
import { testBackends, type TestDatabase } from './support/databases.js';
import { freshSample } from './licences-samples.js';
import { openStack, type Stack } from './support/stamp-stack.js';

describe('masking', () => {
  it('keeps the first and last character of a name, and the first of a two-character name', () => {
    expect(maskPersonName('张晓梅')).toBe('张*梅');
    expect(maskPersonName('欧阳明月')).toBe('欧**月');
    expect(maskPersonName('张三')).toBe('张*');
    expect(maskPersonName('𠮷')).toBe('𠮷');
  });

  it('keeps the first 6 and last 4 characters of an ID number', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });
});

describe('status at read time', () => {
  it('expires the day after validTo (China calendar), never for 长期, and leaves revoked and superseded alone', () => {
    expect(effectiveStatus({ status: 'valid', validTo: '2026-01-09' }, '2026-01-09')).toBe('valid');
    expect(effectiveStatus({ status: 'valid', validTo: '2026-01-09' }, '2026-01-10')).toBe('expired');
    expect(effectiveStatus({ status: 'valid', validTo: '长期' }, '9999-12-31')).toBe('valid');
    expect(effectiveStatus({ status: 'revoked', validTo: '2020-01-01' }, '2026-01-10')).toBe('revoked');
    expect(effectiveStatus({ status: 'superseded', validTo: '长期' }, '2026-01-10')).toBe('superseded');
  });

  it('uses the date in China: 16:00 UTC is already the next day', () => {
    expect(chinaDate(new Date('2026-01-09T15:59:59Z'))).toBe('2026-01-09');
    expect(chinaDate(new Date('2026-01-09T16:00:00Z'))).toBe('2026-01-10');
  });
});

const backends = await testBackends();

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`licence store on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let tdb: TestDatabase;
    let store: Store;
    beforeAll(async () => {
      tdb = backend.make();
      store = await openStore({ database: tdb.database });
    });
    afterAll(async () => {
      await store?.close();
      await tdb?.cleanup();
    });

    it('counts serials per type and issuer, without duplicates under concurrent transactions', async () => {
      const take = (type: string, issuer: string) => store.db.transaction((trx) => allocateLicenceSerial(trx, type, issuer));
      const many = await Promise.all(Array.from({ length: 20 }, () => take('T1', 'I1')));
      expect([...many].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await take('T2', 'I1')).toBe(1);
      expect(await take('T1', 'I2')).toBe(1);
      expect(await take('T1', 'I1')).toBe(21);
    });

    it('keeps the PDF byte for byte, reads records without it, and changes status only from valid', async () => {
      await insertSeal(store.db, {
        id: 'approval', organisation: '某某区行政审批局', creditCode: '11110105MB0123456F', name: '行政审批专用章', sealType: 'approval',
        appearance: {}, keyAlgorithm: 'EC-P256', certValidityDays: 365, rotationPolicy: {}, twoPersonControl: false, isTest: true,
      });
      const pdf = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));
      const record: LicenceRecord = {
        id: 'L1', typeId: 'business-licence', typeCode: 'T', issuerCode: 'I', issuerName: '某某区行政审批局', serial: '00000001', version: 1,
        data: { name: '北京星河数字科技有限公司' }, holderName: '北京星河数字科技有限公司', holderId: '91110000802100433B', validFrom: '2015-03-18',
        validTo: '长期', sha256: 'ab', sealId: 'approval', sealName: '行政审批专用章', sealVersion: 1, certSerial: '01', signedAt: '2026-01-01T00:00:00.000Z',
        status: 'valid', issuedAt: '2026-01-01T00:00:00.000Z', issuedBy: 'test', ownerClientId: null, itemCode: null, centreCode: null, caseNumber: null, supersedes: null, supersededBy: null, revokedAt: null, revocationReason: null,
      };
      await insertLicence(store.db, record, pdf);
      expect(await getLicence(store.db, 'L1')).toEqual(record);
      expect((await getLicencePdf(store.db, 'L1'))!.equals(pdf)).toBe(true);
      expect(await markLicenceRevoked(store.db, 'L1', '2026-01-02T00:00:00.000Z', '注销')).toBe(true);
      expect(await markLicenceRevoked(store.db, 'L1', '2026-01-03T00:00:00.000Z', 'again')).toBe(false);
      expect(await markLicenceSuperseded(store.db, 'L1', 'L2')).toBe(false);
      expect(await getLicence(store.db, 'L1')).toMatchObject({ status: 'revoked', revokedAt: '2026-01-02T00:00:00.000Z', revocationReason: '注销' });
    });
  });
}

describe('lifecycle with the HSM', () => {
  let stack: Stack;
  let deps: LicenceDeps;
  const fresh = () => freshSample('food-business-licence');
  beforeAll(async () => {
    stack = await openStack();
    deps = licenceDeps(stack.services);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('numbers licences of one type 00000001, 00000002, … with version 001', async () => {
    const a = await issueLicence(deps, { type: 'food-business-licence', data: fresh() }, 'test');
    const b = await issueLicence(deps, { type: 'food-business-licence', data: fresh() }, 'test');
    expect([a.serial, b.serial]).toEqual(['00000001', '00000002']);
    expect(a.id).toMatch(/\.00000001\.001\.[0-9A-Z]$/);
    expect(a.issuerName).toBe(stack.services.config.seal.orgName);
  });

  it('lets only one of two concurrent changes of the same version through', async () => {
    const food = fresh();
    const first = await issueLicence(deps, { type: 'food-business-licence', data: food }, 'test');
    const results = await Promise.allSettled([
      changeLicence(deps, first.id, { ...food, mainBusiness: '单位食堂' }, 'a'),
      changeLicence(deps, first.id, { ...food, mainBusiness: '饮品店' }, 'b'),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBeInstanceOf(OneSealError);
    expect((failed[0]!.reason as OneSealError).kind).toBe('conflict');
    const old = (await getLicence(deps.db, first.id))!;
    expect(old.status).toBe('superseded');
    expect(old.supersededBy).toBe((ok[0] as PromiseFulfilledResult<{ id: string }>).value.id);
  });

  it('refuses to change or revoke a revoked licence, and needs a reason', async () => {
    const food = fresh();
    const l = await issueLicence(deps, { type: 'food-business-licence', data: food }, 'test');
    await expect(revokeLicence(deps, l.id, '  ', 'test')).rejects.toMatchObject({ kind: 'unprocessable', fields: [{ field: 'reason' }] });
    await revokeLicence(deps, l.id, '许可证被依法撤销', 'test');
    await expect(changeLicence(deps, l.id, food, 'test')).rejects.toMatchObject({ kind: 'conflict' });
    await expect(revokeLicence(deps, 'nope', 'x', 'test')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('tells the issued file from a changed copy and from a file that is not a PDF', async () => {
    const l = await issueLicence(deps, { type: 'food-business-licence', data: fresh() }, 'test');
    const pdf = (await getLicencePdf(deps.db, l.id))!;
    const verifier = new Verifier({ db: deps.db });
    const check = (bytes: Uint8Array) => checkLicenceCopy((b) => verifier.verify(b), l, bytes);
    expect(await check(pdf)).toMatchObject({ identical: true, verdict: 'valid', genuine: true });
    const changed = Buffer.from(pdf);
    changed[changed.indexOf('/Producer', 0, 'latin1') + 12]! ^= 1;
    expect(await check(changed)).toMatchObject({ identical: false, genuine: false });
    expect(await check(Buffer.from('not a pdf'))).toMatchObject({ identical: false, verdict: 'unreadable', genuine: false });
  });

  it('escapes every value on the page', async () => {
    const l = await issueLicence(deps, { type: 'food-business-licence', data: { ...fresh(), operator: '<b>味香园</b>"&\'' } }, 'test');
    const html = licencePage(publicStatus(deps.registry, l), 'zh');
    expect(html).toContain(esc('<b>味香园</b>"&\''));
    expect(html).not.toContain('<b>味香园');
    expect(notFoundPage('"><img src=x>', 'en')).not.toContain('<img');
  });
});
