/**
 * Hostile input: any change to signed bytes makes the document invalid (or unreadable, a PdfError),
 * never valid-looking and never a crash; damaged structures end in a verdict within seconds.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PdfError } from '../src/errors.js';
import { verifyPdf } from '../src/verify/index.js';
import { corpusFile } from './support/pdfs.js';
import { locateSignature } from './verify-attacks.js';

const original = readFileSync(corpusFile('eu-dss-pades/validation/pdf-signed-original.pdf'));
const gap = locateSignature(original).contents;

async function outcome(bytes: Uint8Array): Promise<string> {
  const t0 = Date.now();
  try {
    const r = await verifyPdf(bytes);
    return r.verdict;
  } catch (e) {
    if (e instanceof PdfError) return `pdf-error:${e.code}`;
    throw e;
  } finally {
    expect(Date.now() - t0).toBeLessThan(5000);
  }
}

describe('hostile input', () => {
  it('a change to any signed byte makes the document invalid or unreadable', async () => {
    const signedOffset = fc.oneof(fc.integer({ min: 0, max: gap[0] - 1 }), fc.integer({ min: gap[1], max: original.length - 1 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(signedOffset, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
        const bytes = Buffer.from(original);
        for (const [at, x] of edits) bytes[at] = bytes[at]! ^ x;
        const r = await outcome(bytes);
        expect(['invalid', 'pdf-error:invalid-pdf']).toContain(r);
      }),
      { numRuns: 60, seed: 20261127 },
    );
  });

  it('truncated files end in a verdict that is not valid (invalid, or not sealed once the signature is cut off) or a PdfError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: original.length - 1 }), async (cut) => {
        const r = await outcome(original.subarray(0, cut));
        expect(r === 'invalid' || r === 'not-sealed' || r.startsWith('pdf-error:')).toBe(true);
      }),
      { numRuns: 30, seed: 7 },
    );
  });

  it('a signature field tree with a /Kids cycle and deep nesting still ends in a verdict', async () => {
    const cyc = Buffer.from(
      [
        '%PDF-1.7',
        '1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >> endobj',
        '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
        '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >> endobj',
        '4 0 obj << /FT /Sig /T (a) /Kids [5 0 R] >> endobj',
        '5 0 obj << /T (b) /Kids [4 0 R 5 0 R] /V << /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >> >> endobj',
        'trailer << /Root 1 0 R /Size 6 >>',
        '%%EOF',
      ].join('\n'),
      'latin1',
    );
    const r = await verifyPdf(cyc);
    expect(r.verdict).toBe('invalid');
    expect(r.signatures.map((s) => s.fieldName)).toEqual(['a.b']);
    expect(r.signatures[0]!.reasons.map((x) => x.code)).toEqual(expect.arrayContaining(['CONTENTS_MISSING', 'BYTE_RANGE']));
  });

  it('a PDF without signatures is not sealed, with NOT_SIGNED', async () => {
    const plain = Buffer.from(
      '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
      'latin1',
    );
    const r = await verifyPdf(plain);
    expect(r.verdict).toBe('not-sealed');
    expect(r.seals).toBe(0);
    expect(r.signatures).toEqual([]);
    expect(r.findings.map((f) => f.code)).toEqual(['DAMAGED_XREF', 'NOT_SIGNED']);
  });
});
