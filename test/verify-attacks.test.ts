/**
 * Generated attacks on a signed PDF (see verify-attacks.ts): each must make the document invalid
 * for the named reason, while permitted later changes must not.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyPdf, type Report } from '../src/verify/index.js';
import { ATTACKS, PERMITTED } from './verify-attacks.js';
import { corpusFile } from './support/pdfs.js';

const allCodes = (r: Report): string[] => [...r.signatures.flatMap((s) => s.reasons.map((x) => x.code)), ...r.findings.map((f) => f.code)];

describe.each([['EU DSS pdf-signed-original.pdf', corpusFile('eu-dss-pades/validation/pdf-signed-original.pdf')]])('attacks on %s', (_label, file) => {
  const original = readFileSync(file);

  it('is not invalid before the attacks', async () => {
    const r = await verifyPdf(original);
    expect(r.verdict).toBe('indeterminate');
    expect(allCodes(r)).toEqual(['NO_TRUST_ANCHOR']);
  });

  // A builder that does not apply to the file throws, and the test fails with it.
  it.each(ATTACKS.map((a) => [`${a.family}: ${a.name}`, a] as const))('%s → invalid', async (_name, attack) => {
    const attacked = attack.make(original);
    expect(Buffer.compare(Buffer.from(attacked), original)).not.toBe(0);
    const r = await verifyPdf(attacked);
    expect(r.verdict).toBe('invalid');
    expect(allCodes(r)).toContain(attack.expect);
  });

  it.each(PERMITTED.map((p) => [p.name, p] as const))('%s → still not invalid', async (_name, change) => {
    const r = await verifyPdf(change.make(original));
    expect(r.verdict).toBe('indeterminate');
    const sig = r.signatures[0]!;
    expect(sig.coversWholeDocument).toBe(false);
    expect(sig.modifications.length).toBeGreaterThan(0);
    expect(sig.reasons.map((x) => x.code)).toEqual(['NO_TRUST_ANCHOR']);
  });
});
