/**
 * The verification engine against real signed PDFs of other signers and published attack files
 * (fixtures/corpus, from EU DSS): every `attack` row must be invalid, every `intact` row must keep its
 * cryptographic integrity and, without the signers' trust anchors, be indeterminate.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { INTEGRITY } from '../src/verify/reasons.js';
import { verifyPdf, type Report } from '../src/verify/index.js';
import { corpusDir, corpusFile } from './support/pdfs.js';

const rows = readFileSync(`${corpusDir}/EXPECTED.tsv`, 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split('\t') as [string, 'attack' | 'intact', string]);

const mismatches: string[] = [];
const reports = new Map<string, Report>();

function summary(r: Report): string {
  return r.signatures.map((s) => `${s.fieldName}: ${s.verdict} [${s.reasons.map((x) => x.code).join(',')}]`).join('; ');
}

describe('EU DSS corpus (EXPECTED.tsv)', () => {
  afterAll(() => {
    if (mismatches.length > 0) console.log(`Corpus mismatches:\n${mismatches.join('\n')}`);
  });

  it.each(rows)('%s is %s', async (file, expected) => {
    const report = await verifyPdf(readFileSync(corpusFile(file)));
    reports.set(file, report);
    const integrityFailures = report.signatures.flatMap((s) => s.reasons.filter((r) => INTEGRITY.has(r.code)));
    const ok = expected === 'attack' ? report.verdict === 'invalid' : report.verdict === 'indeterminate' && integrityFailures.length === 0;
    if (!ok) mismatches.push(`${expected}\t${report.verdict}\t${file}\t${summary(report)}`);
    if (expected === 'attack') {
      expect(report.verdict).toBe('invalid');
    } else {
      expect(report.verdict).toBe('indeterminate');
      expect(integrityFailures).toEqual([]);
      // Untrusted only: every signature is held back by the missing anchor, nothing else fatal.
      for (const s of report.signatures) expect(s.reasons.map((r) => r.code)).toContain('NO_TRUST_ANCHOR');
    }
    for (const s of report.signatures) for (const r of s.reasons) expect(r.message.zh.length * r.message.en.length).toBeGreaterThan(0);
  });

  const codes = (file: string): string[] => reports.get(file)!.signatures.flatMap((s) => s.reasons.map((r) => r.code));
  const prefix = 'eu-dss-pades/validation/';

  it('names the reason each attack fails for', () => {
    expect(reports.size).toBe(rows.length);
    expect(codes(`${prefix}pdf-signed-corrupted.pdf`)).toContain('BYTE_RANGE'); // truncated: the range runs past the end
    expect(codes(`${prefix}siwa.pdf`)).toContain('BYTE_RANGE');
    expect(codes(`${prefix}pdf-signed-out-of-byteRange.pdf`)).toContain('BYTE_RANGE');
    expect(codes(`${prefix}pdf-byterange-overlap.pdf`)).toContain('BYTE_RANGE');
    expect(codes(`${prefix}pades-lta-copied-doctst.pdf`)).toContain('TIMESTAMP_MISMATCH');
    expect(codes(`${prefix}pades-t-duplicated-doctst.pdf`)).toContain('TIMESTAMP_MISMATCH');
    expect(codes(`${prefix}pades-spoofing-replaced-reason.pdf`)).toContain('MODIFIED_AFTER_SIGNING');
    expect(codes(`${prefix}dss-2236/hide.pdf`)).toContain('MODIFIED_AFTER_SIGNING');
    expect(codes(`${prefix}dss-2236/replace.pdf`)).toContain('MODIFIED_AFTER_SIGNING');
    expect(codes(`${prefix}pdf-signed-added-page.pdf`)).toContain('MODIFIED_AFTER_SIGNING');
    expect(codes(`${prefix}pdf-removed-pages.pdf`)).toContain('MODIFIED_AFTER_SIGNING');
  });

  it('reports levels, times and permitted changes of intact files', () => {
    const original = reports.get(`${prefix}pdf-signed-original.pdf`)!;
    expect(original.signatures).toHaveLength(1);
    const sig = original.signatures[0]!;
    expect(sig.coversWholeDocument).toBe(true);
    expect(sig.modifications).toEqual([]);
    expect(sig.level).toBe('B-B');
    expect(sig.signer?.serial).toMatch(/^[0-9a-f]+$/);
    expect(sig.signingTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    // Extended to LTA: the signature covers an earlier revision; later ones add only LTV data and time-stamps.
    const lta = reports.get(`${prefix}Test.signed_Certipost-2048-SHA512.extended-LTA.pdf`)!;
    const main = lta.signatures.find((s) => s.kind === 'signature')!;
    expect(main.coversWholeDocument).toBe(false);
    expect(main.level).toBe('B-LTA');
    expect(main.modifications.length).toBeGreaterThan(0);
    // Only LTV data and document time-stamps came after it (the last time-stamper also set the form's
    // default appearance, a form-filling change), and the report says so in words.
    expect(main.modifications.every((m) => m.permitted)).toBe(true);
    expect(new Set(main.modifications.map((m) => m.kind))).toEqual(new Set(['validation-data', 'doc-timestamp', 'form-resources']));
    expect(main.modifications.filter((m) => m.kind !== 'form-resources').every((m) => m.level === 'lta-updates')).toBe(true);
    expect(main.coverage).toMatchObject({ revision: main.revision, revisions: lta.revisions, laterLevel: 'form-filling' });
    expect(main.coverage!.message.en).toMatch(new RegExp(`^covers revision ${main.revision! + 1} of ${lta.revisions}; revision ${main.revision! + 2} adds validation data only`));
    expect(main.coverage!.message.zh).toContain(`覆盖第 ${main.revision! + 1} 个修订版本（共 ${lta.revisions} 个）`);
    expect(lta.signatures.filter((s) => s.kind === 'doc-timestamp').every((s) => s.timestamp?.intact)).toBe(true);
  });
});
