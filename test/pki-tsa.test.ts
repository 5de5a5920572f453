import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OneSealError } from '../src/errors.js';
import {
  ONESEAL_DEV_TSA_POLICY,
  createTimeStampResponse,
  createTimeStampToken,
  parseTimeStampRequest,
  timeStampRejection,
  timestampRequestFor,
} from '../src/pki/tsa.js';
import { type Ca, type Issued, type PkiFixture, openPkiFixture, openssl } from './pki-fixtures.js';

const TSA_SUBJECT = { country: 'CN', organization: 'OneSeal Dev', commonName: 'OneSeal 时间戳服务 (DEV)' };

let pki: PkiFixture;
let data: string;
const tsas: Record<string, { ca: Ca; tsa: Issued }> = {};

beforeAll(async () => {
  pki = await openPkiFixture();
  data = pki.write('document.bin', '盖章的文件内容 / document to stamp\n');
  tsas.rsa = { ca: pki.rsaRoot, tsa: await pki.issue(pki.rsaRoot, 'tsa', 'RSA-2048', TSA_SUBJECT, 'tsa-rsa') };
  tsas.p384 = { ca: pki.ecRoot, tsa: await pki.issue(pki.ecRoot, 'tsa', 'EC-P384', TSA_SUBJECT, 'tsa-p384') };
  tsas.p256 = { ca: pki.rsaRoot, tsa: await pki.issue(pki.rsaRoot, 'tsa', 'EC-P256', TSA_SUBJECT, 'tsa-p256') };
});
afterAll(async () => {
  await pki?.close();
});

function query(name: string, args: string[]): string {
  const path = `${pki.dir}/${name}.tsq`;
  const r = openssl(['ts', '-query', '-data', data, ...args, '-out', path]);
  expect(r.status).toBe(0);
  return path;
}

describe.each(['rsa', 'p384', 'p256'] as const)('%s TSA key', (family) => {
  it('answers an `openssl ts -query` request with a token openssl verifies against the data and the query', async () => {
    const { ca, tsa } = tsas[family]!;
    const reqPath = query(`q-${family}`, ['-sha256', '-cert']);
    const request = parseTimeStampRequest(readFileSync(reqPath));
    expect(request.messageImprint.hashAlgorithm).toBe('SHA-256');
    expect(Buffer.from(request.messageImprint.hash)).toEqual(createHash('sha256').update(readFileSync(data)).digest());
    expect(request.certReq).toBe(true);
    expect(request.nonce?.length).toBeGreaterThan(0);

    const genTime = new Date('2026-03-04T05:06:07Z');
    const resp = await createTimeStampResponse({
      ...request,
      tsa: { cert: tsa.cert, chain: [ca.cert], signer: tsa.key },
      genTime,
      serial: Buffer.from('0102030405', 'hex'),
      accuracySeconds: 1,
    });
    const respPath = pki.write(`r-${family}.tsr`, resp);
    expect(openssl(['ts', '-verify', '-in', respPath, '-data', data, '-CAfile', ca.pem, '-untrusted', tsa.pem]).out).toContain('Verification: OK');
    // Checks imprint, nonce and that the TSA certificate is in the token (certReq).
    expect(openssl(['ts', '-verify', '-in', respPath, '-queryfile', reqPath, '-CAfile', ca.pem]).out).toContain('Verification: OK');

    const text = openssl(['ts', '-reply', '-in', respPath, '-text']).out;
    expect(text).toContain('Status: Granted.');
    expect(text).toContain(`Policy OID: ${ONESEAL_DEV_TSA_POLICY}`);
    expect(text).toContain('Serial number: 0x0102030405');
    expect(text).toContain('Time stamp: Mar  4 05:06:07 2026 GMT');
    expect(text).toContain('Accuracy: 0x01 seconds');
    expect(text).toMatch(/TSA: DirName:.*OneSeal/);
  });

  it('changed data fails verification', async () => {
    const { ca, tsa } = tsas[family]!;
    const request = parseTimeStampRequest(readFileSync(query(`t-${family}`, ['-sha256', '-cert'])));
    const respPath = pki.write(`t-${family}.tsr`, await createTimeStampResponse({ ...request, tsa: { cert: tsa.cert, signer: tsa.key }, genTime: new Date() }));
    const other = pki.write('other.bin', 'something else');
    const r = openssl(['ts', '-verify', '-in', respPath, '-data', other, '-CAfile', ca.pem, '-untrusted', tsa.pem]);
    expect(r.out).not.toContain('Verification: OK');
    expect(r.out).toContain('message imprint mismatch');
  });
});

describe('time-stamp requests', () => {
  it('without certReq the token carries no certificates, and still verifies given the TSA certificate', async () => {
    const { ca, tsa } = tsas.rsa!;
    const reqPath = query('nocert', ['-sha512', '-no_nonce']);
    const request = parseTimeStampRequest(readFileSync(reqPath));
    expect(request).toMatchObject({ certReq: false, messageImprint: { hashAlgorithm: 'SHA-512' } });
    expect(request.nonce).toBeUndefined();
    const respPath = pki.write('nocert.tsr', await createTimeStampResponse({ ...request, tsa: { cert: tsa.cert, signer: tsa.key }, genTime: new Date() }));
    // Without -untrusted openssl has no way to find the signer: proof the certificate is absent.
    expect(openssl(['ts', '-verify', '-in', respPath, '-queryfile', reqPath, '-CAfile', ca.pem]).out).not.toContain('Verification: OK');
    expect(openssl(['ts', '-verify', '-in', respPath, '-queryfile', reqPath, '-CAfile', ca.pem, '-untrusted', tsa.pem]).out).toContain('Verification: OK');
  });

  it('timestampRequestFor builds requests openssl reads and our parser round-trips', () => {
    const bytes = new Uint8Array(readFileSync(data));
    const der = timestampRequestFor({ data: bytes, hashAlgorithm: 'SHA-384', nonce: Buffer.from('ff00ff', 'hex') });
    const text = openssl(['ts', '-query', '-in', pki.write('own.tsq', der), '-text']).out;
    expect(text).toContain('Hash Algorithm: sha384');
    expect(text).toContain('Nonce: 0xFF00FF');
    expect(text).toContain('Certificate required: yes');
    const parsed = parseTimeStampRequest(der);
    expect(Buffer.from(parsed.messageImprint.hash)).toEqual(createHash('sha384').update(bytes).digest());
    // The nonce INTEGER gets a sign byte; echoing the received contents keeps it identical.
    expect(Buffer.from(parsed.nonce!).toString('hex')).toBe('00ff00ff');
  });

  it('rejects SHA-1 requests with badAlg, and the rejection response reads as such in openssl', () => {
    let err: unknown;
    try {
      parseTimeStampRequest(readFileSync(query('sha1', ['-sha1'])));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OneSealError);
    expect(err).toMatchObject({ code: 'unsupported-hash-algorithm', kind: 'bad-request', extra: { failInfo: 'badAlg' } });
    expect((err as Error).message).toContain('SHA-256, SHA-384 and SHA-512');
    const text = openssl(['ts', '-reply', '-in', pki.write('rej.tsr', timeStampRejection('badAlg', (err as Error).message)), '-text']).out;
    expect(text).toContain('Status: Rejected');
    expect(text).toContain('unrecognized or unsupported algorithm identifier');
    expect(text).toContain('SHA-1 is too weak');
  });

  it('rejects a request for another policy and a malformed body', async () => {
    const { tsa } = tsas.rsa!;
    const request = parseTimeStampRequest(readFileSync(query('policy', ['-sha256', '-tspolicy', '1.2.3.4'])));
    expect(request.requestedPolicy).toBe('1.2.3.4');
    await expect(
      createTimeStampToken({ ...request, tsa: { cert: tsa.cert, signer: tsa.key }, genTime: new Date() }),
    ).rejects.toMatchObject({ code: 'unaccepted-timestamp-policy', extra: { failInfo: 'unacceptedPolicy' } });
    expect(() => parseTimeStampRequest(new Uint8Array([0x30, 0x01]))).toThrow(expect.objectContaining({ code: 'malformed-timestamp-request' }));
  });
});
