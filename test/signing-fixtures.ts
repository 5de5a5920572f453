import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Hsm, HsmKey } from '../src/hsm/hsm.js';
import type { KeyAlgorithm } from '../src/hsm/types.js';
import { issueCertificate, selfSignCertificate, type CertificateProfile } from '../src/pki/certificates.js';
import type { NameFields } from '../src/pki/names.js';
import { createCrl } from '../src/pki/crl.js';
import { derToPem } from '../src/pki/der.js';
import { ocspResponseForCertificate } from '../src/pki/ocsp.js';
import { createTimeStampToken } from '../src/pki/tsa.js';
import { readTlv } from '../src/signing/der.js';
import { timestampTokenSizeBound } from '../src/signing/placeholder.js';
import type { RevocationSource, Timestamper } from '../src/signing/sign-pdf.js';
import { openTestHsm, type TestToken } from './support/token.js';

/** A small CA hierarchy on the test token: root → intermediate → seal certificates. */
export interface TestPki {
  root: { cert: Uint8Array; key: HsmKey };
  intermediate: { cert: Uint8Array; key: HsmKey };
  /** Temp directory holding root.pem and an NSS database trusting the root. */
  dir: string;
  rootPem: string;
  nssDir: string;
  seal(algorithm: KeyAlgorithm): Promise<{ key: HsmKey; cert: Uint8Array; chain: Uint8Array[] }>;
  /** A new EC-P256 key on the token and a certificate of this profile for it from the intermediate CA, valid for a day. */
  issue(label: string, profile: CertificateProfile, subject: NameFields): Promise<{ key: HsmKey; cert: Uint8Array; chain: Uint8Array[] }>;
  /** Removes the temp directory (PDFs, signatures, NSS database written by the tests). */
  dispose(): void;
  tsa: { cert: Uint8Array; key: HsmKey };
  /** A Timestamper backed by pki/tsa with the test TSA; counts its calls. */
  timestamper: Timestamper & { calls: Uint8Array[] };
  /** OCSP responses (from each issuing CA) and a CRL per CA, made with pki/ocsp and pki/crl. */
  revocation: RevocationSource;
}

const YEAR = 365 * 24 * 3600 * 1000;

/**
 * Gives the test file a fresh SoftHSM token and test PKI before its tests and removes both after:
 * `useTestPki((p) => { pki = p; })` (the token comes second, for tests that need it).
 */
export function useTestPki(set: (pki: TestPki, token: TestToken) => void): void {
  let token: TestToken | undefined;
  let pki: TestPki | undefined;
  beforeAll(async () => {
    token = await openTestHsm();
    pki = await makeTestPki(token.hsm);
    set(pki, token);
  });
  afterAll(async () => {
    pki?.dispose();
    await token?.close();
  });
}

export async function makeTestPki(hsm: Hsm): Promise<TestPki> {
  const now = Math.floor(Date.now() / 1000) * 1000;
  const validity = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 5 * YEAR) };
  const rootKey = await hsm.generateKeyPair({ label: 'test-root', algorithm: 'EC-P256' });
  const rootCert = await selfSignCertificate({
    ...validity,
    signer: rootKey,
    subject: { country: 'CN', organization: 'OneSeal Test', commonName: 'OneSeal Test Root CA' },
  });
  const intKey = await hsm.generateKeyPair({ label: 'test-int', algorithm: 'EC-P384' });
  const intCert = await issueCertificate({
    ...validity,
    issuer: { cert: rootCert, signer: rootKey },
    subjectSpki: intKey.spki,
    subject: { country: 'CN', organization: 'OneSeal Test', commonName: 'OneSeal Test Seal CA' },
    profile: 'ca',
    pathLength: 0,
  });
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-signing-'));
  const rootPem = join(dir, 'root.pem');
  writeFileSync(rootPem, derToPem(rootCert, 'CERTIFICATE'));
  const nssDir = join(dir, 'nss');
  mkdirSync(nssDir);
  execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${nssDir}`, '-n', 'root', '-t', 'CT,C,C', '-i', rootPem]);
  const tsaKey = await hsm.generateKeyPair({ label: 'test-tsa', algorithm: 'RSA-2048' });
  const tsaCert = await issueCertificate({
    ...validity,
    issuer: { cert: rootCert, signer: rootKey },
    subjectSpki: tsaKey.spki,
    subject: { country: 'CN', organization: 'OneSeal Test', commonName: 'OneSeal Test TSA' },
    profile: 'tsa',
  });
  const calls: Uint8Array[] = [];
  const timestamper = {
    calls,
    maxTokenSize: timestampTokenSizeBound([tsaCert, rootCert]),
    async stamp(sha256: Uint8Array): Promise<Uint8Array> {
      calls.push(sha256);
      return createTimeStampToken({
        messageImprint: { hashAlgorithm: 'SHA-256', hash: sha256 },
        certReq: true,
        tsa: { cert: tsaCert, chain: [rootCert], signer: tsaKey },
        genTime: new Date(),
      });
    },
  };
  const cas = [
    { cert: rootCert, key: rootKey },
    { cert: intCert, key: intKey },
  ];
  const subjectOf = (der: Uint8Array): string => new X509Certificate(der).subject;
  const issuerOf = (der: Uint8Array): string => new X509Certificate(der).issuer;
  const revocation: RevocationSource = {
    async forCerts(certs) {
      const now = new Date();
      const ocsps: Uint8Array[] = [];
      const crls: Uint8Array[] = [];
      for (const cert of certs) {
        if (subjectOf(cert) === issuerOf(cert)) continue; // a root is trusted, not checked
        const ca = cas.find((c) => subjectOf(c.cert) === issuerOf(cert))!;
        ocsps.push(
          await ocspResponseForCertificate({
            cert,
            issuer: ca.cert,
            status: { status: 'good' },
            responder: { cert: ca.cert, signer: ca.key },
            producedAt: now,
            nextUpdate: new Date(now.getTime() + 7 * 24 * 3600_000),
          }),
        );
      }
      for (const ca of cas) {
        crls.push(
          await createCrl({
            issuer: { cert: ca.cert, signer: ca.key },
            revoked: [],
            thisUpdate: now,
            nextUpdate: new Date(now.getTime() + 7 * 24 * 3600_000),
            crlNumber: 1,
          }),
        );
      }
      return { ocsps, crls };
    },
  };
  const seals = new Map<KeyAlgorithm, { key: HsmKey; cert: Uint8Array; chain: Uint8Array[] }>();
  return {
    root: { cert: rootCert, key: rootKey },
    intermediate: { cert: intCert, key: intKey },
    dir,
    rootPem,
    nssDir,
    tsa: { cert: tsaCert, key: tsaKey },
    timestamper,
    revocation,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
    async seal(algorithm) {
      let s = seals.get(algorithm);
      if (!s) {
        const key = await hsm.generateKeyPair({ label: `test-seal-${algorithm}`, algorithm });
        const cert = await issueCertificate({
          ...validity,
          issuer: { cert: intCert, signer: intKey },
          subjectSpki: key.spki,
          subject: { country: 'CN', organization: '测试单位', commonName: `测试专用章 ${algorithm}` },
          profile: 'seal',
        });
        s = { key, cert, chain: [intCert, rootCert] };
        seals.set(algorithm, s);
      }
      return s;
    },
    async issue(label, profile, subject) {
      const key = await hsm.generateKeyPair({ label, algorithm: 'EC-P256' });
      const at = Date.now();
      const cert = await issueCertificate({ notBefore: new Date(at - 3600_000), notAfter: new Date(at + 24 * 3600_000), issuer: { cert: intCert, signer: intKey }, subjectSpki: key.spki, subject, profile });
      return { key, cert, chain: [intCert, rootCert] };
    },
  };
}

/** Runs a tool and returns stdout+stderr with its exit status, for assertions on the tool's verdict. */
export function run(cmd: string, args: string[], input?: Uint8Array): { status: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'latin1' });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function writeTemp(dir: string, name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** A plain PDF made by pdf-lib: classic xref table, or xref stream + object streams. */
export async function makePdf(options: { pages?: number; objectStreams?: boolean } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < (options.pages ?? 2); i++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`OneSeal test page ${i + 1}`, { x: 50, y: 780, size: 18, font });
  }
  return doc.save({ useObjectStreams: options.objectStreams ?? false });
}

/** Rewrites a PDF through qpdf so that objects live in object streams behind an xref stream. */
export function qpdfObjectStreams(dir: string, pdf: Uint8Array): Uint8Array {
  const src = writeTemp(dir, `qin-${Date.now()}-${Math.random()}.pdf`, pdf);
  const dst = `${src}.out.pdf`;
  execFileSync('qpdf', ['--object-streams=generate', src, dst]);
  return readFileSync(dst);
}

/** The /Contents bytes a ByteRange leaves out (hex decoded, padding included). */
export function gapBytes(pdf: Uint8Array, byteRange: number[]): Buffer {
  const hex = Buffer.from(pdf.subarray(byteRange[1]! + 1, byteRange[2]! - 1)).toString('latin1');
  return Buffer.from(hex, 'hex');
}

/** Verifies a signature's CMS over its byte ranges with `openssl cms -verify` against the test root. */
export function opensslVerify(pki: TestPki, pdf: Uint8Array, byteRange: number[], name: string): { status: number; out: string } {
  const [a, b, c, d] = byteRange as [number, number, number, number];
  const signed = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
  const cms = gapBytes(pdf, byteRange);
  const sig = writeTemp(pki.dir, `${name}.p7s`, trimDer(cms));
  const content = writeTemp(pki.dir, `${name}.bin`, signed);
  return run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', content, '-CAfile', pki.rootPem, '-purpose', 'any', '-out', '/dev/null']);
}

/** The DER object at the start of zero-padded bytes. */
export function trimDer(bytes: Uint8Array): Uint8Array {
  const t = readTlv(bytes, 0);
  return bytes.subarray(0, t.end);
}

export function pdfsig(pki: TestPki, pdf: Uint8Array, name: string): string {
  const p = writeTemp(pki.dir, `${name}.pdf`, pdf);
  return run('pdfsig', ['-nssdir', `sql:${pki.nssDir}`, p]).out;
}

export function qpdfCheck(pki: TestPki, pdf: Uint8Array, name: string): { status: number; out: string } {
  const p = writeTemp(pki.dir, `${name}-check.pdf`, pdf);
  return run('qpdf', ['--check', p]);
}

/** pdfsig's per-signature blocks ("Signature #1:" …). */
export function pdfsigBlocks(out: string): string[] {
  return out.split(/^Signature #\d+:$/m).slice(1);
}
