import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/chain.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_SEAL_ID, initialise } from '../src/init.js';
import { derToPem } from '../src/pki/der.js';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { answerOcsp, answerTsa, currentCrl, localTimestamper, ownRevocationSource } from '../src/pki/services.js';
import { performRevocation } from '../src/seals/lifecycle.js';
import { performRotation } from '../src/seals/rotation.js';
import type { SealDeps } from '../src/seals/service.js';
import { openServices, type Services } from '../src/services.js';
import { getSealVersion } from '../src/store/seals.js';
import { openssl } from './pki-fixtures.js';

const dataDir = mkdtempSync(join(tmpdir(), 'oneseal-pki-services-'));
const config = loadConfig({ ONESEAL_DATA_DIR: dataDir, ONESEAL_LOG_LEVEL: 'silent' });
let services: Services;
let deps: SealDeps;
/** PEM files: the retired-and-revoked version 1, the active version 2, the TSA and OCSP certificates. */
const pem: Record<'v1' | 'v2' | 'tsa', string> = {} as never;
let v1Serial: string;
let revokedAt: string;

const file = (name: string, bytes?: Uint8Array | string): string => {
  const p = join(dataDir, name);
  if (bytes !== undefined) writeFileSync(p, bytes);
  return p;
};
const ok = (args: string[], input?: Uint8Array) => {
  const r = openssl(args, input);
  expect(r.status, r.out).toBe(0);
  return r.out;
};

beforeAll(async () => {
  delete process.env.SOFTHSM2_CONF; // the data dir's own token, as `npm run setup` makes it
  await initialise(config, () => undefined);
  services = await openServices(config);
  deps = { store: services.store, hsm: services.hsm, authority: services.authority };
  await performRotation(deps, DEFAULT_SEAL_ID, 'cli:alice');
  const revoked = await performRevocation(deps, DEFAULT_SEAL_ID, 1, { reason: 'superseded', actor: 'cli:alice' });
  v1Serial = revoked.certSerial!;
  revokedAt = revoked.revokedAt!;
  const v2 = (await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 2))!;
  pem.v1 = file('v1.pem', derToPem(revoked.certificate!, 'CERTIFICATE'));
  pem.v2 = file('v2.pem', derToPem(v2.certificate!, 'CERTIFICATE'));
  pem.tsa = file('tsa.pem', derToPem(services.authority.tsa.certificate, 'CERTIFICATE'));
});
afterAll(async () => {
  await services?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The date openssl prints ("Nov 27 14:28:11 2026 GMT") for an ISO time, to whole seconds. */
function opensslDate(iso: string): string {
  const d = new Date(iso);
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

describe('OCSP', () => {
  it('answers an openssl request: revoked (reason, time) for the superseded version, good for the active one', async () => {
    const req = file('req.der');
    ok(['ocsp', '-issuer', DEV_ROOT_CERT_PATH, '-cert', pem.v1, '-cert', pem.v2, '-reqout', req]);
    const resp = file('resp.der', await answerOcsp(deps, readFileSync(req)));
    // -cert makes openssl build a fresh request with a nonce of its own, so the echo of the real
    // request's nonce is compared separately.
    const out = ok(['ocsp', '-respin', resp, '-CAfile', DEV_ROOT_CERT_PATH, '-issuer', DEV_ROOT_CERT_PATH, '-cert', pem.v1, '-cert', pem.v2, '-no_nonce', '-resp_text']);
    const nonceOf = (text: string) => /OCSP Nonce: \s*\n\s+([0-9A-F]+)/.exec(text)?.[1];
    const requestNonce = nonceOf(ok(['ocsp', '-reqin', req, '-req_text']));
    expect(requestNonce).toMatch(/^0410[0-9A-F]{32}$/);
    expect(nonceOf(out)).toBe(requestNonce);
    expect(out).toContain('Response verify OK');
    expect(out).toContain(`${pem.v1}: revoked`);
    expect(out).toContain('Reason: superseded');
    expect(out).toContain(`Revocation Time: ${opensslDate(revokedAt)}`);
    expect(out).toContain(`${pem.v2}: good`);
  });

  it('answers unknown for a certificate the root never issued and malformedRequest for garbage', async () => {
    const req = file('req-tsa.der');
    // The TSA certificate is ours; a made-up serial under the same issuer is not.
    ok(['ocsp', '-issuer', DEV_ROOT_CERT_PATH, '-serial', '0x123456789', '-reqout', req]);
    const out = ok(['ocsp', '-respin', file('resp-unknown.der', await answerOcsp(deps, readFileSync(req))), '-CAfile', DEV_ROOT_CERT_PATH, '-resp_text']);
    expect(out).toContain('Cert Status: unknown');
    const bad = openssl(['ocsp', '-respin', file('resp-bad.der', await answerOcsp(deps, new Uint8Array([1, 2, 3]))), '-resp_text', '-noverify']);
    expect(bad.out).toMatch(/malformedrequest/i);
  });
});

describe('CRL', () => {
  it('is signed by the root in the HSM, verifies with openssl and lists the revoked serial with its reason', async () => {
    const crl = await currentCrl(deps);
    const path = file('root.crl', crl.der);
    expect(ok(['crl', '-inform', 'DER', '-in', path, '-CAfile', DEV_ROOT_CERT_PATH, '-noout'])).toContain('verify OK');
    const text = ok(['crl', '-inform', 'DER', '-in', path, '-noout', '-text']);
    expect(text).toContain(`Serial Number: ${v1Serial.toUpperCase()}`);
    expect(text).toContain('Superseded');
    expect(text).toMatch(new RegExp(`X509v3 CRL Number:\\s*\\n\\s*${crl.crlNumber}\\n`));
    expect(crl.nextUpdate.getTime() - crl.thisUpdate.getTime()).toBe(24 * 3600_000);
  });

  it('is reused until an hour before its nextUpdate or a revocation, then re-issued with the next number', async () => {
    const first = await currentCrl(deps);
    expect((await currentCrl(deps)).crlNumber).toBe(first.crlNumber);
    const at = (ms: number) => ({ ...deps, clock: () => new Date(first.thisUpdate.getTime() + ms) });
    expect((await currentCrl(at(23 * 3600_000 - 1000))).der).toEqual(first.der);
    const aged = await currentCrl(at(23 * 3600_000));
    expect(aged.crlNumber).toBe(first.crlNumber + 1);

    const v2 = await performRevocation(deps, DEFAULT_SEAL_ID, 2, { reason: 'cessationOfOperation', actor: 'cli:alice' });
    const after = await currentCrl(deps);
    expect(after.crlNumber).toBe(aged.crlNumber + 1);
    const text = ok(['crl', '-inform', 'DER', '-in', file('root2.crl', after.der), '-noout', '-text']);
    expect(text).toContain(`Serial Number: ${v1Serial.toUpperCase()}`);
    expect(text).toContain(`Serial Number: ${v2.certSerial!.toUpperCase()}`);
    expect(text).toContain('Cessation Of Operation');
    await performRotation(deps, DEFAULT_SEAL_ID, 'cli:alice');
  });
});

describe('time-stamping', () => {
  it('answers an openssl ts query with a response openssl verifies', async () => {
    const data = file('data.txt', 'OneSeal 印章 time-stamp test');
    const query = file('q.tsq');
    ok(['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]);
    const reply = file('q.tsr', await answerTsa(deps, readFileSync(query)));
    expect(ok(['ts', '-verify', '-in', reply, '-queryfile', query, '-CAfile', DEV_ROOT_CERT_PATH])).toContain('Verification: OK');
    expect(ok(['ts', '-verify', '-in', reply, '-data', data, '-CAfile', DEV_ROOT_CERT_PATH])).toContain('Verification: OK');
  });

  it('rejects a SHA-1 query with a rejection response instead of throwing', async () => {
    const data = file('data1.txt', 'x');
    const query = file('q1.tsq');
    ok(['ts', '-query', '-data', data, '-sha1', '-out', query]);
    const text = ok(['ts', '-reply', '-in', file('q1.tsr', await answerTsa(deps, readFileSync(query))), '-text']);
    expect(text).toContain('Status: Rejected');
  });

  it('the local timestamper makes tokens carrying the TSA certificate, within its size bound', async () => {
    const ts = localTimestamper(deps);
    const digest = createHash('sha256').update('signature value').digest();
    const token = await ts.stamp(digest);
    expect(token.length).toBeLessThanOrEqual(ts.maxTokenSize);
    expect(ts.maxTokenSize - token.length).toBeLessThan(4096);
    const path = file('token.der', token);
    // No -untrusted: openssl finds the signer only if the token carries the TSA certificate.
    const out = ok(['ts', '-verify', '-digest', digest.toString('hex'), '-in', path, '-token_in', '-CAfile', DEV_ROOT_CERT_PATH]);
    expect(out).toContain('Verification: OK');
  });
});

describe('own revocation source', () => {
  it('gives an OCSP response for each certificate the root issued and the CRL once, nothing for the root', async () => {
    const source = ownRevocationSource(deps);
    const active = (await getSealVersion(services.store.db, DEFAULT_SEAL_ID, 3))!;
    const root = services.authority.root.certificate;
    const { crls, ocsps } = await source.forCerts([active.certificate!, root, services.authority.tsa.certificate, active.certificate!]);
    expect(ocsps).toHaveLength(2);
    expect(crls).toHaveLength(1);
    expect(ok(['crl', '-inform', 'DER', '-in', file('src.crl', crls[0]!), '-CAfile', DEV_ROOT_CERT_PATH, '-noout'])).toContain('verify OK');
    const sealPem = file('v3.pem', derToPem(active.certificate!, 'CERTIFICATE'));
    const seal = ok(['ocsp', '-respin', file('src-seal.der', ocsps[0]!), '-CAfile', DEV_ROOT_CERT_PATH, '-issuer', DEV_ROOT_CERT_PATH, '-cert', sealPem]);
    expect(seal).toContain('Response verify OK');
    expect(seal).toContain(`${sealPem}: good`);
    const tsa = ok(['ocsp', '-respin', file('src-tsa.der', ocsps[1]!), '-CAfile', DEV_ROOT_CERT_PATH, '-issuer', DEV_ROOT_CERT_PATH, '-cert', pem.tsa]);
    expect(tsa).toContain(`${pem.tsa}: good`);

    expect(await source.forCerts([root])).toEqual({ crls: [], ocsps: [] });
  });
});

describe('audit', () => {
  it('the chain verifies after the revocations and rotations', async () => {
    expect(await verifyAuditChain(services.store.db)).toMatchObject({ ok: true });
  });
});
