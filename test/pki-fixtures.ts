import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HsmKey } from '../src/hsm/hsm.js';
import type { KeyAlgorithm } from '../src/hsm/types.js';
import { type CertificateProfile, issueCertificate, selfSignCertificate } from '../src/pki/certificates.js';
import { derToPem } from '../src/pki/der.js';
import { loadDevRoot } from '../src/pki/dev-root.js';
import type { NameFields } from '../src/pki/names.js';
import { openTestHsm, type TestToken } from './support/token.js';

export interface Ca {
  cert: Uint8Array;
  signer: HsmKey;
  /** Path of the PEM certificate in the fixture directory. */
  pem: string;
}

export interface Issued {
  cert: Uint8Array;
  key: HsmKey;
  pem: string;
}

/**
 * Two CAs on a fresh SoftHSM token: the committed RSA-3072 dev root (imported, as dev setup does) and an
 * EC P-384 root generated on the token, so every test can run against both signature families.
 */
export interface PkiFixture {
  token: TestToken;
  dir: string;
  rsaRoot: Ca;
  ecRoot: Ca;
  validity: { notBefore: Date; notAfter: Date };
  issue(ca: Ca, profile: CertificateProfile, algorithm: KeyAlgorithm, subject: NameFields, name: string): Promise<Issued>;
  write(name: string, data: Uint8Array | string): string;
  close(): Promise<void>;
}

const YEAR = 365 * 24 * 3600 * 1000;

export async function openPkiFixture(): Promise<PkiFixture> {
  const token = await openTestHsm();
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-pki-'));
  const write = (name: string, data: Uint8Array | string): string => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };
  const now = Math.floor(Date.now() / 1000) * 1000;
  const validity = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 2 * YEAR) };

  const dev = loadDevRoot();
  const devKey = await token.hsm.importPrivateKey({ label: 'dev-root', pkcs8: dev.keyPkcs8 });
  const rsaRoot = { cert: dev.certDer, signer: devKey, pem: write('rsa-root.pem', derToPem(dev.certDer, 'CERTIFICATE')) };

  const ecKey = await token.hsm.generateKeyPair({ label: 'ec-root', algorithm: 'EC-P384' });
  const ecCert = await selfSignCertificate({
    notBefore: validity.notBefore,
    notAfter: new Date(now + 10 * YEAR),
    signer: ecKey,
    subject: { country: 'CN', organization: 'OneSeal Test', commonName: 'OneSeal Test EC Root' },
  });
  const ecRoot = { cert: ecCert, signer: ecKey, pem: write('ec-root.pem', derToPem(ecCert, 'CERTIFICATE')) };

  return {
    token,
    dir,
    rsaRoot,
    ecRoot,
    validity,
    write,
    async issue(ca, profile, algorithm, subject, name) {
      const key = await token.hsm.generateKeyPair({ label: name, algorithm });
      const cert = await issueCertificate({
        ...validity,
        issuer: { cert: ca.cert, signer: ca.signer },
        subjectSpki: key.spki,
        subject,
        profile,
        urls: { crl: 'http://127.0.0.1/crl/root.crl', ocsp: 'http://127.0.0.1/ocsp', caIssuers: 'http://127.0.0.1/ca/root.cer' },
      });
      return { cert, key, pem: write(`${name}.pem`, derToPem(cert, 'CERTIFICATE')) };
    },
    async close() {
      await token.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs openssl and returns its exit status and combined output (the tool's verdict is what tests check). */
export function openssl(args: string[], input?: Uint8Array): { status: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The same as openssl() but without blocking the event loop, for when this process also serves the tool. */
export function opensslAsync(args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}
