import { generateKeyPairSync, sign, verify } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { ecdsaDerToRaw, ecdsaRawToDer } from '../src/hsm/signature-encoding.js';
import { PdfString } from '../src/pdf/objects.js';
import { serialize, zeroFilledHexString } from '../src/pdf/serialize.js';
import { readTlv, tlv } from '../src/signing/der.js';

describe('tlv', () => {
  it.each([0, 1, 127, 128, 255, 256, 65_535, 65_536, 70_000])('encodes %i content bytes with the minimal length form asn1js reads back', (n) => {
    const content = Buffer.alloc(n, 0x5a);
    const der = tlv(0x04, content.subarray(0, Math.floor(n / 3)), content.subarray(Math.floor(n / 3)));
    const reference = Buffer.from(new asn1js.OctetString({ valueHex: content }).toBER());
    expect(der.equals(reference)).toBe(true);
    const t = readTlv(der, 0);
    expect(t.end).toBe(der.length);
    expect(t.end - t.contentStart).toBe(n);
  });
});

describe('ecdsaRawToDer', () => {
  it.each([
    ['a high r and a short s', '80' + '11'.repeat(31), '00'.repeat(30) + '7f01', '3027022100' + '80' + '11'.repeat(31) + '02027f01'],
    ['a zero s', '01'.repeat(32), '00'.repeat(32), '3025022001' + '01'.repeat(31) + '020100'],
    ['an s whose first non-zero byte is high', '7f'.repeat(32), '00'.repeat(31) + 'ff', '30260220' + '7f'.repeat(32) + '020200ff'],
  ])('writes %s as minimal INTEGERs', (_case, r, s, expected) => {
    expect(ecdsaRawToDer(Buffer.from(r + s, 'hex')).toString('hex')).toBe(expected);
  });

  it.each([
    ['prime256v1', 32],
    ['secp384r1', 48],
    ['secp521r1', 66],
  ] as const)('turns %s r‖s signatures into DER that node verifies, and back', (namedCurve, size) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    // Enough signatures that some have a high r or s, and P-521's SEQUENCE needs the long length form.
    for (let i = 0; i < 64; i++) {
      const data = Buffer.from(`document ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      expect(Buffer.from(ecdsaDerToRaw(der, size)).equals(raw)).toBe(true);
    }
  });
});

describe('hex strings', () => {
  it('writes a zero-filled placeholder as hex zeros, and again after one was filled in its output', () => {
    const first = serialize(zeroFilledHexString(300));
    expect(first.toString('latin1')).toBe(`<${'0'.repeat(600)}>`);
    first.fill(0x41, 1, 601);
    expect(serialize(zeroFilledHexString(300)).toString('latin1')).toBe(`<${'0'.repeat(600)}>`);
  });

  it('writes any other hex string as its own bytes, whatever its length', () => {
    const bytes = new Uint8Array(300);
    expect(serialize(new PdfString(bytes, true)).toString('latin1')).toBe(`<${'00'.repeat(300)}>`);
    bytes[299] = 0xab;
    serialize(zeroFilledHexString(300));
    expect(serialize(new PdfString(bytes, true)).toString('latin1')).toBe(`<${'00'.repeat(299)}ab>`);
  });
});
