import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOneSealError } from '../src/errors.js';
import { signPdf, type RevocationSource } from '../src/signing/sign-pdf.js';
import { corpusFile } from './support/pdfs.js';
import { openTestHsm, type TestToken } from './support/token.js';
import { makeTestPki, opensslVerify, pdfsigBlocks, run, type TestPki, writeTemp } from './signing-fixtures.js';

/**
 * Real signed PDFs from other signers (EU DSS test corpus, "intact" rows): adding a B-LT signature
 * must work on their structures (hybrid xrefs, existing DSS, several revisions) and must not change
 * what a verifier says about the signatures already there.
 */
const intact = readFileSync(corpusFile('EXPECTED.tsv'), 'utf8')
  .split('\n')
  .map((l) => l.split('\t'))
  .filter((c) => c[1] === 'intact')
  .map((c) => c[0]!);

let token: TestToken;
let pki: TestPki;
let revocation: RevocationSource;

beforeAll(async () => {
  token = await openTestHsm();
  pki = await makeTestPki(token.hsm);
  // Every file is signed with the same chain: issue the OCSP responses and CRLs once.
  let cached: ReturnType<RevocationSource['forCerts']> | undefined;
  revocation = { forCerts: (certs) => (cached ??= pki.revocation.forCerts(certs)) };
});
afterAll(async () => {
  pki?.dispose();
  await token?.close();
});

/** pdfsig's verdict per signature, without certificate checks (no trust anchors, no network). */
function verdicts(pdf: Uint8Array, name: string): string[] {
  const file = writeTemp(pki.dir, `${name}.pdf`, pdf);
  return pdfsigBlocks(run('pdfsig', ['-nocert', file]).out).map((b) => /Signature Validation: (.*)/.exec(b)?.[1] ?? '?');
}

describe('signing the signed-PDF corpus', () => {
  it(`adds a valid B-LT signature to each of the ${intact.length} intact files and leaves earlier verdicts alone`, async () => {
    const seal = await pki.seal('EC-P256');
    const refused: string[] = [];
    for (const path of intact) {
      const input = readFileSync(corpusFile(path));
      const name = path.replace(/\W+/g, '_');
      let r;
      try {
        r = await signPdf(input, {
          signer: seal.key,
          certificate: seal.cert,
          chain: seal.chain,
          signingTime: new Date(),
          level: 'B-LT',
          timestamper: pki.timestamper,
          revocation,
        });
      } catch (e) {
        // Certified "no changes" documents must be refused; anything else is a failure.
        if (isOneSealError(e) && e.code === 'document-certified-no-changes') {
          refused.push(path);
          continue;
        }
        throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
      }
      expect(Buffer.from(r.pdf.subarray(0, input.length)).equals(input), path).toBe(true);
      const before = verdicts(input, `${name}-in`);
      const after = verdicts(r.pdf, `${name}-out`);
      expect(after.slice(0, before.length), path).toEqual(before);
      expect(after.at(-1), path).toBe('Signature is Valid.');
      expect(opensslVerify(pki, r.pdf, r.byteRange, name).out, path).toContain('Verification successful');
      const inCheck = run('qpdf', ['--check', writeTemp(pki.dir, `${name}-qin.pdf`, input)]).status;
      if (inCheck === 0) expect(run('qpdf', ['--check', writeTemp(pki.dir, `${name}-qout.pdf`, r.pdf)]).status, path).toBe(0);
    }
    expect(refused.length).toBeLessThan(intact.length / 4);
  }, 300_000);
});
