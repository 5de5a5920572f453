/**
 * Issue 14: revocation data is produced ahead, kept in the database and reused — by B-LT stamps and by
 * the /pki OCSP endpoint alike — until an hour before its nextUpdate; a B-LT signature only embeds
 * OCSP responses produced at or after its time-stamp; a revocation replaces them at once, also for a
 * second instance on the same database. Runs on SQLite, and on PostgreSQL with ONESEAL_TEST_DATABASE=pg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { DigestSigner } from '../src/hsm/types.js';
import { DEFAULT_SEAL_ID } from '../src/init.js';
import { PdfDict, type PdfStream } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { derToPem } from '../src/pki/der.js';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { RECENT_READ_MS } from '../src/pki/revocation-data.js';
import { answerOcsp, currentCrl, localTimestamper, ownRevocationSource, type PkiDeps } from '../src/pki/services.js';
import { performRevocation } from '../src/seals/lifecycle.js';
import { performRotation } from '../src/seals/rotation.js';
import { dropRevocationData } from '../src/store/revocation-cache.js';
import { signingMaterial, type SigningMaterial } from '../src/seals/service.js';
import { openServices, type Services } from '../src/services.js';
import { signatureTimestampsOf, timestampGenTime } from '../src/signing/cms.js';
import { signPdf } from '../src/signing/sign-pdf.js';
import { openssl } from './pki-fixtures.js';
import { addClient, bearer, call } from './support/api-client.js';
import { makePdf } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { signaturesIn } from './support/validators.js';

let stack: Stack;
/** A second instance: its own services over the same database and token. */
let other: Services;
let material: SigningMaterial;
let pdf: Uint8Array;
/** OCSP signatures made with the responder key (every path to the HSM for OCSP goes through it). */
let ocspSigns = 0;
let clockAt = 0;
let deps: PkiDeps;

beforeAll(async () => {
  stack = await openStack();
  other = await openServices(loadConfig(stack.env));
  const { authority } = stack.services;
  const signer = authority.ocsp.signer;
  const counting: DigestSigner = {
    algorithm: signer.algorithm,
    spki: signer.spki,
    signDigest: (hash, digest) => {
      ocspSigns++;
      return signer.signDigest(hash, digest);
    },
  };
  clockAt = Math.floor(Date.now() / 1000) * 1000 + 500;
  deps = {
    store: stack.services.store,
    authority: { ...authority, ocsp: { ...authority.ocsp, signer: counting as typeof signer } },
    metrics: stack.services.metrics,
    clock: () => new Date(clockAt),
  };
  material = await signingMaterial(stack.services, DEFAULT_SEAL_ID);
  pdf = await makePdf({ pages: 1 });
}, 120_000);
afterAll(async () => {
  await other?.close();
  await stack?.close();
});

const stampBLt = () =>
  signPdf(pdf, {
    signer: material.key,
    certificate: material.certificate,
    chain: material.chain,
    signingTime: new Date(clockAt),
    level: 'B-LT',
    timestamper: localTimestamper(deps),
    revocation: ownRevocationSource(deps),
  });

/** The DSS OCSP responses of a signed PDF, and the genTime of its signature time-stamp. */
function embedded(signed: { pdf: Uint8Array; cms: Uint8Array }): { ocsps: Buffer[]; crls: Buffer[]; genTime: Date } {
  const reader = PdfReader.load(signed.pdf);
  const dss = reader.resolve(reader.catalog().get('DSS')) as PdfDict;
  const streams = (key: string) => (reader.resolve(dss.get(key)) as unknown[]).map((r) => Buffer.from(reader.decodeStream(reader.resolve(r as never) as PdfStream)));
  return { ocsps: streams('OCSPs'), crls: streams('CRLs'), genTime: timestampGenTime(signatureTimestampsOf(signed.cms)[0]!) };
}

function producedAt(der: Uint8Array): Date {
  const basic = pkijs.BasicOCSPResponse.fromBER(pkijs.OCSPResponse.fromBER(der).responseBytes!.response.getValue());
  return basic.tbsResponseData.producedAt;
}

function nextUpdate(der: Uint8Array): Date {
  const basic = pkijs.BasicOCSPResponse.fromBER(pkijs.OCSPResponse.fromBER(der).responseBytes!.response.getValue());
  return basic.tbsResponseData.responses[0]!.nextUpdate!;
}

const file = (name: string, bytes: Uint8Array | string): string => {
  const p = join(stack.dir, name);
  writeFileSync(p, bytes);
  return p;
};

/** An RFC 5019 request (no nonce, SHA-1 CertID) for a certificate (the seal's), as openssl writes it. */
function sealRequest(certificate = material.certificate): Uint8Array {
  const cert = file('seal.pem', derToPem(certificate, 'CERTIFICATE'));
  const req = join(stack.dir, 'seal-req.der');
  const r = openssl(['ocsp', '-issuer', DEV_ROOT_CERT_PATH, '-cert', cert, '-no_nonce', '-reqout', req]);
  expect(r.status, r.out).toBe(0);
  return readFileSync(req);
}

function opensslStatus(response: Uint8Array, certificate = material.certificate): string {
  const cert = file('seal.pem', derToPem(certificate, 'CERTIFICATE'));
  // -validity_period: the test's clock runs up to a day ahead of openssl's.
  const r = openssl(['ocsp', '-respin', file('resp.der', response), '-CAfile', DEV_ROOT_CERT_PATH, '-issuer', DEV_ROOT_CERT_PATH, '-cert', cert, '-no_nonce', '-validity_period', '90000']);
  expect(r.out).toContain('Response verify OK');
  return r.out;
}

describe('B-LT revocation data', () => {
  it('is reused by the next stamp in the same second: the same OCSP bytes, no OCSP signature', async () => {
    const first = embedded(await stampBLt());
    const afterFirst = ocspSigns;
    const second = embedded(await stampBLt());
    expect(second.ocsps).toHaveLength(2); // the seal's certificate and the TSA's
    expect(second.ocsps).toEqual(first.ocsps);
    expect(second.crls).toEqual(first.crls);
    expect(ocspSigns).toBe(afterFirst);
    expect(second.genTime.getTime()).toBe(Math.floor(clockAt / 1000) * 1000);
    for (const e of [first, second]) for (const o of e.ocsps) expect(producedAt(o).getTime()).toBeGreaterThanOrEqual(e.genTime.getTime());
  });

  it('is produced again once the time-stamp is later than the stored response, once for many concurrent stamps', async () => {
    const before = embedded(await stampBLt());
    clockAt += 1000;
    const signsBefore = ocspSigns;
    const countedBefore = stack.services.metrics.revocationSigned.get({ kind: 'ocsp' });
    const many = (await Promise.all(Array.from({ length: 8 }, stampBLt))).map(embedded);
    expect(ocspSigns - signsBefore).toBe(2);
    expect(stack.services.metrics.revocationSigned.get({ kind: 'ocsp' }) - countedBefore).toBe(2);
    for (const e of many) {
      expect(e.ocsps).toEqual(many[0]!.ocsps);
      expect(e.ocsps).not.toEqual(before.ocsps);
      for (const o of e.ocsps) expect(producedAt(o).getTime()).toBeGreaterThanOrEqual(e.genTime.getTime());
    }
  });
});

describe('B-LT stamps of one instance in one second', () => {
  it('read the stored responses and CRL once, not each stamp (the OCSP endpoint and the CRL served still read every time)', async () => {
    await stampBLt(); // this second's data, read (or produced) and kept
    const queries: string[] = [];
    const onQuery = (q: { sql: string }) => queries.push(q.sql);
    const { reads, db } = stack.services.store;
    reads.on('query', onQuery);
    if (db !== reads) db.on('query', onQuery);
    try {
      const stamps = [];
      for (let i = 0; i < 3; i++) stamps.push(embedded(await stampBLt()));
      expect(stamps[2]!.ocsps).toHaveLength(2);
      expect(queries.filter((sql) => /ocsp_responses|crl_state/.test(sql))).toEqual([]);
      await answerOcsp(deps, sealRequest());
      await currentCrl(deps);
      expect(queries.filter((sql) => /ocsp_responses/.test(sql)).length).toBeGreaterThanOrEqual(1);
      expect(queries.filter((sql) => /crl_state/.test(sql)).length).toBeGreaterThanOrEqual(1);
    } finally {
      reads.off('query', onQuery);
      if (db !== reads) db.off('query', onQuery);
    }
  });
});

describe('B-LT stamps through the server (worker threads, the system clock)', () => {
  it('embed only OCSP responses produced at or after their time-stamp', async () => {
    const client = await addClient(stack, 'blt', [DEFAULT_SEAL_ID]);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(`${stack.server.url}/v1/stamps?seal=${DEFAULT_SEAL_ID}&page=1&x=150&y=60&level=B-LT`, {
          method: 'POST',
          headers: bearer(client.key, { 'Content-Type': 'application/pdf' }),
          body: pdf,
        }),
      ),
    );
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      const [signature] = signaturesIn(reply.bytes);
      const e = embedded({ pdf: reply.bytes, cms: signature!.cms });
      expect(e.ocsps).toHaveLength(2);
      for (const o of e.ocsps) expect(producedAt(o).getTime()).toBeGreaterThanOrEqual(e.genTime.getTime());
    }
  });
});

describe('the OCSP endpoint', () => {
  it('serves the response B-LT stamps embed, over HTTP too, until an hour before its nextUpdate', async () => {
    const stamped = embedded(await stampBLt());
    // The server signs with the real responder key, so count through the metric both paths feed.
    const signed = () => stack.services.metrics.revocationSigned.get({ kind: 'ocsp' });
    const signs = signed();
    const direct = await answerOcsp(deps, sealRequest());
    expect(stamped.ocsps).toContainEqual(Buffer.from(direct));
    const url = `${stack.server.url}/pki/ocsp/${encodeURIComponent(Buffer.from(sealRequest()).toString('base64'))}`;
    const overHttp = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expect(Buffer.from(overHttp)).toEqual(Buffer.from(direct));
    expect(signed()).toBe(signs);

    const expires = nextUpdate(direct).getTime();
    const start = clockAt;
    clockAt = expires - 3600_000 - 1000;
    expect(Buffer.from(await answerOcsp(deps, sealRequest()))).toEqual(Buffer.from(direct));
    clockAt = expires - 3600_000;
    const renewed = await answerOcsp(deps, sealRequest());
    expect(Buffer.from(renewed)).not.toEqual(Buffer.from(direct));
    expect(signed()).toBe(signs + 1);
    expect(producedAt(renewed).getTime()).toBe(clockAt);
    expect(opensslStatus(renewed)).toContain(': good');
    clockAt = start;
  });
});

describe('a revocation', () => {
  it('replaces the OCSP response and the CRL at once, for every instance on the database', async () => {
    const signed = embedded(await stampBLt());
    const crlBefore = await currentCrl(other);
    const serial = material.version.certSerial!;
    expect(opensslStatus(await answerOcsp(other, sealRequest()))).toContain(': good');

    await performRevocation(stack.services, DEFAULT_SEAL_ID, material.version.version, { reason: 'keyCompromise', actor: 'cli:test' });

    // The other instance has not seen the revocation happen; the database tells it.
    const fromOther = await answerOcsp(other, sealRequest());
    expect(opensslStatus(fromOther)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
    expect(signed.ocsps).not.toContainEqual(Buffer.from(fromOther));
    const crl = await currentCrl(other);
    expect(crl.crlNumber).toBeGreaterThan(crlBefore.crlNumber);
    const text = openssl(['crl', '-inform', 'DER', '-in', file('after.crl', crl.der), '-noout', '-text']).out;
    expect(text).toContain(`Serial Number: ${serial.toUpperCase()}`);
    // The first instance serves the same new objects, over HTTP as well.
    expect(Buffer.from(await answerOcsp(stack.services, sealRequest()))).toEqual(Buffer.from(fromOther));
    const crlOverHttp = new Uint8Array(await (await fetch(`${stack.server.url}/pki/crl/root.crl`)).arrayBuffer());
    expect(Buffer.from(crlOverHttp)).toEqual(Buffer.from(crl.der));
  });

  it('committed while a "good" response is being signed, is not overtaken by it', async () => {
    await performRotation(stack.services, DEFAULT_SEAL_ID, 'cli:test');
    const next = await signingMaterial(stack.services, DEFAULT_SEAL_ID);
    const real = deps.authority.ocsp.signer;
    let revoking: Promise<unknown> | undefined;
    const racing: PkiDeps = {
      ...deps,
      authority: {
        ...deps.authority,
        ocsp: {
          ...deps.authority.ocsp,
          signer: {
            ...real,
            algorithm: real.algorithm,
            spki: real.spki,
            // The first signature (of a "good" answer) waits until the revocation has committed.
            signDigest: async (hash, digest) => {
              if (!revoking) await (revoking = performRevocation(stack.services, DEFAULT_SEAL_ID, next.version.version, { reason: 'keyCompromise', actor: 'cli:test' }));
              return real.signDigest(hash, digest);
            },
          } as typeof real,
        },
      },
    };
    clockAt += 1000;
    const answer = await answerOcsp(racing, sealRequest(next.certificate));
    expect(revoking).toBeDefined();
    expect(opensslStatus(answer, next.certificate)).toContain(': revoked');
    expect(opensslStatus(await answerOcsp(other, sealRequest(next.certificate)), next.certificate)).toContain(': revoked');
  });

  it('reaches this instance\'s next B-LT stamp at once, even within the second the data it replaces was read in', async () => {
    await performRotation(stack.services, DEFAULT_SEAL_ID, 'cli:test');
    const fresh = await signingMaterial(stack.services, DEFAULT_SEAL_ID);
    clockAt += 1000;
    const stamp = async () => embedded(await signPdf(pdf, {
      signer: fresh.key, certificate: fresh.certificate, chain: fresh.chain, signingTime: new Date(clockAt),
      level: 'B-LT', timestamper: localTimestamper(deps), revocation: ownRevocationSource(deps),
    }));
    // The seal's response comes first: revocation data follows the order of the certificates.
    const first = await stamp(); // produces this second's responses
    const second = await stamp(); // reads them, and keeps what it read
    expect(second.ocsps).toEqual(first.ocsps);
    expect(opensslStatus(second.ocsps[0]!, fresh.certificate)).toContain(': good');
    await performRevocation(stack.services, DEFAULT_SEAL_ID, fresh.version.version, { reason: 'keyCompromise', actor: 'cli:test' });
    const after = await stamp();
    expect(opensslStatus(after.ocsps[0]!, fresh.certificate)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
    const crl = openssl(['crl', '-inform', 'DER', '-in', file('latest.crl', after.crls[0]!), '-noout', '-text']).out;
    expect(crl).toContain(`Serial Number: ${fresh.version.certSerial!.toUpperCase()}`);
  });

  it('committed by another process (its database writes alone), reaches this one\'s B-LT stamps within a second', async () => {
    await performRotation(stack.services, DEFAULT_SEAL_ID, 'cli:test');
    const fresh = await signingMaterial(stack.services, DEFAULT_SEAL_ID);
    const serial = fresh.version.certSerial!;
    clockAt += 1000;
    const notBefore = new Date(clockAt);
    const source = ownRevocationSource(deps);
    const sealResponse = async () => Buffer.from((await source.forCerts([fresh.certificate], { notBefore })).ocsps[0]!);
    await sealResponse(); // produced
    const kept = await sealResponse(); // read, and kept
    expect(opensslStatus(kept, fresh.certificate)).toContain(': good');
    // What a revocation in another process leaves here: the database changed, this process not told.
    await stack.services.store.db.transaction(async (trx) => {
      await trx('issued_certificates').where({ serial }).update({ status: 'revoked', revoked_at: new Date(clockAt).toISOString(), reason: 'keyCompromise' });
      await dropRevocationData(trx, serial, 'root');
    });
    expect(await sealResponse()).toEqual(kept); // within the second it was read in
    clockAt += RECENT_READ_MS;
    expect(opensslStatus(await sealResponse(), fresh.certificate)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
  });
});
