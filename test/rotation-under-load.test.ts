/**
 * Issue 7's acceptance test: seal keys rotate while clients keep stamping over HTTP. No request may
 * fail, every output must verify with independent tools, and each stamp's record must name the
 * version whose certificate is really inside its signature.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as asn1js from 'asn1js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEAL_ID } from '../src/init.js';
import { derToPem, integerHex } from '../src/pki/der.js';
import { listSealVersions } from '../src/store/seals.js';
import { personWithSession } from './support/people.js';
import { addClient, bearer, call, type Reply } from './support/api-client.js';
import { makePdf } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { opensslCmsVerify, pdfsig, signaturesIn, type FoundSignature } from './support/validators.js';
import { latch } from './support/latch.js';

const STAMPS = 500;
const ROTATIONS = 5;
const CLIENT_CONCURRENCY = 12;
/** Requests started only after the last rotation (as those after each rotation's planned start wait for it). */
const AFTER_LAST_ROTATION = 20;
/** Outputs also checked by openssl cms -verify and pdfsig. */
const SAMPLE = 50;

const logs = new EventEmitter();
let stack: Stack;
let base: string;
let admin: { key: string };
let client: { key: string };

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.emit('line', JSON.parse(line)) });
  stack = await openStack(
    // 500 requests in a few seconds from one client: the per-client rate limit is not under test here.
    { ONESEAL_RATE_LIMIT_PER_SECOND: '100000', ONESEAL_RATE_LIMIT_BURST: '100000' },
    { logger, rotationIntervalMs: 200 },
  );
  base = stack.server.url;
  admin = await personWithSession(stack, 'ops', ['seal-admin']);
  client = await addClient(stack, 'approvals', [DEFAULT_SEAL_ID]);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const DIGESTS: Record<string, string> = { '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

type Node = asn1js.AsnType & { valueBlock: { value: Node[] }; idBlock: { tagClass: number; tagNumber: number }; valueBeforeDecodeView: Uint8Array };
const children = (n: Node): Node[] => n.valueBlock.value;
const isContext = (n: Node, tag: number) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === tag;
const der = (n: Node) => Buffer.from(n.valueBeforeDecodeView);

/**
 * Checks one PAdES CMS with node:crypto (OpenSSL) over a plain asn1js walk — not OneSeal's verifier,
 * and not pkijs's schema matching, which costs ~40 ms per signature: the messageDigest attribute is
 * the hash of the signed byte ranges, and the signature over the signed attributes verifies with the
 * embedded certificate the SignerInfo names (issuerAndSerialNumber). Returns that certificate.
 */
function checkCms(sig: FoundSignature): { serial: string; certificate: Buffer } {
  const contentInfo = asn1js.fromBER(sig.cms).result as unknown as Node;
  const signedData = children(children(contentInfo)[1]!)[0]!;
  const parts = children(signedData);
  const certificates = children(parts.find((p) => isContext(p, 0))!).map(der);
  const [, sid, digestAlgorithm, signedAttrs, , signature] = children(children(parts[parts.length - 1]!)[0]!);
  const serial = integerHex(children(sid!)[1] as unknown as asn1js.Integer);
  const certificate = certificates.find((c) => BigInt(`0x${new X509Certificate(c).serialNumber}`) === BigInt(`0x${serial}`));
  if (!certificate) throw new Error(`the CMS does not carry the signer certificate ${serial}`);
  const digest = DIGESTS[(children(digestAlgorithm!)[0] as unknown as asn1js.ObjectIdentifier).valueBlock.toString()]!;
  expect(isContext(signedAttrs!, 0)).toBe(true);
  const messageDigest = children(signedAttrs!)
    .map((attr) => children(attr))
    .find(([type]) => (type as unknown as asn1js.ObjectIdentifier).valueBlock.toString() === MESSAGE_DIGEST)![1]!;
  const claimed = Buffer.from((children(messageDigest)[0] as unknown as asn1js.OctetString).valueBlock.valueHexView);
  expect(claimed.equals(createHash(digest).update(sig.signed).digest())).toBe(true);
  // The signature covers the attributes DER-encoded as a SET (RFC 5652 §5.4), not as the [0] they are stored in.
  const attrs = der(signedAttrs!);
  attrs[0] = 0x31;
  const value = Buffer.from((signature as unknown as asn1js.OctetString).valueBlock.valueHexView);
  expect(verify(digest, attrs, new X509Certificate(certificate).publicKey, value)).toBe(true);
  return { serial, certificate };
}

/** Runs fn over items with at most `limit` at a time. */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe('rotation under load', () => {
  it(`keeps ${STAMPS} concurrent stamps correct through ${ROTATIONS} rotations`, async () => {
    const pdf = await makePdf({ pages: 1 });
    const replies: Reply[] = new Array(STAMPS);
    let completed = 0;
    const progress = new EventEmitter();
    const reached = (n: number) =>
      new Promise<void>((resolve) => {
        if (completed >= n) return resolve();
        const check = () => {
          if (completed >= n) {
            progress.off('stamp', check);
            resolve();
          }
        };
        progress.on('stamp', check);
      });

    // Rotation k starts once k/(ROTATIONS+1) of the stamps are done, over the admin API, while the rest run.
    // The stamps planned after the next one wait for it to finish, so every version signs some however
    // long a rotation takes (one took the time of 100 stamps on a busy machine); the last ones wait for all.
    const planned = (k: number) => Math.floor((k * (STAMPS - AFTER_LAST_ROTATION)) / (ROTATIONS + 1));
    const finished = Array.from({ length: ROTATIONS }, () => latch());
    const rotated: number[] = [];
    const rotations = (async () => {
      for (let k = 1; k <= ROTATIONS; k++) {
        await reached(planned(k));
        const r = await call(`${base}/v1/admin/seals/${DEFAULT_SEAL_ID}/rotate`, { method: 'POST', headers: bearer(admin.key) });
        expect(r.status, r.bytes.toString()).toBe(200);
        rotated.push(r.json<{ result: { version: { version: number } } }>().result.version.version);
        finished[k - 1]!.open();
      }
    })();
    const rotationBefore = async (stamp: number) => {
      for (let k = ROTATIONS; k >= 1; k--) {
        if (stamp >= planned(k + 1)) return finished[k - 1]!.promise;
      }
    };

    let next = 0;
    const started = performance.now();
    await Promise.all([
      rotations,
      ...Array.from({ length: CLIENT_CONCURRENCY }, async () => {
        while (next < STAMPS) {
          const i = next++;
          await rotationBefore(i);
          replies[i] = await call(`${base}/v1/stamps?seal=${DEFAULT_SEAL_ID}&page=1&x=150&y=60`, {
            method: 'POST',
            headers: bearer(client.key, { 'Content-Type': 'application/pdf' }),
            body: pdf,
          });
          completed++;
          progress.emit('stamp');
        }
      }),
    ]);
    const elapsed = (performance.now() - started) / 1000;

    expect(rotated).toEqual([2, 3, 4, 5, 6]);
    const failed = replies.map((r, i) => [i, r.status, r.status === 200 ? '' : r.bytes.toString()] as const).filter(([, s]) => s !== 200);
    expect(failed).toEqual([]);

    // Every stamp: its record's version, that version's certificate, and the signer in its CMS agree, and
    // the CMS verifies over the document's byte ranges (all 500, in-process: see checkCms).
    const checkStart = performance.now();
    const db = stack.services.store.db;
    const versions = new Map((await listSealVersions(db, DEFAULT_SEAL_ID)).map((v) => [v.version, v]));
    const ids = replies.map((r) => r.headers.get('stamp-id')!);
    const records = new Map(
      ((await db('stamps').whereIn('id', ids).select('id', 'seal_version', 'cert_serial')) as { id: string; seal_version: number; cert_serial: string }[]).map((r) => [r.id, r]),
    );
    const versionsUsed = new Map<number, number>();
    const signatures = replies.map((r, i) => {
      const record = records.get(ids[i]!)!;
      const sigs = signaturesIn(r.bytes);
      expect(sigs).toHaveLength(1);
      const { serial, certificate } = checkCms(sigs[0]!);
      const version = versions.get(record.seal_version)!;
      expect({ stamp: i, serial }).toEqual({ stamp: i, serial: version.certSerial });
      expect(record.cert_serial).toBe(serial);
      expect(certificate.equals(Buffer.from(version.certificate!))).toBe(true);
      versionsUsed.set(record.seal_version, (versionsUsed.get(record.seal_version) ?? 0) + 1);
      return sigs[0]!;
    });
    expect([...versionsUsed.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    // The check itself rejects a document changed by one byte.
    const tampered = Buffer.from(signatures[0]!.signed);
    tampered[100] ^= 1;
    expect(() => checkCms({ ...signatures[0]!, signed: tampered })).toThrow();
    // The six signer certificates chain to the root.
    for (const v of versions.values()) {
      expect(execFileSync('openssl', ['verify', '-CAfile', stack.trust.rootPem], { input: derToPem(v.certificate!, 'CERTIFICATE'), encoding: 'utf8' })).toMatch(/OK/);
    }
    const checkSeconds = (performance.now() - checkStart) / 1000;

    // A sample spread over the whole run (so every version is in it) also through openssl cms -verify
    // and pdfsig, which asks this server's OCSP responder: all 500 would take minutes on two cores.
    const toolStart = performance.now();
    const sample = Array.from({ length: SAMPLE }, (_, k) => Math.floor((k * (STAMPS - 1)) / (SAMPLE - 1)));
    const toolFailures: string[] = [];
    await bounded(sample, 4, async (i) => {
      const cms = opensslCmsVerify(stack.trust, signatures[i]!);
      if (cms.status !== 0) toolFailures.push(`openssl #${i}: ${cms.out}`);
      const report = await pdfsig(stack.trust, replies[i]!.bytes);
      if (!report.out.includes('Signature Validation: Signature is Valid.') || !report.out.includes('Certificate Validation: Certificate is Trusted.')) {
        toolFailures.push(`pdfsig #${i}: ${report.out}`);
      }
    });
    expect(toolFailures).toEqual([]);
    const toolSeconds = (performance.now() - toolStart) / 1000;
    console.log(`${STAMPS} stamps with ${ROTATIONS} rotations in ${elapsed.toFixed(1)} s, checked in ${checkSeconds.toFixed(1)} s, sample in ${toolSeconds.toFixed(1)} s; per version: ${JSON.stringify(Object.fromEntries(versionsUsed))}`);
  }, 180_000);

  it('rotates by policy from the server’s scheduler, logging it', async () => {
    const rotatedByPolicy = new Promise<{ sealId: string; version: number; reason: string }>((resolve) => {
      logs.on('line', (line: { msg: string; sealId: string; version: number; reason: string }) => {
        if (line.msg === 'seal rotated by policy') resolve(line);
      });
    });
    // Version 6 has signed stamps already, so "after 1 signature" makes it due at the next check.
    const set = await call(`${base}/v1/admin/seals/${DEFAULT_SEAL_ID}/rotation-policy`, {
      method: 'PUT',
      headers: bearer(admin.key, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ rotationPolicy: { afterSignatures: 1 } }),
    });
    expect(set.status).toBe(200);
    const logged = await rotatedByPolicy;
    expect(logged).toMatchObject({ sealId: DEFAULT_SEAL_ID, version: 7, reason: expect.stringMatching(/signatures \(policy: after 1\)/) });
    const active = (await listSealVersions(stack.services.store.db, DEFAULT_SEAL_ID)).filter((v) => v.status === 'active');
    expect(active.map((v) => v.version)).toEqual([7]);
    const entry = await stack.services.store.db('audit_log').where({ action: 'seal.rotate', subject: DEFAULT_SEAL_ID }).orderBy('seq', 'desc').first();
    expect(entry.actor).toBe('system:scheduler (policy approved by person:ops)');
  }, 30_000);
});
