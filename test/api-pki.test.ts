import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEAL_ID } from '../src/init.js';
import { performRevocation } from '../src/seals/lifecycle.js';
import { performRotation } from '../src/seals/rotation.js';
import { getSealVersion } from '../src/store/seals.js';
import { DEV_ROOT_CERT_PATH as DEV_ROOT_PEM } from '../src/pki/dev-root.js';
import { derToPem } from '../src/pki/der.js';
import { openStack, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let url: string;
let scratch: string;
let firstCrlEtag: string;

beforeAll(async () => {
  // A small allowance (×5 for public PKI requests: 5/s, bursts of 20) so the rate-limit test is quick and certain.
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1', ONESEAL_RATE_LIMIT_BURST: '4' });
  url = stack.server.url;
  scratch = path.join(stack.dir, 'scratch');
  mkdirSync(scratch);
});
afterAll(async () => {
  await stack?.close();
});

function file(name: string, data?: Uint8Array | string): string {
  const p = path.join(scratch, name);
  if (data !== undefined) writeFileSync(p, data);
  return p;
}

const pem = (name: string, der: Uint8Array): string => file(name, derToPem(der, 'CERTIFICATE'));

function run(cmd: string, args: string[], input?: Uint8Array): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input ? { input } : {}) });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

async function sealPem(version: number): Promise<{ path: string; serial: string }> {
  const v = (await getSealVersion(stack.services.store.db, DEFAULT_SEAL_ID, version))!;
  return { path: pem(`seal-v${version}.pem`, v.certificate!), serial: v.certSerial! };
}

/** Like run, without blocking the event loop: for tools that call the in-process server. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, out }));
  });
}

/** `openssl ocsp` against the server: the status line for the certificate plus the verification verdict. */
async function ocspQuery(certPath: string): Promise<string> {
  const r = await runAsync('openssl', ['ocsp', '-url', `${url}/pki/ocsp`, '-issuer', DEV_ROOT_PEM, '-cert', certPath, '-CAfile', DEV_ROOT_PEM]);
  expect(r.status, r.out).toBe(0);
  return r.out;
}

describe('public PKI endpoints', () => {
  it('serves the CA certificates as DER, cacheable, without credentials', async () => {
    for (const name of ['root', 'tsa', 'ocsp']) {
      const res = await fetch(`${url}/pki/certs/${name}.crt`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pkix-cert');
      expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
      const der = new Uint8Array(await res.arrayBuffer());
      const check = run('openssl', ['verify', '-CAfile', DEV_ROOT_PEM, pem(`${name}-fetched.pem`, der)]);
      expect(check.out).toMatch(/: OK/);
    }
    const root = run('openssl', ['x509', '-inform', 'DER', '-noout', '-fingerprint', '-sha256', '-in', file('root.der', new Uint8Array(await (await fetch(`${url}/pki/certs/root.crt`)).arrayBuffer()))]);
    const dev = run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', DEV_ROOT_PEM]);
    expect(root.out).toBe(dev.out);
  });

  it('answers OCSP good for the active version (POST, verified by openssl)', async () => {
    const { path } = await sealPem(1);
    const out = await ocspQuery(path);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/seal-v1\.pem: good/);
  });

  it('serves a CRL that openssl verifies against the root', async () => {
    const res = await fetch(`${url}/pki/crl/root.crl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pkix-crl');
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=300/);
    firstCrlEtag = res.headers.get('etag')!;
    expect(firstCrlEtag).toMatch(/^"crl-\d+"$/);
    // (fetch would add "Cache-Control: no-cache" to a conditional request, which always asks for a full answer.)
    expect((await fetch(`${url}/pki/crl/root.crl`, { headers: { 'If-None-Match': firstCrlEtag, 'Cache-Control': 'max-age=0' } })).status).toBe(304);
    const crlFile = file('root.crl', new Uint8Array(await res.arrayBuffer()));
    const r = run('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', DEV_ROOT_PEM, '-noout']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/verify OK/);
  });

  it('reports a revoked version as revoked, with reason and time, by POST, GET and in the CRL', async () => {
    const deps = stack.services;
    await performRotation(deps, DEFAULT_SEAL_ID, 'test');
    // Back-dated (allowed for keyCompromise) to the certificate's start, so the time shown is ours, not "now".
    const revokedAt = new Date((await getSealVersion(deps.store.db, DEFAULT_SEAL_ID, 1))!.notBefore!);
    await performRevocation(deps, DEFAULT_SEAL_ID, 1, { reason: 'keyCompromise', revokedAt, actor: 'test' });
    const v1 = await sealPem(1);
    const v2 = await sealPem(2);

    const out = await ocspQuery(v1.path);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/seal-v1\.pem: revoked/);
    expect(out).toMatch(/Reason: keyCompromise/);
    const shown = /Revocation Time: (.*)/.exec(out)?.[1];
    expect(new Date(shown!).getTime()).toBe(revokedAt.getTime());
    expect(await ocspQuery(v2.path)).toMatch(/seal-v2\.pem: good/);

    // GET form (RFC 6960 A.1): openssl writes the request, the server answers the base64 path.
    const reqFile = file('req.der');
    expect(run('openssl', ['ocsp', '-issuer', DEV_ROOT_PEM, '-cert', v1.path, '-no_nonce', '-reqout', reqFile]).status).toBe(0);
    const b64 = readFileSync(reqFile).toString('base64');
    const res = await fetch(`${url}/pki/ocsp/${encodeURIComponent(b64)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=300/);
    const respFile = file('resp.der', new Uint8Array(await res.arrayBuffer()));
    const viaGet = run('openssl', ['ocsp', '-respin', respFile, '-issuer', DEV_ROOT_PEM, '-cert', v1.path, '-CAfile', DEV_ROOT_PEM]);
    expect(viaGet.out).toMatch(/Response verify OK/);
    expect(viaGet.out).toMatch(/revoked/);
    expect(viaGet.out).toMatch(/Reason: keyCompromise/);
    // Clients that leave '/' and '+' unescaped reach the same answer.
    const raw = await fetch(`${url}/pki/ocsp/${b64}`);
    expect(raw.status).toBe(200);

    // A revocation makes a new CRL at once, even for a client holding the previous one.
    const fresh = await fetch(`${url}/pki/crl/root.crl`, { headers: { 'If-None-Match': firstCrlEtag, 'Cache-Control': 'max-age=0' } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).not.toBe(firstCrlEtag);
    const crl = file('after.crl', new Uint8Array(await fresh.arrayBuffer()));
    const text = run('openssl', ['crl', '-inform', 'DER', '-in', crl, '-CAfile', DEV_ROOT_PEM, '-noout', '-text']);
    expect(text.out).toMatch(/verify OK/);
    expect(text.out.toUpperCase()).toContain(`SERIAL NUMBER: ${v1.serial.toUpperCase()}`);
    expect(text.out).toMatch(/Key Compromise/);
    expect(text.out.toUpperCase()).not.toContain(`SERIAL NUMBER: ${v2.serial.toUpperCase()}`);
  });

  it('answers a garbage OCSP request with an unsigned malformedRequest response, a non-OCSP body with 415', async () => {
    const res = await fetch(`${url}/pki/ocsp`, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: new Uint8Array([1, 2, 3]) });
    expect(res.status).toBe(200);
    const answer = file('malformed.der', new Uint8Array(await res.arrayBuffer()));
    expect(run('openssl', ['ocsp', '-respin', answer, '-resp_text', '-noverify']).out).toMatch(/malformedrequest/i);
    const wrongType = await fetch(`${url}/pki/ocsp`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(wrongType.status).toBe(415);
    const notBase64 = await fetch(`${url}/pki/ocsp/%25%25%25`);
    expect(notBase64.status).toBe(400);
  });

  it('time-stamps an openssl ts query; openssl ts -verify accepts the reply', async () => {
    const data = file('data.txt', 'OneSeal time-stamp test\n');
    const query = file('q.tsq');
    expect(run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]).status).toBe(0);
    const res = await fetch(`${url}/pki/tsa`, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: readFileSync(query) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    const reply = file('r.tsr', new Uint8Array(await res.arrayBuffer()));
    const tsa = pem('tsa.pem', new Uint8Array(await (await fetch(`${url}/pki/certs/tsa.crt`)).arrayBuffer()));
    const verified = run('openssl', ['ts', '-verify', '-data', data, '-in', reply, '-CAfile', DEV_ROOT_PEM, '-untrusted', tsa]);
    expect(verified.out).toMatch(/Verification: OK/);
    // The same reply does not verify other data.
    writeFileSync(data, 'something else\n');
    expect(run('openssl', ['ts', '-verify', '-data', data, '-in', reply, '-CAfile', DEV_ROOT_PEM, '-untrusted', tsa]).out).not.toMatch(/Verification: OK/);
  });

  // Last: it uses up this address's OCSP/TSA allowance for a moment.
  it('limits OCSP and time-stamp requests per address, but not the CRL', async () => {
    const garbage = () => fetch(`${url}/pki/ocsp`, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: new Uint8Array([1]) });
    // 60 at once against a burst of 20: some are refused whatever the machine's speed (the bucket
    // refills at 5/s, so a further request made later might already pass).
    const answers = await Promise.all(Array.from({ length: 60 }, garbage));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${url}/pki/crl/root.crl`)).status).toBe(200);
  });

  it('documents every PKI endpoint in the OpenAPI document as public', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const [p, m] of [
      ['/pki/crl/root.crl', 'get'],
      ['/pki/ocsp', 'post'],
      ['/pki/ocsp/{request}', 'get'],
      ['/pki/tsa', 'post'],
      ['/pki/certs/root.crt', 'get'],
      ['/pki/certs/tsa.crt', 'get'],
      ['/pki/certs/ocsp.crt', 'get'],
    ] as const) {
      expect(doc.paths[p]?.[m]?.security, `${m} ${p}`).toEqual([]);
    }
  });
});
