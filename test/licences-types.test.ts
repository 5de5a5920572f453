import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LicenceTypeRegistry } from '../src/licences/registry.js';
import { renderLicence } from '../src/licences/render.js';
import { parseLicenceType } from '../src/licences/types.js';
import { validateLicenceData } from '../src/licences/validate.js';
import { creditCodeCheckChar, isValidCreditCode } from '../src/standards/credit-code.js';
import { buildLicenceId } from '../src/standards/licence-id.js';
import businessLicence from '../src/licences/types/business-licence.json' with { type: 'json' };
import { scratchDir } from './support/pdfs.js';
import { printedForm, registry } from './licences-samples.js';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

/** A type no code knows about: 卫生许可证 (public-place hygiene licence), as a deployment would add it. */
const hygieneLicence = {
  id: 'hygiene-licence',
  title: { zh: '卫生许可证', en: 'Hygiene Licence' },
  typeCode: '11100000000013338W077',
  fields: [
    { name: 'unitName', label: { zh: '单位名称', en: 'Unit name' }, kind: 'text', required: true, maxLength: 60 },
    { name: 'creditCode', label: { zh: '统一社会信用代码', en: 'Credit code' }, kind: 'credit-code', required: true },
    { name: 'category', label: { zh: '许可项目', en: 'Licensed activity' }, kind: 'enum', required: true, values: ['住宿场所', '沐浴场所', '美容美发场所'] },
    { name: 'validFrom', label: { zh: '有效期自', en: 'Valid from' }, kind: 'date', required: true },
    { name: 'validTo', label: { zh: '有效期至', en: 'Valid until' }, kind: 'date', required: true },
  ],
  holder: { name: 'unitName', id: 'creditCode' },
  validity: { from: 'validFrom', to: 'validTo' },
  layout: {
    page: { width: 210, height: 148 },
    margin: 8,
    titleSize: 26,
    fontSize: 11,
    columns: [['unitName', 'creditCode', 'category'], ['validFrom', 'validTo']],
    issuerLabel: { zh: '发证机关', en: 'Issuing authority' },
    seal: { size: 40 },
    qr: { size: 27 },
  },
};

describe('licence type registry', () => {
  it('knows the three built-in types by id and by type code', () => {
    expect(registry.list().map((t) => t.id).sort()).toEqual(['business-licence', 'food-business-licence', 'residence-permit']);
    expect(registry.byTypeCode('11100000000013338W011')?.id).toBe('business-licence');
    for (const t of registry.list()) expect(isValidCreditCode(t.typeCode.slice(0, 18))).toBe(true);
  });

  it('names the known types when asked for an unknown one', () => {
    expect(() => registry.get('driving-licence')).toThrow(expect.objectContaining({ code: 'unknown-licence-type', kind: 'not-found', message: expect.stringContaining('business-licence') }));
  });

  it('adds a type from a JSON file, which then validates and renders with no code of its own', async () => {
    const dir = path.join(scratch.dir, 'types');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'hygiene-licence.json'), JSON.stringify(hygieneLicence));
    const reg = LicenceTypeRegistry.load(dir);
    const type = reg.get('hygiene-licence');
    const code = '92310115MA1K4' + '0000';
    const data = { unitName: '上海浦江宾馆有限公司', creditCode: code + creditCodeCheckChar(code), category: '住宿场所', validFrom: '2025-01-01', validTo: '2028-12-31' };
    expect(validateLicenceData(type, { ...data, category: '网吧' }).map((e) => e.field)).toEqual(['category']);

    const issuerCode = '11310115MB0' + '123456';
    const issuer = { name: '上海市浦东新区卫生健康委员会', creditCode: issuerCode + creditCodeCheckChar(issuerCode) };
    const licenceId = buildLicenceId({ typeCode: type.typeCode, issuer: issuer.creditCode, serial: '7', version: '001' });
    const out = await renderLicence({ type, data, licenceId, issuer, issuedOn: '2025-01-01', publicBaseUrl: 'http://127.0.0.1:8080/' });
    expect(out.verificationUrl).toBe(`http://127.0.0.1:8080/v/${licenceId}`);
    const file = path.join(scratch.dir, 'hygiene.pdf');
    writeFileSync(file, out.pdf);
    const text = spawnSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' }).stdout;
    for (const value of Object.values(data)) expect(text).toContain(printedForm(value));
    expect(text).toContain('卫生许可证');
  });

  it('refuses a directory type that clashes with a built-in', () => {
    const dir = path.join(scratch.dir, 'clash');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'again.json'), JSON.stringify({ ...hygieneLicence, typeCode: '11100000000013338W011' }));
    expect(() => LicenceTypeRegistry.load(dir)).toThrow(/share an id or type code \(11100000000013338W011\)/);
  });

  it('reports unreadable JSON with its path', () => {
    const dir = path.join(scratch.dir, 'broken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'bad.json'), '{ "id": ');
    expect(() => LicenceTypeRegistry.load(dir)).toThrow(/bad\.json is not readable JSON/);
  });
});

describe('licence type definitions', () => {
  it('accepts the built-in definition as written', () => {
    expect(parseLicenceType(businessLicence, 'business-licence.json').id).toBe('business-licence');
  });

  it('lists every problem of a broken definition at once', () => {
    const broken = structuredClone(hygieneLicence) as Record<string, any>;
    broken['typeCode'] = '11100000000013338X077';
    broken['fields'][2].values = [];
    broken['fields'].push({ name: 'photo', label: { zh: '照片', en: 'Photo' }, kind: 'image', required: false });
    broken['layout'].columns = [['unitName', 'creditCode', 'nowhere'], ['validFrom']];
    broken['layout'].qr.size = 20;
    broken['validity'] = { from: 'unitName', to: 'validTo' };
    let message = '';
    try {
      parseLicenceType(broken, 'broken.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('licence type broken.json is not usable');
    for (const expected of [
      'type code "11100000000013338X077"',
      'fields[2].values must list',
      'validity must be',
      'layout.qr.size must be at least 25',
      'layout.columns names "nowhere"',
      'the image field "photo" needs layout.photo',
      'field "category" is not placed',
      'field "validTo" is not placed',
    ]) {
      expect(message).toContain(expected);
    }
  });
});
