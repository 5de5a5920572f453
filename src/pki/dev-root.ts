/**
 * Generates the committed development root CA in keys-dev/. It exists so a fresh checkout can issue seal, TSA and
 * OCSP certificates without any setup; its private key is public (committed), so nothing it signs is trustworthy
 * and production configuration refuses it (see isDevRootCertificate).
 *
 * Run once: `npx vite-node --script src/pki/dev-root.ts [--force]` (--script makes it see itself as the entry point).
 */
import { constants, generateKeyPairSync, privateEncrypt, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import { findPackageRoot } from '../package-root.js';
import { digestInfo } from '../hsm/signature-encoding.js';
import type { DigestSigner } from '../hsm/types.js';
import { selfSignCertificate } from './certificates.js';
import { bytesOf, derToPem, pemToDer, sameBytes, toCertificate } from './der.js';
import type { NameFields } from './names.js';

export const DEV_ROOT_DIR = join(findPackageRoot(), 'keys-dev');
export const DEV_ROOT_CERT_PATH = join(DEV_ROOT_DIR, 'root-ca.crt.pem');
export const DEV_ROOT_KEY_PATH = join(DEV_ROOT_DIR, 'root-ca.key.pem');

export const DEV_ROOT_SUBJECT: NameFields = {
  country: 'CN',
  organization: 'OneSeal Dev',
  commonName: 'OneSeal Development Root CA (DEV ONLY, NOT TRUSTED)',
};

const TWENTY_YEARS_MS = 20 * 365.25 * 24 * 3600 * 1000;

/**
 * Only for this one-off artifact, whose key is committed anyway: everywhere else keys live in the HSM.
 * RSA PKCS#1 v1.5 over a precomputed digest is a private-key operation on the DigestInfo.
 */
function keyObjectSigner(privateKey: KeyObject, spki: Uint8Array): DigestSigner {
  return {
    algorithm: 'RSA-3072',
    spki,
    async signDigest(hash, digest) {
      return new Uint8Array(privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, digest)));
    },
  };
}

export interface DevRoot {
  keyPem: string;
  certPem: string;
}

/** A new RSA-3072 self-signed root valid for 20 years from `now`. */
export async function generateDevRoot(now = new Date()): Promise<DevRoot> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const der = await selfSignCertificate({
    signer: keyObjectSigner(privateKey, spki),
    subject: DEV_ROOT_SUBJECT,
    notBefore: now,
    notAfter: new Date(now.getTime() + TWENTY_YEARS_MS),
  });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: derToPem(der, 'CERTIFICATE'),
  };
}

/** The committed dev root as DER certificate and PKCS#8 key (for importing into a dev/test HSM token). */
export function loadDevRoot(): { certDer: Uint8Array; keyPkcs8: Uint8Array } {
  if (!existsSync(DEV_ROOT_CERT_PATH) || !existsSync(DEV_ROOT_KEY_PATH)) {
    throw new OneSealError('dev-root-missing', 'unavailable', `The dev root CA is missing from ${DEV_ROOT_DIR}; run npx vite-node src/pki/dev-root.ts.`);
  }
  return {
    certDer: pemToDer(readFileSync(DEV_ROOT_CERT_PATH, 'utf8')),
    keyPkcs8: pemToDer(readFileSync(DEV_ROOT_KEY_PATH, 'utf8')),
  };
}

/** True when `cert` carries the committed dev root's public key: production must refuse such a CA. */
export function isDevRootCertificate(cert: pkijs.Certificate | Uint8Array): boolean {
  if (!existsSync(DEV_ROOT_CERT_PATH)) return false;
  const devKey = toCertificate(pemToDer(readFileSync(DEV_ROOT_CERT_PATH, 'utf8'))).subjectPublicKeyInfo.subjectPublicKey;
  const key = toCertificate(cert).subjectPublicKeyInfo.subjectPublicKey;
  return sameBytes(bytesOf(devKey.valueBlock.valueHexView), bytesOf(key.valueBlock.valueHexView));
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  if (!force && (existsSync(DEV_ROOT_CERT_PATH) || existsSync(DEV_ROOT_KEY_PATH))) {
    console.error(`${DEV_ROOT_DIR} already has a dev root; pass --force to replace it (every dev certificate issued under it becomes invalid).`);
    process.exitCode = 1;
    return;
  }
  const root = await generateDevRoot();
  writeFileSync(DEV_ROOT_KEY_PATH, root.keyPem, { mode: 0o644 });
  writeFileSync(DEV_ROOT_CERT_PATH, root.certPem);
  console.log(`wrote ${DEV_ROOT_CERT_PATH} and ${DEV_ROOT_KEY_PATH}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
