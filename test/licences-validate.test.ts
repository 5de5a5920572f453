import { describe, expect, it } from 'vitest';
import { OneSealError } from '../src/errors.js';
import { assertValidLicenceData, validateLicenceData } from '../src/licences/validate.js';
import { licenceMetadata } from '../src/licences/metadata.js';
import { registry, sampleInput, SAMPLE_DATA } from './licences-samples.js';

const business = registry.get('business-licence');
const food = registry.get('food-business-licence');
const permit = registry.get('residence-permit');
const with_ = (typeId: string, changes: Record<string, unknown>): Record<string, unknown> => ({ ...SAMPLE_DATA[typeId], ...changes });
const without = (typeId: string, field: string): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...SAMPLE_DATA[typeId] };
  delete copy[field];
  return copy;
};

describe('licence data validation', () => {
  it.each(Object.keys(SAMPLE_DATA))('accepts the %s sample', (typeId) => {
    expect(validateLicenceData(registry.get(typeId), SAMPLE_DATA[typeId])).toEqual([]);
  });

  it('names unifiedSocialCreditCode for a bad credit code, with the reason', () => {
    const errors = validateLicenceData(business, with_('business-licence', { unifiedSocialCreditCode: '91110000802100433C' }));
    expect(errors).toEqual([{ field: 'unifiedSocialCreditCode', message: expect.stringMatching(/统一社会信用代码.*check character is wrong.*"B"/) }]);
  });

  it('names idNumber for a bad resident ID number', () => {
    expect(validateLicenceData(permit, with_('residence-permit', { idNumber: '110105194912310021' }))).toEqual([
      { field: 'idNumber', message: expect.stringContaining('公民身份号码') },
    ]);
    expect(validateLicenceData(permit, with_('residence-permit', { idNumber: '110105194902300028' }))[0]).toMatchObject({
      field: 'idNumber',
      message: expect.stringContaining('not a real birth date'),
    });
  });

  it('names the field of an impossible or malformed date', () => {
    expect(validateLicenceData(business, with_('business-licence', { establishedOn: '2023-02-29' }))).toEqual([
      { field: 'establishedOn', message: expect.stringContaining('"2023-02-29" is not a real date written YYYY-MM-DD') },
    ]);
    expect(validateLicenceData(food, with_('food-business-licence', { validFrom: '2024/06/01' })).map((e) => e.field)).toEqual(['validFrom']);
  });

  it('accepts 长期 only where a term may be open-ended', () => {
    expect(validateLicenceData(business, with_('business-licence', { businessTermTo: '2045-03-17' }))).toEqual([]);
    expect(validateLicenceData(business, with_('business-licence', { businessTermTo: '永久' })).map((e) => e.field)).toEqual(['businessTermTo']);
    expect(validateLicenceData(food, with_('food-business-licence', { validTo: '长期' })).map((e) => e.field)).toEqual(['validTo']);
  });

  it('names a missing required field, and lets an optional one be absent', () => {
    expect(validateLicenceData(food, without('food-business-licence', 'licenceNumber'))).toEqual([
      { field: 'licenceNumber', message: '许可证编号 (Licence number): is required' },
    ]);
    expect(validateLicenceData(business, with_('business-licence', { name: '' })).map((e) => e.field)).toEqual(['name']);
    expect(validateLicenceData(permit, without('residence-permit', 'photo'))).toEqual([]);
  });

  it('rejects an unknown field by name', () => {
    expect(validateLicenceData(business, with_('business-licence', { shareholder: '某某' }))).toEqual([
      { field: 'shareholder', message: expect.stringContaining('shareholder is not a field of 营业执照 (business-licence)') },
    ]);
  });

  it('rejects an end of validity before its start, on the end field', () => {
    expect(validateLicenceData(permit, with_('residence-permit', { validTo: '2025-01-09' }))).toEqual([
      { field: 'validTo', message: expect.stringContaining('2025-01-09 is before 有效期自') },
    ]);
    expect(validateLicenceData(permit, with_('residence-permit', { validTo: '2025-01-10' }))).toEqual([]);
  });

  it('checks enums, patterns, lengths, types and images', () => {
    const fields = (typeId: string, changes: Record<string, unknown>): string[] =>
      validateLicenceData(registry.get(typeId), with_(typeId, changes)).map((e) => e.field);
    expect(fields('residence-permit', { sex: 'F' })).toEqual(['sex']);
    expect(fields('food-business-licence', { licenceNumber: 'JY2310104012345' })).toEqual(['licenceNumber']);
    expect(fields('business-licence', { name: '某'.repeat(101) })).toEqual(['name']);
    expect(fields('business-licence', { name: '某'.repeat(100) })).toEqual([]);
    expect(fields('business-licence', { registeredCapital: 1000 })).toEqual(['registeredCapital']);
    expect(fields('business-licence', { address: '北京市\n海淀区' })).toEqual(['address']);
    expect(fields('business-licence', { address: ' 北京市海淀区' })).toEqual(['address']);
    expect(fields('residence-permit', { photo: Buffer.from('GIF89a....').toString('base64') })).toEqual(['photo']);
    expect(fields('residence-permit', { photo: 'data:image/png;base64,iVBORw0KGgo=' })).toEqual(['photo']);
    expect(fields('residence-permit', { photo: 'not base64!' })).toEqual(['photo']);
  });

  it('gives one message per field, however many things are wrong', () => {
    const errors = validateLicenceData(permit, { name: '', idNumber: 'x', validFrom: '2025-02-30', validTo: '2024-01-01', extra: 1 });
    const names = errors.map((e) => e.field);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(['address', 'extra', 'idNumber', 'issuedOn', 'name', 'sex', 'validFrom'].sort());
  });

  it('rejects data that is not an object', () => {
    expect(validateLicenceData(business, ['a'])).toEqual([{ field: 'data', message: expect.stringContaining('must be an object') }]);
  });

  it('throws a 422-kind OneSealError carrying the fields', () => {
    let caught: unknown;
    try {
      assertValidLicenceData(business, with_('business-licence', { establishedOn: '2015-13-01', unifiedSocialCreditCode: '1' }));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OneSealError);
    expect(caught).toMatchObject({ code: 'invalid-licence-data', kind: 'unprocessable' });
    expect((caught as OneSealError).fields!.map((f) => f.field)).toEqual(['unifiedSocialCreditCode', 'establishedOn']);
  });
});

describe('GB/T 36903 metadata', () => {
  it('fills the exchange fields from the type, the data and the issue', () => {
    const permitInput = sampleInput('residence-permit');
    const data = SAMPLE_DATA['residence-permit']!;
    expect(licenceMetadata(permit, data, permitInput)).toEqual({
      certificateIdentifier: permitInput.licenceId,
      certificateName: '居住证',
      certificateTypeName: '居住证',
      certificateTypeCode: '11100000000013338W051',
      certificateIssuingAuthorityName: '深圳市公安局南山分局',
      certificateIssuingAuthorityCode: permitInput.issuer.creditCode,
      certificateIssuedDate: '2025-05-22',
      certificateHolderName: '张晓梅',
      certificateHolderCode: data['idNumber'],
      certificateHolderTypeName: '公民身份号码',
      certificateEffectiveDate: '2025-01-10',
      certificateExpiringDate: '2026-01-09',
      certificateAreaCode: '440305',
    });
    const businessMeta = licenceMetadata(business, SAMPLE_DATA['business-licence']!, sampleInput('business-licence'));
    expect(businessMeta).toMatchObject({ certificateHolderTypeName: '统一社会信用代码', certificateExpiringDate: '长期', certificateAreaCode: '110108' });
  });
});
