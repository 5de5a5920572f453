import { describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../src/hsm/types.js';
import { PdfDict, PdfName } from '../src/pdf/objects.js';
import { PdfOutput, serializeIndirect } from '../src/pdf/serialize.js';
import { byteRangePlaceholder, contentsPlaceholder, fillContents, prepareSlot } from '../src/signing/placeholder.js';
import { GrowingPdf } from '../src/signing/growing-pdf.js';
import { pdfDate } from '../src/signing/signature-dict.js';
import { signPdf } from '../src/signing/sign-pdf.js';
import { makePdf, type TestPki, useTestPki } from './signing-fixtures.js';

let pki: TestPki;

useTestPki((p) => {
  pki = p;
});

const ALGORITHMS: KeyAlgorithm[] = ['RSA-2048', 'RSA-3072', 'EC-P256', 'EC-P384'];

describe('/Contents sizing', () => {
  it.each(ALGORITHMS.flatMap((a) => (['B-B', 'B-T'] as const).map((l) => [a, l] as const)))(
    'reserves enough and little more (%s, %s)',
    async (algorithm, level) => {
      const seal = await pki.seal(algorithm);
      const input = await makePdf({ pages: 1 });
      // Several runs: ECDSA signatures and TSA serials vary in length.
      for (let i = 0; i < 3; i++) {
        const r = await signPdf(input, {
          signer: seal.key,
          certificate: seal.cert,
          chain: seal.chain,
          signingTime: new Date(),
          level,
          timestamper: pki.timestamper,
        });
        const reserved = (r.byteRange[2] - r.byteRange[1] - 2) / 2;
        expect(reserved).toBeGreaterThanOrEqual(r.cms.length);
        // Waste: the fixed margin, plus the TSA-token allowance when there is a time-stamp.
        expect(reserved - r.cms.length).toBeLessThan(level === 'B-B' ? 200 : 1600);
      }
    },
  );
});

describe('byte range slot', () => {
  const dictObject = (contents: number): Buffer => {
    const out = new PdfOutput();
    serializeIndirect(7, 0, new PdfDict({ Type: PdfName.of('Sig'), ByteRange: byteRangePlaceholder(), Contents: contentsPlaceholder(contents) }), out);
    return out.toBuffer();
  };

  it('writes the final ByteRange in place without changing any length', () => {
    const head = Buffer.from('%PDF-1.7\n% some earlier revision\n');
    const tail = Buffer.concat([dictObject(16), Buffer.from('\nxref trailer startxref 0\n%%EOF\n')]);
    const before = tail.length;
    const slot = prepareSlot(tail, 0, head.length);
    expect(tail.length).toBe(before);
    const whole = Buffer.concat([head, tail]);
    const text = whole.toString('latin1');
    const m = /\/ByteRange \[(\d+) (\d+) (\d+) (\d+) *\]/.exec(text)!;
    expect(m.slice(1).map(Number)).toEqual(slot.byteRange);
    const [, a, b, c] = slot.byteRange;
    expect(whole[a]).toBe(0x3c); // '<'
    expect(whole[b - 1]).toBe(0x3e); // '>'
    expect(b + c).toBe(whole.length);
    expect(slot.capacity).toBe(16);
  });

  it('fills /Contents and refuses a CMS larger than the reservation', () => {
    const tail = dictObject(4);
    const slot = prepareSlot(tail, 0, 0);
    fillContents(tail, slot, Buffer.from([0xab, 0xcd]));
    expect(tail.toString('latin1')).toContain('/Contents <abcd0000>');
    expect(() => fillContents(tail, slot, Buffer.alloc(5))).toThrow(/larger than the space reserved/);
  });
});

describe('pdfDate', () => {
  it('formats the instant in the requested zone', () => {
    const t = new Date('2026-11-27T16:05:09Z');
    expect(pdfDate(t)).toBe("D:20261127160509+00'00'");
    expect(pdfDate(t, 480)).toBe("D:20261128000509+08'00'");
    expect(pdfDate(t, -330)).toBe("D:20261127103509-05'30'");
  });
});

describe('GrowingPdf', () => {
  it('keeps earlier views intact and grows past its headroom', () => {
    const doc = new GrowingPdf(Buffer.from('%PDF-1.7\n'), 4);
    doc.append(Buffer.from('abc'));
    const first = doc.view();
    doc.append(Buffer.from('0123456789')); // beyond the headroom: reallocates
    expect(first.toString()).toBe('%PDF-1.7\nabc');
    expect(doc.view().toString()).toBe('%PDF-1.7\nabc0123456789');
    expect(doc.length).toBe(22);
  });
});
