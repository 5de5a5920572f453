import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../src/hsm/types.js';
import { addSignatureTimestamp, buildSignedData, certificatesOf, signatureValueOf } from '../src/signing/cms.js';
import { run, type TestPki, writeTemp, useTestPki } from './signing-fixtures.js';
import type { TestToken } from './support/token.js';

let pki: TestPki;
let token: TestToken;

useTestPki((p, t) => {
  pki = p;
  token = t;
});

function signedAttributes(cms: Uint8Array): pkijs.Attribute[] {
  const ci = pkijs.ContentInfo.fromBER(cms);
  const sd = new pkijs.SignedData({ schema: ci.content });
  return sd.signerInfos[0]!.signedAttrs!.attributes;
}

const ALGORITHMS: KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'];

describe('buildSignedData', () => {
  it.each(ALGORITHMS)('makes a detached SignedData that openssl verifies against the root (%s)', async (algorithm) => {
    const seal = await pki.seal(algorithm);
    const content = randomBytes(5000);
    const hash = algorithm === 'EC-P384' ? 'sha384' : 'sha256';
    const cms = await buildSignedData({
      signer: seal.key,
      certificate: seal.cert,
      chain: seal.chain,
      contentDigest: createHash(hash).update(content).digest(),
    });
    const sig = writeTemp(pki.dir, `sig-${algorithm}.der`, cms);
    const data = writeTemp(pki.dir, `data-${algorithm}.bin`, content);
    const args = ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', data, '-CAfile', pki.rootPem];
    const ok = run('openssl', [...args, '-purpose', 'any', '-out', '/dev/null']);
    expect(ok.out).toContain('Verification successful');
    expect(ok.status).toBe(0);

    // One flipped content byte must fail: the message digest really is bound to the content.
    content[100]! ^= 1;
    writeTemp(pki.dir, `data-${algorithm}.bin`, content);
    expect(run('openssl', [...args, '-purpose', 'any', '-out', '/dev/null']).status).not.toBe(0);
  });

  it('has exactly the PAdES signed attributes, in DER order, with no signing time', async () => {
    const seal = await pki.seal('EC-P256');
    const digest = createHash('sha256').update('x').digest();
    const cms = await buildSignedData({ signer: seal.key, certificate: seal.cert, chain: seal.chain, contentDigest: digest });
    const types = signedAttributes(cms).map((a) => a.type);
    expect(new Set(types)).toEqual(
      new Set(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47']),
    );
    expect(types).not.toContain('1.2.840.113549.1.9.5');
    // DER SET OF order: each encoded attribute sorts after the previous one.
    const encoded = signedAttributes(cms).map((a) => Buffer.from(a.toSchema().toBER()));
    for (let i = 1; i < encoded.length; i++) expect(Buffer.compare(encoded[i - 1]!, encoded[i]!)).toBeLessThan(0);

    // ESS signing-certificate-v2 holds the SHA-256 of the signer certificate.
    const essAttr = signedAttributes(cms).find((a) => a.type === '1.2.840.113549.1.9.16.2.47')!;
    const ess = essAttr.values[0] as asn1js.Sequence;
    const certId = (ess.valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const certHash = certId.valueBlock.value[0] as asn1js.OctetString;
    expect(Buffer.from(certHash.valueBlock.valueHexView).toString('hex')).toBe(
      createHash('sha256').update(seal.cert).digest('hex'),
    );
    // The chain is carried for the verifier: signer, intermediate and root, each once.
    expect(certificatesOf(cms).map((c) => Buffer.from(c).toString('hex')).sort()).toEqual(
      [seal.cert, ...seal.chain].map((c) => Buffer.from(c).toString('hex')).sort(),
    );
  });

  it('refuses a certificate that does not match the key', async () => {
    const a = await pki.seal('EC-P256');
    const b = await pki.seal('RSA-2048');
    await expect(
      buildSignedData({ signer: a.key, certificate: b.cert, chain: [], contentDigest: Buffer.alloc(32) }),
    ).rejects.toMatchObject({ code: 'certificate-key-mismatch' });
  });

  it('embeds the chain it is given each time, though the same certificate signed before with another', async () => {
    const seal = await pki.seal('EC-P256');
    const embedded = async (chain: readonly Uint8Array[]) => {
      const cms = await buildSignedData({ signer: seal.key, certificate: seal.cert, chain, contentDigest: Buffer.alloc(32) });
      return certificatesOf(cms).map((c) => Buffer.from(c).toString('hex'));
    };
    const hex = (c: Uint8Array) => Buffer.from(c).toString('hex');
    expect(await embedded([])).toEqual([hex(seal.cert)]);
    expect(await embedded(seal.chain)).toEqual(expect.arrayContaining([seal.cert, ...seal.chain].map(hex)));
    expect(await embedded(seal.chain)).toHaveLength(1 + seal.chain.length);
    expect(await embedded([])).toEqual([hex(seal.cert)]);
  });

  it.each(['EC-P256', 'RSA-2048'] as const)('refuses a signature the HSM made with another key (%s, as a stale handle would)', async (algorithm) => {
    const a = await pki.seal(algorithm);
    const b = await token.hsm.generateKeyPair({ label: `other-${algorithm}`, algorithm });
    // a's certificate and public key, but the token signs with b's private key
    const confused = { algorithm, spki: a.key.spki, signDigest: b.signDigest.bind(b) };
    const contentDigest = createHash('sha256').update('x').digest();
    await expect(buildSignedData({ signer: confused, certificate: a.cert, chain: a.chain, contentDigest })).rejects.toMatchObject({
      code: 'signature-check-failed',
      kind: 'unavailable',
    });
    // the same key pair on both sides passes
    await expect(buildSignedData({ signer: a.key, certificate: a.cert, chain: a.chain, contentDigest })).resolves.toBeInstanceOf(Buffer);
  });
});

describe('addSignatureTimestamp', () => {
  it('adds the unsigned attribute and leaves the signature verifiable', async () => {
    const seal = await pki.seal('RSA-2048');
    const content = Buffer.from('signed content');
    const cms = await buildSignedData({
      signer: seal.key,
      certificate: seal.cert,
      chain: seal.chain,
      contentDigest: createHash('sha256').update(content).digest(),
    });
    // Any DER blob stands in for the token here; the TSA round trip is tested in signing-pdf.
    const fakeToken = new asn1js.Sequence({ value: [new asn1js.Integer({ value: 7 })] }).toBER();
    const stamped = addSignatureTimestamp(cms, new Uint8Array(fakeToken));
    expect(Buffer.from(signatureValueOf(stamped))).toEqual(Buffer.from(signatureValueOf(cms)));
    const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(stamped).content });
    const unsigned = sd.signerInfos[0]!.unsignedAttrs!.attributes;
    expect(unsigned.map((a) => a.type)).toEqual(['1.2.840.113549.1.9.16.2.14']);
    expect(Buffer.from(unsigned[0]!.values[0]!.toBER())).toEqual(Buffer.from(fakeToken));

    const sig = writeTemp(pki.dir, 'stamped.der', stamped);
    const data = writeTemp(pki.dir, 'stamped.bin', content);
    const v = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', data, '-CAfile', pki.rootPem, '-purpose', 'any', '-out', '/dev/null']);
    expect(v.out).toContain('Verification successful');
  });

  it('signatureValueOf is the SignerInfo signature (RSA-2048: 256 bytes)', async () => {
    const seal = await pki.seal('RSA-2048');
    const cms = await buildSignedData({ signer: seal.key, certificate: seal.cert, chain: [], contentDigest: Buffer.alloc(32, 1) });
    const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(cms).content });
    expect(Buffer.from(signatureValueOf(cms))).toEqual(Buffer.from(sd.signerInfos[0]!.signature.valueBlock.valueHexView));
    expect(signatureValueOf(cms).length).toBe(256);
  });
});
