import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hsm, type HsmKey } from '../src/hsm/hsm.js';
import { signOnLane } from '../src/hsm/lane-signer.js';
import { SOFTHSM_MODULE } from '../src/hsm/softhsm.js';
import type { KeyAlgorithm } from '../src/hsm/types.js';
import { openTestHsm, type TestToken } from './support/token.js';

let token: TestToken;
beforeAll(async () => {
  token = await openTestHsm();
});
afterAll(async () => {
  await token?.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

function verifies(key: HsmKey, data: Buffer, signature: Uint8Array): boolean {
  const publicKey = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
  return verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature);
}

describe('keys on a real SoftHSM token', () => {
  const algorithms: KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'];
  for (const algorithm of algorithms) {
    it(`generates ${algorithm} as sensitive, non-extractable, and signs verifiably`, async () => {
      const key = await token.hsm.generateKeyPair({ label: `gen-${algorithm}`, algorithm });
      expect(key.algorithm).toBe(algorithm);
      expect(await token.hsm.keyAttributes(key.id)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
      const data = Buffer.from(`document for ${algorithm}`);
      const signature = await key.signDigest('SHA-256', sha256(data));
      expect(verifies(key, data, signature)).toBe(true);
      expect(verifies(key, Buffer.from('another document'), signature)).toBe(false);
    });
  }

  it('imports a PKCS#8 key as non-extractable and it signs like the original', async () => {
    for (const [type, opts] of [
      ['rsa', { modulusLength: 2048 }],
      ['ec', { namedCurve: 'P-256' }],
    ] as const) {
      const pair = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      const key = await token.hsm.importPrivateKey({ label: `imported-${type}`, pkcs8 });
      expect(await token.hsm.keyAttributes(key.id)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
      expect(Buffer.from(key.spki)).toEqual(pair.publicKey.export({ format: 'der', type: 'spki' }));
      const data = Buffer.from('imported key signs');
      expect(verifies(key, data, await key.signDigest('SHA-256', sha256(data)))).toBe(true);
    }
  });

  it('finds keys by id and label, and destroys them', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'to-destroy', algorithm: 'EC-P256' });
    expect((await token.hsm.findKey(key.id))?.label).toBe('to-destroy');
    expect((await token.hsm.findKeysByLabel('to-destroy')).map((k) => k.id)).toEqual([key.id]);
    await token.hsm.destroyKey(key.id);
    expect(await token.hsm.findKey(key.id)).toBeUndefined();
    await expect(token.hsm.signDigest(key.id, 'SHA-256', sha256(Buffer.from('x')))).rejects.toMatchObject({
      code: 'hsm-key-not-found',
    });
  });
});

describe('the session pool', () => {
  it('runs 500 concurrent signatures, every one verifiable', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'pool-rsa', algorithm: 'RSA-2048' });
    const docs = Array.from({ length: 500 }, (_, i) => Buffer.from(`stamp request ${i}`));
    const signatures = await Promise.all(docs.map((d) => key.signDigest('SHA-256', sha256(d))));
    expect(signatures.filter((s, i) => verifies(key, docs[i]!, s))).toHaveLength(500);
    expect(token.hsm.stats.pool.inUse).toBe(0);
  });

  it('replaces sessions killed underneath it (and logs in again)', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'survivor', algorithm: 'EC-P256' });
    await token.hsm.closeAllSessionsUnderneath(); // also logs the application out, as an HSM failover would
    const docs = Array.from({ length: 20 }, (_, i) => Buffer.from(`after the kill ${i}`));
    const signatures = await Promise.all(docs.map((d) => key.signDigest('SHA-256', sha256(d))));
    expect(signatures.every((s, i) => verifies(key, docs[i]!, s))).toBe(true);
    expect((await token.hsm.health()).ok).toBe(true);
  });

  it('a lone request after the kill skips every dead idle session, however many the pool holds', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'lone', algorithm: 'EC-P256' });
    const { size } = token.hsm.stats.pool;
    expect(size).toBeGreaterThanOrEqual(4); // more dead idle sessions than a request has attempts
    // open every session of the pool, then leave them all idle
    await Promise.all(Array.from({ length: size * 2 }, (_, i) => key.signDigest('SHA-256', sha256(Buffer.from(`fill ${i}`)))));
    for (let kill = 0; kill < 3; kill++) {
      await token.hsm.closeAllSessionsUnderneath();
      const doc = Buffer.from(`alone after kill ${kill}`);
      expect(verifies(key, doc, await key.signDigest('SHA-256', sha256(doc)))).toBe(true);
    }
  });
});

describe('signing lanes', () => {
  const noTimeout = () => {
    throw new Error('no call here outlives the time-out');
  };

  it('lease a lane only for a key already looked up, and sign on it verifiably (RSA and ECDSA)', async () => {
    for (const algorithm of ['RSA-2048', 'EC-P256'] as const) {
      const generated = await token.hsm.generateKeyPair({ label: `lane-${algorithm}`, algorithm });
      const fresh = await Hsm.open({ modulePath: SOFTHSM_MODULE, tokenLabel: token.label, pin: token.pin });
      try {
        expect(fresh.leaseLane(generated.id, noTimeout)).toBeUndefined(); // not cached yet: the event loop signs first
        const key = (await fresh.findKey(generated.id))!;
        const lease = fresh.leaseLane(key.id, noTimeout)!;
        const data = Buffer.from(`on a lane, ${algorithm}`);
        const signed = signOnLane(lease.ticket, 'SHA-256', sha256(data))!;
        lease.end();
        expect(verifies(key, data, signed.signature)).toBe(true);
        expect(fresh.stats.lanes).toMatchObject({ size: 4, taken: 0, free: 4, signed: 1 });
      } finally {
        await fresh.close();
      }
    }
  });

  it('refuse a ticket from before the sessions were ended underneath, and sign again on new sessions', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'lane-reset', algorithm: 'EC-P256' });
    const old = token.hsm.leaseLane(key.id, noTimeout)!;
    await token.hsm.closeAllSessionsUnderneath();
    expect(signOnLane(old.ticket, 'SHA-256', sha256(Buffer.from('x')))).toBeUndefined();
    old.end();
    // the key handles were dropped with the sessions (a logout renumbers them): the event loop signs first
    expect(token.hsm.leaseLane(key.id, noTimeout)).toBeUndefined();
    await key.signDigest('SHA-256', sha256(Buffer.from('y')));
    const lease = token.hsm.leaseLane(key.id, noTimeout)!;
    const data = Buffer.from('after the reset');
    const signed = signOnLane(lease.ticket, 'SHA-256', sha256(data));
    lease.end();
    expect(signed && verifies(key, data, signed.signature)).toBe(true);
  });

  it('hand a failed call back to the event loop, whose next lease looks the keys up again', async () => {
    const key = await token.hsm.generateKeyPair({ label: 'lane-fail', algorithm: 'EC-P256' });
    const lease = token.hsm.leaseLane(key.id, noTimeout)!;
    const wrongHandle = { ...lease.ticket, keyHandle: Buffer.alloc(8, 0xff) };
    expect(signOnLane(wrongHandle, 'SHA-256', sha256(Buffer.from('x')))).toBeUndefined();
    lease.end();
    expect(token.hsm.stats.lanes.taken).toBe(0);
    expect(token.hsm.leaseLane(key.id, noTimeout)).toBeUndefined(); // the broken lane was mended, the handles dropped
    await key.signDigest('SHA-256', sha256(Buffer.from('y')));
    expect(token.hsm.leaseLane(key.id, noTimeout)).toBeDefined();
  });
});

describe('typed errors', () => {
  it('a missing module is hsm-module-unavailable', async () => {
    const err = await Hsm.open({ modulePath: '/nonexistent/libpkcs11.so', tokenLabel: 'x', pin: 'x' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'hsm-module-unavailable' });
    expect(err.message).toContain('ONESEAL_PKCS11_MODULE');
  });

  it('an unknown token label is hsm-token-not-found', async () => {
    const err = await Hsm.open({ modulePath: SOFTHSM_MODULE, tokenLabel: 'no-such-token', pin: 'x' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'hsm-token-not-found' });
    expect(err.message).toContain('no-such-token');
  });
});
