/**
 * Property tests of the verdict on later revisions of a signed contract: any sequence of permitted
 * changes (new signatures, validation data, form filling, comments, document information) keeps it
 * valid; the same sequences with one unpermitted change anywhere — a shadow attack, or any object
 * page 1 reaches redefined at random — are never valid.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfStream, PdfString, name, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { signPdf } from '../src/signing/sign-pdf.js';
import { verifyPdf } from '../src/verify/index.js';
import { useTestPki, type TestPki } from './signing-fixtures.js';
import { firstPage, update } from './verify-attacks.js';
import { SHADOW_ATTACKS, type Seal } from './verify-shadow-attacks.js';
import { buildVictim, fieldOf, widgetOf } from './verify-victims.js';

let pki: TestPki;
let seal: Seal;
let signed: Buffer;

useTestPki((p) => {
  pki = p;
});
beforeAll(async () => {
  seal = await pki.seal('EC-P256');
  signed = (await signPdf(await buildVictim(), { signer: seal.key, certificate: seal.cert, chain: seal.chain, signingTime: new Date(), level: 'B-T', timestamper: pki.timestamper, fieldName: 'Seal' })).pdf;
});

const trust = () => ({ trustAnchors: [pki.root.cert], ownCa: { revocationLookup: () => ({ status: 'good' as const }) } });

type Step = (pdf: Buffer, i: number) => Promise<Uint8Array> | Uint8Array;

const appearanceOf = (text: string): PdfStream =>
  new PdfStream(new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 150, 24] }), Buffer.from(`BT /Helv 12 Tf 2 6 Td (${text.replace(/[()\\]/g, '')}) Tj ET`));

const permitted: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>(async (pdf, i) => (await signPdf(pdf, { signer: seal.key, certificate: seal.cert, chain: seal.chain, signingTime: new Date(), level: 'B-B', fieldName: `Later${i}` })).pdf),
  fc.constant<Step>((pdf) =>
    update(pdf, (reader, w) => {
      const catalog = reader.catalog().clone();
      const dss = reader.resolve(catalog.get('DSS'));
      const certs = dss instanceof PdfDict ? (reader.resolve(dss.get('Certs')) as PdfValue[]) : [];
      w.update(reader.trailer.get('Root') as PdfRef, catalog.set('DSS', w.add(new PdfDict({ Certs: [...certs, w.add(new PdfStream(new PdfDict(), seal.cert))] }))));
    }),
  ),
  fc.tuple(fc.constantFrom('amount', 'payee'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })).map(
    ([field, value]): Step =>
      (pdf) =>
        update(pdf, (reader, w) => {
          const f = fieldOf(reader, field);
          w.update(f.ref, f.dict.clone().set('V', PdfString.text(value)));
          const widget = widgetOf(reader, field);
          w.update(widget.ref, widget.dict.clone().set('AP', new PdfDict({ N: w.add(appearanceOf(value)) })));
        }),
  ),
  fc.constant<Step>((pdf, i) =>
    update(pdf, (reader, w) => {
      const page = firstPage(reader);
      // Each comment in its own spot of the bottom margin: additions may not cover one another.
      const comment = w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Text'), Rect: [20 + 30 * i, 10, 40 + 30 * i, 30], Contents: PdfString.text(`note ${i}`), F: 4 }));
      w.update(page.ref, page.dict.clone().set('Annots', [...(reader.resolve(page.dict.get('Annots')) as PdfValue[]), comment]));
    }),
  ),
  fc.constant<Step>((pdf, i) =>
    update(pdf, (reader, w) => {
      const info = reader.trailer.get('Info');
      if (!(info instanceof PdfRef)) throw new Error('the document has no /Info');
      w.update(info, (reader.getObject(info) as PdfDict).clone().set('ModDate', PdfString.literal(`D:2026120${i % 10}000000Z`)));
    }),
  ),
);

/** Everything page 1 reaches (not following /Parent and /P back to the page tree). */
function reachedFromPage(reader: PdfReader): number[] {
  const out = new Set<number>();
  const stack: (PdfValue | undefined)[] = [firstPage(reader).ref];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof PdfRef) {
      if (out.has(v.num)) continue;
      out.add(v.num);
      stack.push(reader.getObject(v));
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof PdfDict || v instanceof PdfStream) for (const [k, x] of (v instanceof PdfStream ? v.dict : v).entries()) if (k !== 'Parent' && k !== 'P') stack.push(x);
  }
  return [...out].filter((n) => {
    const v = reader.getObject(n);
    return v instanceof PdfDict || v instanceof PdfStream || Array.isArray(v);
  });
}

const unpermitted: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(...SHADOW_ATTACKS.filter((a) => Object.keys(a.victim).length === 0)).map((a): Step => (pdf) => a.make(pdf, seal)),
  fc.nat().map(
    (pick): Step =>
      (pdf) =>
        update(pdf, (reader, w) => {
          const candidates = reachedFromPage(reader);
          const num = candidates[pick % candidates.length]!;
          const v = reader.getObject(num);
          const tampered = v instanceof PdfStream ? new PdfStream(v.dict.clone().set('Tampered', true), Buffer.concat([v.data, Buffer.from(' ')])) : v instanceof PdfDict ? v.clone().set('Tampered', true) : [...(v as PdfValue[]), null];
          w.update(num, tampered);
        }),
  ),
);

async function apply(steps: Step[]): Promise<Buffer> {
  let pdf = signed;
  for (const [i, step] of steps.entries()) pdf = Buffer.from(await step(pdf, i));
  return pdf;
}

describe('later revisions, as a property', () => {
  it('any sequence of permitted changes keeps the seal valid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(permitted, { minLength: 1, maxLength: 4 }), async (steps) => {
        const r = await verifyPdf(await apply(steps), trust());
        expect(r.verdict, JSON.stringify(r.signatures.map((s) => s.modifications.filter((m) => !m.permitted).map((m) => m.message.en)))).toBe('valid');
      }),
      { numRuns: 15, seed: 20261201 },
    );
  });

  it('one unpermitted change anywhere in such a sequence is never valid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(permitted, { maxLength: 2 }), unpermitted, fc.array(permitted, { maxLength: 2 }), async (before, bad, after) => {
        const r = await verifyPdf(await apply([...before, bad, ...after]), trust());
        expect(r.verdict).toBe('invalid');
        expect(r.signatures.find((s) => s.fieldName === 'Seal')!.reasons.map((x) => x.code)).toContain('MODIFIED_AFTER_SIGNING');
      }),
      { numRuns: 25, seed: 20261202 },
    );
  });
});
