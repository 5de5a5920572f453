/**
 * Issue 3 acceptance: two and three stamps in a row on every fixture (the same seal twice, then
 * another seal with its own HSM key), PAdES B-T, each step judged by pdfsig, qpdf and openssl.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeal } from '../src/seals/service.js';
import type { StampRequest } from '../src/stamping/stamper.js';
import { MM } from '../src/stamp/units.js';
import { fixture, openStack, OTHER_SIGNER_PDF, type Stack } from './support/stamp-stack.js';
import { expectSigned, redFraction, render } from './support/validators.js';

let s: Stack;
let tsaCert: Uint8Array;
beforeAll(async () => {
  s = await openStack();
  tsaCert = s.services.authority.tsa.certificate;
  await createSeal(
    s.services,
    { id: 'contract', organisation: '某某区测试中心', creditCode: s.services.config.seal.orgCreditCode, name: '合同专用章', keyAlgorithm: 'EC-P256' },
    'test',
  );
});
afterAll(async () => {
  await s?.close();
});

const at = (page: number, x: number, y: number): StampRequest['placement'] => ({ kind: 'position', page, x, y });

/** Per fixture: the first placement (the fixture's own way), then two positions; the third stamp uses the other seal. */
const CASES: { name: string; load: () => Buffer; placements: StampRequest['placement'][]; foreign: number }[] = [
  { name: 'approval letter', load: () => fixture('approval-letter.pdf'), placements: [{ kind: 'anchor', text: '（盖章）' }, at(1, 40, 40), at(1, 100, 40)], foreign: 0 },
  { name: '30 pages, object streams', load: () => fixture('long-30-pages.pdf'), placements: [at(17, 150, 60), at(1, 40, 40), at(30, 100, 40)], foreign: 0 },
  {
    name: 'form with a signature field',
    load: () => fixture('form-empty-signature-field.pdf'),
    placements: [{ kind: 'field', name: 'approverSignature' }, at(1, 40, 40), at(1, 170, 40)],
    foreign: 0,
  },
  { name: 'PDF 1.3', load: () => fixture('pdf13.pdf'), placements: [at(1, 40, 40), at(1, 100, 40), at(1, 160, 40)], foreign: 0 },
  { name: 'signed by someone else', load: () => readFileSync(OTHER_SIGNER_PDF), placements: [at(1, 40, 40), at(1, 100, 40), at(1, 160, 40)], foreign: 1 },
];

describe.each(CASES)('$name: stamps in a row', ({ load, placements, foreign }) => {
  it('keeps every earlier signature valid; the last one covers the whole document', async () => {
    const original = load();
    let doc = original;
    const seals = ['approval', 'approval', 'contract'];
    for (let i = 0; i < 3; i++) {
      const before = doc;
      const r = await s.services.stamper.stamp(before, { sealId: seals[i]!, placement: placements[i]! });
      doc = r.pdf;
      expect(r.seal.id).toBe(seals[i]);
      // this step on its own: one signature more, and every earlier one (ours or not) still valid
      const step = await expectSigned(s.trust, before, doc, { added: 1, tsaCert, timestamped: true });
      expect(step.earlier).toHaveLength(foreign + i);
      expect(step.added[0]!.pdfsig).toContain('Total document signed');
      expect(step.added[0]!.pdfsig).not.toContain('Not total document signed');
      for (const e of step.earlier) expect(e.pdfsig).toContain('Not total document signed');
    }
    const check = await expectSigned(s.trust, original, doc, { added: 3, tsaCert, timestamped: true });
    expect(check.added[2]!.pdfsig).toContain('合同专用章');
    expect(check.added[0]!.pdfsig).toContain(s.services.config.seal.sealName);

    // every position stamp is drawn where it was asked for
    const pages = new Map<number, ReturnType<typeof render>>();
    for (const p of placements) {
      if (p.kind !== 'position') continue;
      const img = pages.get(p.page) ?? render(doc, p.page);
      pages.set(p.page, img);
      expect(redFraction(img, p.x * MM - 4, p.y * MM - 4, 8, 8), `seal centre on page ${p.page} at ${p.x},${p.y} mm`).toBeGreaterThan(0.4);
    }
  });
});
