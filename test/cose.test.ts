/**
 * src/cose: the deterministic CBOR subset and COSE_Sign1, against cbor-x as an independent codec and
 * against the inputs a strict reader must refuse (each would give one payload two readings).
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, CborTag, decodeCbor, encodeCbor, type CborValue } from '../src/cose/cbor.js';
import { createSign1, parseSign1 } from '../src/cose/sign1.js';
import { ecdsaDerToRaw } from '../src/hsm/signature-encoding.js';

const other = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('deterministic CBOR', () => {
  it('writes the RFC 8949 appendix A examples', () => {
    expect(Buffer.from(encodeCbor(0)).toString('hex')).toBe('00');
    expect(Buffer.from(encodeCbor(23)).toString('hex')).toBe('17');
    expect(Buffer.from(encodeCbor(24)).toString('hex')).toBe('1818');
    expect(Buffer.from(encodeCbor(1000)).toString('hex')).toBe('1903e8');
    expect(Buffer.from(encodeCbor(1000000)).toString('hex')).toBe('1a000f4240');
    expect(Buffer.from(encodeCbor(1000000000000)).toString('hex')).toBe('1b000000e8d4a51000');
    expect(Buffer.from(encodeCbor(-1000)).toString('hex')).toBe('3903e7');
    expect(Buffer.from(encodeCbor('\u6c34')).toString('hex')).toBe('63e6b0b4');
    expect(Buffer.from(encodeCbor([1, [2, 3], [4, 5]])).toString('hex')).toBe('8301820203820405');
  });

  it('sorts map keys by their encoding, whatever order they were set in', () => {
    const a = encodeCbor(new Map<string | number, CborValue>([['pdf', 1], ['id', 2], ['holderId', 3], [4, 4], [1, 5]]));
    const b = encodeCbor(new Map<string | number, CborValue>([[1, 5], [4, 4], ['id', 2], ['pdf', 1], ['holderId', 3]]));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).toString('hex')).toBe('a50105040462696402637064660168686f6c646572496403');
  });

  it('round-trips text maps and agrees with cbor-x both ways', () => {
    // Integer-like keys are left out: JS objects put them first whatever order they were given in. So is
    // `__proto__`: cbor-x renames it to `__proto_` when it decodes into an object (ours decodes into a Map).
    const record = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !/^\d+$/.test(k) && k !== '__proto__'), fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 40 })), { maxKeys: 10 });
    fc.assert(fc.property(record, (obj) => {
      const ours = encodeCbor(new Map(Object.entries(obj)));
      const decoded = decodeCbor(ours) as Map<string, CborValue>;
      expect(Object.fromEntries(decoded)).toEqual(obj);
      expect(other.decode(ours)).toEqual(obj);
      // cbor-x does not sort keys; once sorted by encoding its bytes are ours.
      const sorted = Object.fromEntries(Object.entries(obj).sort(([x], [y]) => Buffer.compare(Buffer.from(encodeCbor(x)), Buffer.from(encodeCbor(y)))));
      expect(Buffer.from(other.encode(sorted)).equals(Buffer.from(ours))).toBe(true);
    }), { numRuns: 200 });
  });

  it.each([
    ['a non-shortest integer', '1817'],
    ['a non-shortest length', '5801ff'],
    ['an indefinite-length array', '9f01ff'],
    ['a float', 'f93c00'],
    ['an undefined', 'f7'],
    ['duplicate map keys', 'a2616101616102'],
    ['unsorted map keys', 'a2616202616101'],
    ['a byte-string map key', 'a1410001'],
    ['trailing bytes', '0000'],
    ['invalid UTF-8', '62c328'],
    ['a length past the end', '5a ffffffff 00'],
    ['nesting deeper than 16', '81'.repeat(40) + '00'],
  ])('refuses %s', (_, bytes) => {
    expect(() => decodeCbor(hex(bytes))).toThrow(CborError);
  });
});

describe('COSE_Sign1', () => {
  it('signs {1: -7, 4: kid} over Sig_structure; the signature verifies and any change is seen by parse', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = hex('0102030405060708');
    const message = await createSign1(encodeCbor(new Map([['id', 'x']])), kid, async (tbs) => nodeSign('sha256', tbs, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    expect(message[0]).toBe(0xd2);
    const parsed = parseSign1(message);
    expect(Buffer.from(parsed.kid).toString('hex')).toBe('0102030405060708');
    const { verify } = await import('node:crypto');
    expect(verify('sha256', parsed.toBeSigned, { key: publicKey, dsaEncoding: 'ieee-p1363' }, parsed.signature)).toBe(true);
    expect(() => parseSign1(encodeCbor(new CborTag(17, [])))).toThrow(/not COSE_Sign1/);
    const withUnprotected = decodeCbor(message) as CborTag;
    (withUnprotected.value as CborValue[])[1] = new Map([[4, kid]]);
    expect(() => parseSign1(encodeCbor(withUnprotected))).toThrow(/no unprotected header/);
  });

  it('turns DER ECDSA signatures into r‖s of fixed width, leading zeros kept', () => {
    const der = hex(`3045 0221 00${'ff'.repeat(31)}7f 0220 ${'01'.repeat(32)}`.replace(/ /g, ''));
    const raw = ecdsaDerToRaw(der, 32);
    expect(raw).toHaveLength(64);
    expect(Buffer.from(raw.subarray(0, 32)).toString('hex')).toBe(`${'ff'.repeat(31)}7f`);
    expect(Buffer.from(ecdsaDerToRaw(hex(`3006 0201 05 0201 06`.replace(/ /g, '')), 32)).toString('hex')).toBe(`${'00'.repeat(31)}05${'00'.repeat(31)}06`);
  });
});
