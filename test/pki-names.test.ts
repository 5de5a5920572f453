import { describe, expect, it } from 'vitest';
import { derToPem } from '../src/pki/der.js';
import { buildName, formatName, organizationIdentifierForCreditCode, parseName } from '../src/pki/names.js';
import { openssl } from './pki-fixtures.js';

describe('names', () => {
  const fields = {
    country: 'CN',
    province: '浙江省',
    locality: '杭州市',
    organization: '杭州市西湖区人民政府',
    organizationalUnit: '办公室',
    organizationIdentifier: 'NTRCN-11330105002500287C',
    serialNumber: '11330105002500287C',
    commonName: '杭州市西湖区人民政府行政审批专用章',
  };

  it('round-trips every attribute, Chinese intact, one attribute per RDN', () => {
    const name = buildName(fields);
    expect(parseName(name)).toEqual(fields);
    const der = new Uint8Array(name.toSchema().toBER());
    const asn = openssl(['asn1parse', '-inform', 'PEM'], Buffer.from(derToPem(der, 'NAME'))).out;
    // C and serialNumber are PrintableString (X.520), the rest UTF8String; eight single-valued RDNs.
    expect(asn.match(/cons: SET/g)).toHaveLength(8);
    expect(asn).toMatch(/:countryName\n.*PRINTABLESTRING\s+:CN/);
    expect(asn).toMatch(/:serialNumber\n.*PRINTABLESTRING\s+:11330105002500287C/);
    expect(asn).toMatch(/:organizationIdentifier\n.*UTF8STRING/);
    expect(asn.match(/UTF8STRING/g)).toHaveLength(6);
    expect(formatName(name)).toBe(
      'CN=杭州市西湖区人民政府行政审批专用章, serialNumber=11330105002500287C, organizationIdentifier=NTRCN-11330105002500287C, OU=办公室, O=杭州市西湖区人民政府, L=杭州市, ST=浙江省, C=CN',
    );
  });

  it('derives the ETSI organizationIdentifier from a unified social credit code', () => {
    expect(organizationIdentifierForCreditCode('91110000802100433B')).toBe('NTRCN-91110000802100433B');
    // O, I, S, V, Z are not in the GB 32100 alphabet.
    expect(() => organizationIdentifierForCreditCode('91110000802100433O')).toThrow(expect.objectContaining({ code: 'invalid-credit-code' }));
    expect(() => organizationIdentifierForCreditCode('9111000080210043')).toThrow(expect.objectContaining({ code: 'invalid-credit-code' }));
    // The check character is verified too (GB 32100), so a typo cannot reach a certificate.
    expect(() => organizationIdentifierForCreditCode('91110000802100433C')).toThrow(/check character is wrong/);
  });

  it('rejects values validators would choke on, with the attribute named', () => {
    expect(() => buildName({ country: 'China' })).toThrow(/C must be a two-letter/);
    expect(() => buildName({ serialNumber: '编号1' })).toThrow(/serialNumber may only contain/);
    expect(() => buildName({ commonName: '章'.repeat(65) })).toThrow(/CN must be at most 64/);
    expect(() => buildName({})).toThrow(expect.objectContaining({ code: 'invalid-name', kind: 'unprocessable' }));
  });
});
