import type { DigestSigner } from '../src/hsm/types.js';
import { issueCertificate, selfSignCertificate } from '../src/pki/certificates.js';
import { openTestHsm } from '../test/support/token.js';

export interface FuzzSigner {
  signer: DigestSigner;
  certificate: Uint8Array;
  chain: Uint8Array[];
  close(): Promise<void>;
}

/** A seal key on a fresh SoftHSM token with a certificate from a throw-away root (the same token helper as the tests). */
export async function openFuzzSigner(): Promise<FuzzSigner> {
  const token = await openTestHsm({ poolSize: 1 });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const validity = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 24 * 3600_000) };
  const rootKey = await token.hsm.generateKeyPair({ label: 'fuzz-root', algorithm: 'EC-P256' });
  const root = await selfSignCertificate({ ...validity, signer: rootKey, subject: { commonName: 'fuzz root' } });
  const key = await token.hsm.generateKeyPair({ label: 'fuzz-seal', algorithm: 'EC-P256' });
  const certificate = await issueCertificate({
    ...validity,
    issuer: { cert: root, signer: rootKey },
    subjectSpki: key.spki,
    subject: { commonName: 'fuzz' },
    profile: 'seal',
  });
  return { signer: key, certificate, chain: [root], close: () => token.close() };
}
