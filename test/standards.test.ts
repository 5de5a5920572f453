import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CREDIT_CODE_ALPHABET, creditCodeCheckChar, creditCodeError, isValidCreditCode } from '../src/standards/credit-code.js';
import { formatChineseDate, isRealDate, parseIsoDate } from '../src/standards/date.js';
import {
  buildLicenceId,
  isValidLicenceId,
  licenceIdError,
  mod37_36CheckChar,
  parseLicenceId,
} from '../src/standards/licence-id.js';
import { isValidResidentId, residentIdCheckChar, residentIdError } from '../src/standards/resident-id.js';

/** Every printable ASCII character: the replacements a single-character typo can introduce. */
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

/** A copy of `text` with the character at `index` (mod length) replaced by a different printable character. */
const mutate = (text: string, index: number, pick: number): string => {
  const i = index % text.length;
  const others = PRINTABLE.filter((c) => c !== text[i]);
  return text.slice(0, i) + others[pick % others.length] + text.slice(i + 1);
};

const creditBody = fc.array(fc.constantFrom(...CREDIT_CODE_ALPHABET), { minLength: 17, maxLength: 17 }).map((a) => a.join(''));
const creditCode = creditBody.map((b) => b + creditCodeCheckChar(b));
const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const birthDate = fc
  .date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2025, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10).replaceAll('-', ''));
const residentId = fc.tuple(digits(6), birthDate, digits(3)).map(([a, b, c]) => a + b + c + residentIdCheckChar(a + b + c));

describe('GB 32100 unified social credit code', () => {
  it.each(['91110000802100433B', '11100000000013338W', '11430000006122244L', '11330105002500287C', '113700000045030270'])(
    'accepts the published example %s',
    (code) => {
      expect(creditCodeError(code)).toBeUndefined();
      expect(creditCodeCheckChar(code.slice(0, 17))).toBe(code[17]);
    },
  );

  it("writes a check value of 31 as '0'", () => {
    expect(creditCodeCheckChar('11370000004503027')).toBe('0');
    expect(isValidCreditCode('11370000004503027Y')).toBe(false);
  });

  it('explains what is wrong', () => {
    expect(creditCodeError('91110000802100433C')).toMatch(/check character is wrong: "C" given.*need "B"/);
    expect(creditCodeError('9111000080210043')).toMatch(/18 characters, got 16/);
    expect(creditCodeError('91110000802100433b')).toMatch(/upper case/);
    expect(creditCodeError('9111000080210O433B')).toMatch(/"O".*never used/);
  });

  it('accepts every generated code', () => {
    fc.assert(fc.property(creditCode, (code) => isValidCreditCode(code)));
  });

  it('rejects every single-character change', () => {
    fc.assert(fc.property(creditCode, fc.nat(), fc.nat(), (code, i, p) => !isValidCreditCode(mutate(code, i, p))), { numRuns: 2000 });
  });

  it('rejects every single-character change, exhaustively for one code', () => {
    const code = '91110000802100433B';
    for (let i = 0; i < code.length; i++) {
      for (const c of PRINTABLE) if (c !== code[i]) expect(isValidCreditCode(code.slice(0, i) + c + code.slice(i + 1))).toBe(false);
    }
  });
});

describe('GB 11643 resident ID number', () => {
  it('accepts the published example', () => {
    expect(residentIdError('11010519491231002X')).toBeUndefined();
  });

  it('rejects an impossible birth date even with a matching check character', () => {
    const body = '11010519490230002'; // 30 February
    expect(residentIdError(body + residentIdCheckChar(body))).toMatch(/19490230.*not a real birth date/);
  });

  it('rejects a lower-case x and a wrong check character with a reason', () => {
    expect(residentIdError('11010519491231002x')).toMatch(/upper case/);
    expect(residentIdError('110105194912310021')).toMatch(/check character is wrong: "1" given.*"X"/);
  });

  it('accepts every generated number', () => {
    fc.assert(fc.property(residentId, (id) => isValidResidentId(id)));
  });

  it('rejects every single-character change', () => {
    fc.assert(fc.property(residentId, fc.nat(), fc.nat(), (id, i, p) => !isValidResidentId(mutate(id, i, p))), { numRuns: 2000 });
  });
});

describe('GB/T 36904 electronic licence identifier', () => {
  const vectors = [
    '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
    '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
    '1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9',
  ];

  it.each(vectors)('accepts the deployed identifier %s', (id) => {
    expect(licenceIdError(id)).toBeUndefined();
    const parts = parseLicenceId(id);
    expect([...'1.2.156.3005.2'.split('.'), parts.typeCode, parts.issuer, parts.serial, parts.version, parts.check].join('.')).toBe(id);
  });

  it('builds the same identifiers from their parts', () => {
    expect(buildLicenceId({ typeCode: '11100000000013338W011', issuer: '11430000006122244L', serial: '20230000403', version: '001' })).toBe(vectors[0]);
    expect(buildLicenceId({ typeCode: '11100000000013338W009', issuer: '11330105002500287C', serial: '2025052201', version: '002' })).toBe(vectors[1]);
  });

  it('computes MOD 37,36 as ISO/IEC 7064 defines it', () => {
    expect(mod37_36CheckChar('11100000MB03271699022340100000000016001')).toBe('9');
    expect(() => mod37_36CheckChar('a')).toThrow(RangeError);
  });

  it('refuses to build with an invalid issuer or version, naming the part', () => {
    expect(() => buildLicenceId({ typeCode: '11100000000013338W011', issuer: '11430000006122244M', serial: '1', version: '001' })).toThrow(
      /issuer "11430000006122244M" is not a valid unified social credit code/,
    );
    expect(() => buildLicenceId({ typeCode: '11100000000013338W011', issuer: '340100', serial: '1', version: '001' })).toThrow(/issuer "340100"/);
    expect(() => buildLicenceId({ typeCode: '11100000000013338W011', issuer: '11430000006122244L', serial: '1', version: '1' })).toThrow(/version "1" must be 3 digits/);
    expect(() => buildLicenceId({ typeCode: '11100000000013338X011', issuer: '11430000006122244L', serial: '1', version: '001' })).toThrow(/type code/);
  });

  it('explains a bad check character and a wrong shape', () => {
    expect(licenceIdError(vectors[0]!.slice(0, -1) + 'V')).toMatch(/"V" given, expected "U"/);
    expect(licenceIdError('1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U')).toMatch(/5 dot-separated parts/);
    expect(() => parseLicenceId('2.25.1')).toThrow(expect.objectContaining({ code: 'invalid-licence-id' }));
  });

  const parts = fc.record({
    typeCode: fc.tuple(creditCode, digits(3)).map(([c, d]) => c + d),
    issuer: creditCode,
    serial: fc.array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), { minLength: 1, maxLength: 20 }).map((a) => a.join('')),
    version: digits(3),
  });

  it('accepts and round-trips every generated identifier', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const id = buildLicenceId(p);
        const parsed = parseLicenceId(id);
        return isValidLicenceId(id) && parsed.typeCode === p.typeCode && parsed.issuer === p.issuer && parsed.serial === p.serial && parsed.version === p.version;
      }),
    );
  });

  it('rejects every single-character change', () => {
    fc.assert(fc.property(parts, fc.nat(), fc.nat(), (p, i, k) => !isValidLicenceId(mutate(buildLicenceId(p), i, k))), { numRuns: 3000 });
  });
});

describe('GB/T 7408 dates', () => {
  it('accepts real dates only', () => {
    expect(parseIsoDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseIsoDate('2023-02-29')).toBeUndefined();
    expect(parseIsoDate('1900-02-29')).toBeUndefined();
    expect(parseIsoDate('2000-02-29')).toBeDefined();
    expect(parseIsoDate('2024-13-01')).toBeUndefined();
    expect(parseIsoDate('2024-4-1')).toBeUndefined();
    expect(isRealDate(2024, 4, 31)).toBe(false);
    expect(isRealDate(1, 1, 1)).toBe(true);
  });

  it('writes the Chinese form with two-digit month and day', () => {
    expect(formatChineseDate({ year: 2025, month: 5, day: 2 })).toBe('2025年05月02日');
  });
});
