/**
 * Shadow attacks and sneaky appearance updates, built in test code on a prepared document signed two
 * independent ways — by OneSeal (incremental, HSM key) and by the common Node signer (pdf-lib
 * rewrite + @signpdf/node-forge, its own CA): every attack leaves the signature cryptographically
 * intact (poppler's pdfsig says so) yet makes the document invalid with MODIFIED_AFTER_SIGNING and a
 * sentence naming what changed; every change the signature permits keeps it valid.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../src/signing/sign-pdf.js';
import { verifyPdf, type Report, type VerifyOptions } from '../src/verify/index.js';
import { useTestPki, type TestPki } from './signing-fixtures.js';
import { scratchDir } from './support/pdfs.js';
import { PERMITTED_UPDATES, SHADOW_ATTACKS, SNEAKY_UPDATES, type RevisionBuilder, type Seal } from './verify-shadow-attacks.js';
import { buildVictim, makeIndependentSigner, type IndependentSigner, type VictimOptions } from './verify-victims.js';

let pki: TestPki;
let independent: IndependentSigner;
let attacker: Seal;
const scratch = scratchDir();

useTestPki((p) => {
  pki = p;
});
beforeAll(async () => {
  independent = makeIndependentSigner();
  attacker = await pki.seal('EC-P256');
});
afterAll(() => scratch.cleanup());

interface Base {
  name: string;
  /** The signature field the signer creates. */
  field: string;
  sign(pdf: Buffer): Promise<Buffer>;
}

const BASES: Base[] = [
  {
    name: 'signed by OneSeal',
    field: 'Seal',
    sign: async (pdf) => {
      const seal = await pki.seal('RSA-2048');
      const signed = await signPdf(pdf, { signer: seal.key, certificate: seal.cert, chain: seal.chain, signingTime: new Date(), level: 'B-T', timestamper: pki.timestamper, fieldName: 'Seal' });
      return signed.pdf;
    },
  },
  { name: 'signed by the independent signer', field: 'Signature1', sign: (pdf) => independent.sign(pdf) },
];

const trust = (): VerifyOptions => ({
  trustAnchors: [pki.root.cert, independent.rootDer],
  // Each CA's own records: the test CAs revoked nothing.
  ownCa: { revocationLookup: () => ({ status: 'good' }) },
});

const signedVictims = new Map<string, Promise<Buffer>>();
function signedVictim(base: Base, o: VictimOptions): Promise<Buffer> {
  const key = `${base.name}|${JSON.stringify(o)}`;
  let p = signedVictims.get(key);
  if (!p) signedVictims.set(key, (p = buildVictim(o).then((v) => base.sign(v))));
  return p;
}

/** pdfsig's lines about one signature field, without certificate checks (the test CAs are not in NSS). */
function pdfsigOf(pdf: Uint8Array, field: string): string {
  const file = scratch.file(`${field}-${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(file, pdf);
  const out = spawnSync('pdfsig', ['-nocert', file], { encoding: 'utf8' }).stdout;
  const block = out.split(/^Signature #\d+:$/m).find((b) => b.includes(`Signature Field Name: ${field}\n`));
  if (!block) throw new Error(`pdfsig lists no signature field ${field}:\n${out}`);
  return block;
}

const sig = (r: Report, field: string) => r.signatures.find((s) => s.fieldName === field)!;

describe.each(BASES)('a prepared contract $name', (base) => {
  it('is valid as signed, and pdfsig agrees the signature covers the whole document', async () => {
    const signed = await signedVictim(base, {});
    const r = await verifyPdf(signed, trust());
    expect(r.verdict, JSON.stringify(r.signatures.map((s) => s.reasons))).toBe('valid');
    expect(sig(r, base.field)).toMatchObject({ verdict: 'valid', coversWholeDocument: true, modifications: [] });
    const block = pdfsigOf(signed, base.field);
    expect(block).toContain('Signature is Valid.');
    expect(block).toContain('Total document signed');
  });

  it.each([...SHADOW_ATTACKS, ...SNEAKY_UPDATES].map((a) => [`${a.family}: ${a.name}`, a] as const))('%s → invalid (MODIFIED_AFTER_SIGNING)', async (_name, attack: RevisionBuilder) => {
    const signed = await signedVictim(base, attack.victim);
    const attacked = await attack.make(signed, attacker);
    // The attack is real: the signature itself still verifies over the bytes it covers.
    const block = pdfsigOf(attacked, base.field);
    expect(block).toContain('Signature is Valid.');
    expect(block).toContain('Not total document signed');

    const r = await verifyPdf(attacked, trust());
    expect(r.verdict).toBe('invalid');
    const victim = sig(r, base.field);
    expect(victim.verdict).toBe('invalid');
    expect(victim.reasons.map((x) => x.code)).toContain('MODIFIED_AFTER_SIGNING');
    const refused = victim.modifications.filter((m) => !m.permitted);
    expect(refused.map((m) => m.message.en).some((m) => attack.words!.test(m)), refused.map((m) => m.message.en).join('\n')).toBe(true);
    expect(refused.every((m) => m.message.zh.startsWith('修订 ') && m.refusal !== undefined)).toBe(true);
    if (attack.family === 'sneaky appearance' && attack.name.startsWith('signing')) {
      // The attacker's own signature is intact and trusted: only the diff analysis catches the update.
      expect(sig(r, 'Approval').reasons.map((x) => x.code)).not.toContain('SIGNATURE_INVALID');
    }
  });

  it.each(PERMITTED_UPDATES.map((p) => [p.name, p] as const))('permitted: %s → still valid', async (_name, change: RevisionBuilder) => {
    const signed = await signedVictim(base, change.victim);
    const changed = await change.make(signed, attacker);
    expect(pdfsigOf(changed, base.field)).toContain('Not total document signed');
    const r = await verifyPdf(changed, trust());
    const victim = sig(r, base.field);
    expect(victim.modifications.filter((m) => !m.permitted)).toEqual([]);
    expect(victim.reasons).toEqual([]);
    expect(r.verdict).toBe('valid');
    expect(victim.coverage!.message.en).toMatch(/^covers revision \d+ of \d+; revision \d+ /);
  });
});
