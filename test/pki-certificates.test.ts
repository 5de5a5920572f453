import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, selfSignCertificate } from '../src/pki/certificates.js';
import { derToPem, serialHex, toCertificate } from '../src/pki/der.js';
import { isDevRootCertificate } from '../src/pki/dev-root.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { formatName, organizationIdentifierForCreditCode, parseName } from '../src/pki/names.js';
import { type PkiFixture, openPkiFixture, openssl } from './pki-fixtures.js';

const SEAL_SUBJECT = {
  country: 'CN',
  organization: '北京市朝阳区市场监督管理局',
  organizationalUnit: '行政审批科',
  organizationIdentifier: organizationIdentifierForCreditCode('11330105002500287C'),
  commonName: '北京市朝阳区市场监督管理局行政审批专用章',
};

let pki: PkiFixture;
beforeAll(async () => {
  pki = await openPkiFixture();
});
afterAll(async () => {
  await pki?.close();
});

describe('dev root CA (keys-dev)', () => {
  it('is a self-signed RSA-3072 CA with the documented subject and critical CA extensions', () => {
    const { rsaRoot } = pki;
    expect(openssl(['verify', '-CAfile', rsaRoot.pem, rsaRoot.pem])).toMatchObject({ status: 0 });
    const text = openssl(['x509', '-in', rsaRoot.pem, '-noout', '-text', '-nameopt', 'utf8']).out;
    expect(text).toContain('Subject: C=CN, O=OneSeal Dev, CN=OneSeal Development Root CA (DEV ONLY, NOT TRUSTED)');
    expect(text).toContain('Public-Key: (3072 bit)');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('Subject Key Identifier');
  });

  it('is recognised as the dev root (so production can refuse it), and other roots are not', () => {
    expect(isDevRootCertificate(pki.rsaRoot.cert)).toBe(true);
    expect(isDevRootCertificate(pki.ecRoot.cert)).toBe(false);
  });
});

describe('issueCertificate', () => {
  it.each([
    ['RSA root, EC P-256 seal', 'rsa', 'EC-P256'],
    ['EC P-384 root, RSA-2048 seal', 'ec', 'RSA-2048'],
  ] as const)('%s: verifies with openssl and keeps the Chinese subject intact', async (_label, root, algorithm) => {
    const ca = root === 'rsa' ? pki.rsaRoot : pki.ecRoot;
    const seal = await pki.issue(ca, 'seal', algorithm, SEAL_SUBJECT, `seal-${root}`);
    expect(openssl(['verify', '-CAfile', ca.pem, '-purpose', 'any', seal.pem]).out).toContain(`${seal.pem}: OK`);
    // NSS and Acrobat treat a signer certificate like an S/MIME one; OpenSSL's smimesign purpose is the same test.
    expect(openssl(['verify', '-CAfile', ca.pem, '-purpose', 'smimesign', seal.pem]).status).toBe(0);

    const subject = openssl(['x509', '-in', seal.pem, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus_space']).out;
    expect(subject.trim()).toBe(
      'subject=C=CN, O=北京市朝阳区市场监督管理局, OU=行政审批科, organizationIdentifier=NTRCN-11330105002500287C, CN=北京市朝阳区市场监督管理局行政审批专用章',
    );
    const text = openssl(['x509', '-in', seal.pem, '-noout', '-text']).out;
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    expect(text).toMatch(/Extended Key Usage: \s+1\.3\.6\.1\.5\.5\.7\.3\.36, E-mail Protection/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain('OCSP - URI:http://127.0.0.1/ocsp');
    expect(text).toContain('CA Issuers - URI:http://127.0.0.1/ca/root.cer');
    expect(text).toContain('URI:http://127.0.0.1/crl/root.crl');
    const rootSki = /Subject Key Identifier: \s+([0-9A-F:]+)/.exec(openssl(['x509', '-in', ca.pem, '-noout', '-text']).out)![1];
    expect(text).toMatch(new RegExp(`Authority Key Identifier: \\s+(keyid:)?${rootSki}`));
    expect(serialHex(toCertificate(seal.cert))).toMatch(/^[4-7][0-9a-f]{31}$/);

    // pdfsig validates with NSS as an e-mail signer, which needs emailProtection when an EKU is present.
    const nss = `${pki.dir}/nss-${root}`;
    mkdirSync(nss);
    execFileSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
    execFileSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'root', '-t', 'CT,C,C', '-i', ca.pem]);
    execFileSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'seal', '-t', ',,', '-i', seal.pem]);
    expect(execFileSync('certutil', ['-V', '-u', 'S', '-n', 'seal', '-d', `sql:${nss}`], { encoding: 'utf8' })).toContain('certificate is valid');
  });

  it('tsa profile: critical timeStamping-only EKU, accepted for the timestampsign purpose', async () => {
    const tsa = await pki.issue(pki.rsaRoot, 'tsa', 'RSA-2048', { country: 'CN', organization: 'OneSeal Dev', commonName: 'OneSeal Dev TSA' }, 'tsa');
    expect(openssl(['verify', '-CAfile', pki.rsaRoot.pem, '-purpose', 'timestampsign', tsa.pem]).status).toBe(0);
    const text = openssl(['x509', '-in', tsa.pem, '-noout', '-text']).out;
    expect(text).toMatch(/Extended Key Usage: critical\s+Time Stamping\n/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
  });

  it('ocsp profile: OCSP Signing EKU and ocsp-nocheck', async () => {
    const ocsp = await pki.issue(pki.ecRoot, 'ocsp', 'EC-P256', { country: 'CN', organization: 'OneSeal Test', commonName: 'OCSP' }, 'ocsp');
    const text = openssl(['x509', '-in', ocsp.pem, '-noout', '-text']).out;
    expect(text).toMatch(/Extended Key Usage: \s+OCSP Signing/);
    expect(text).toContain('OCSP No Check');
    expect(openssl(['verify', '-CAfile', pki.ecRoot.pem, '-purpose', 'ocsphelper', ocsp.pem]).status).toBe(0);
  });

  it('ca profile: a subordinate CA with pathlen 0 whose seal certificates chain to the root', async () => {
    const sub = await pki.issue(pki.rsaRoot, 'ca', 'EC-P384', { country: 'CN', organization: 'OneSeal Dev', commonName: 'OneSeal Dev Seal CA' }, 'sub');
    const seal = await pki.issue({ ...sub, signer: sub.key }, 'seal', 'EC-P256', SEAL_SUBJECT, 'seal-sub');
    expect(openssl(['verify', '-CAfile', pki.rsaRoot.pem, '-untrusted', sub.pem, seal.pem]).out).toContain(': OK');
    // Without the intermediate the chain must not build: the seal is really issued by the sub-CA.
    expect(openssl(['verify', '-CAfile', pki.rsaRoot.pem, seal.pem]).status).not.toBe(0);
  });

  it('parses the subject back with names.ts', async () => {
    const seal = await pki.issue(pki.ecRoot, 'seal', 'EC-P256', SEAL_SUBJECT, 'seal-parse');
    const cert = toCertificate(seal.cert);
    expect(parseName(cert.subject)).toEqual(SEAL_SUBJECT);
    expect(formatName(cert.subject)).toBe(
      'CN=北京市朝阳区市场监督管理局行政审批专用章, organizationIdentifier=NTRCN-11330105002500287C, OU=行政审批科, O=北京市朝阳区市场监督管理局, C=CN',
    );
  });

  it('refuses a signer that is not the issuer certificate key', async () => {
    const err = await issueCertificate({
      ...pki.validity,
      issuer: { cert: pki.rsaRoot.cert, signer: pki.ecRoot.signer },
      subjectSpki: pki.ecRoot.signer.spki,
      subject: { commonName: 'x' },
      profile: 'seal',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'OneSealError', code: 'signer-key-mismatch' });
  });

  it('refuses a certificate that would outlive its issuer', async () => {
    const issuerEnd = toCertificate(pki.ecRoot.cert).notAfter.value;
    const err = await issueCertificate({
      notBefore: pki.validity.notBefore,
      notAfter: new Date(issuerEnd.getTime() + 1000),
      issuer: { cert: pki.ecRoot.cert, signer: pki.ecRoot.signer },
      subjectSpki: pki.rsaRoot.signer.spki,
      subject: { commonName: 'x' },
      profile: 'seal',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'validity-exceeds-issuer', kind: 'unprocessable' });
  });

  it('uses GeneralizedTime for dates from 2050 (RFC 5280 4.1.2.5)', async () => {
    const cert = await selfSignCertificate({
      notBefore: new Date('2049-12-31T23:00:00Z'),
      notAfter: new Date('2050-01-02T00:00:00Z'),
      signer: pki.ecRoot.signer,
      subject: { commonName: 'far future' },
    });
    const asn = openssl(['asn1parse', '-inform', 'PEM'], Buffer.from(derToPem(cert, 'CERTIFICATE'))).out;
    expect(asn).toMatch(/UTCTIME\s+:491231230000Z/);
    expect(asn).toMatch(/GENERALIZEDTIME\s+:20500102000000Z/);
  });
});
