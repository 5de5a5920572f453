/**
 * Runs signTbs in a worker thread (test/sign-check-threads.test.ts), where its ECDSA check runs on the
 * thread itself rather than on node's pool: a signature by the wrong key must still be refused there.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { DigestSigner } from '../../src/hsm/types.js';
import { signTbs } from '../../src/pki/sign.js';

const tbs = Buffer.from('to be signed');
const pair = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const seal = pair();
const other = pair();
// Signs `tbs` itself (node hashes it) rather than the digest it is handed: the same signature an HSM makes over that digest.
const signer = (key: typeof seal.privateKey): DigestSigner => ({
  algorithm: 'EC-P256',
  spki: new Uint8Array(seal.publicKey.export({ type: 'spki', format: 'der' })),
  signDigest: async () => new Uint8Array(sign('sha256', tbs, { key, dsaEncoding: 'der' })),
});

const outcome = (p: Promise<Uint8Array>) => p.then(() => 'signed', (e: { code?: string }) => e.code ?? String(e));
parentPort!.postMessage({ honest: await outcome(signTbs(signer(seal.privateKey), tbs)), confused: await outcome(signTbs(signer(other.privateKey), tbs)) });
