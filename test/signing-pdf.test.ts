import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PDFDocument, PDFName, type PDFRef, PDFString, degrees } from '@cantoo/pdf-lib';
import { describe, expect, it } from 'vitest';
import { PdfDict, PdfName, PdfRef, PdfStream, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import type { PdfAllocator } from '../src/pdf/font.js';
import type { AppearanceSource } from '../src/signing/field.js';
import { signPdf, type SignPdfOptions } from '../src/signing/sign-pdf.js';
import { placeAt, placedAppearance } from '../src/stamp/placement.js';
import { emitStraddle, planStraddle } from '../src/stamp/straddle.js';
import { buildSealAppearance } from '../src/stamp/seal.js';
import { makePdf, opensslVerify, pdfsig, pdfsigBlocks, qpdfCheck, qpdfObjectStreams, type TestPki, writeTemp, useTestPki } from './signing-fixtures.js';

let pki: TestPki;

useTestPki((p) => {
  pki = p;
});

/** A red box as the seal's appearance (the stamp module's templates satisfy the same interface). */
const redBox: AppearanceSource = {
  emit(alloc: PdfAllocator): PdfRef {
    return alloc.add(
      new PdfStream(
        new PdfDict({ Type: PdfName.of('XObject'), Subtype: PdfName.of('Form'), BBox: [0, 0, 100, 100] }),
        Buffer.from('1 0 0 rg 0 0 100 100 re f'),
      ),
    );
  },
};

async function options(algorithm: 'RSA-2048' | 'EC-P256' | 'EC-P384' | 'RSA-3072', extra: Partial<SignPdfOptions> = {}): Promise<SignPdfOptions> {
  const seal = await pki.seal(algorithm);
  return {
    signer: seal.key,
    certificate: seal.cert,
    chain: seal.chain,
    signingTime: new Date(),
    utcOffsetMinutes: 480,
    level: 'B-B',
    reason: '测试盖章',
    location: 'Beijing',
    ...extra,
  };
}

/**
 * pdfsig's verdict on one signature. Its certificate check (poppler 22.12 + NSS) reports "Unknown
 * issue" for the second and later signatures by one certificate, also for openssl-made CMS and
 * certificates, so tests that use it sign each signature with a different certificate.
 */
function expectValid(block: string | undefined): void {
  expect(block).toBeDefined();
  expect(block).toContain('Signature Validation: Signature is Valid.');
  expect(block).toContain('Certificate Validation: Certificate is Trusted.');
}

describe('signPdf B-B', () => {
  it('signs a classic-xref PDF invisibly: pdfsig, openssl and qpdf all accept it', async () => {
    const input = await makePdf();
    const r = await signPdf(input, await options('RSA-2048'));
    expect(Buffer.from(r.pdf.subarray(0, input.length)).equals(Buffer.from(input))).toBe(true);
    expect(r.sha256In).toBe(createHash('sha256').update(input).digest('hex'));
    expect(r.sha256Out).toBe(createHash('sha256').update(r.pdf).digest('hex'));

    const out = pdfsig(pki, r.pdf, 'bb-classic');
    const [sig] = pdfsigBlocks(out);
    expectValid(sig);
    expect(sig).toContain('Total document signed');
    expect(sig).toContain('Signature Type: ETSI.CAdES.detached');
    expect(qpdfCheck(pki, r.pdf, 'bb-classic').status).toBe(0);
    const v = opensslVerify(pki, r.pdf, r.byteRange, 'bb-classic');
    expect(v.out).toContain('Verification successful');
    expect(r.byteRange[2] + r.byteRange[3]).toBe(r.pdf.length);
  });

  it('signs an object-stream / xref-stream PDF with a visible seal on page 2', async () => {
    const input = qpdfObjectStreams(pki.dir, await makePdf({ pages: 3 }));
    const r = await signPdf(input, await options('EC-P256', { appearance: { page: 1, rect: [400, 80, 520, 200], xobject: redBox } }));
    const [sig] = pdfsigBlocks(pdfsig(pki, r.pdf, 'bb-objstm'));
    expectValid(sig);
    expect(sig).toContain('Total document signed');
    expect(qpdfCheck(pki, r.pdf, 'bb-objstm').status).toBe(0);
    expect(opensslVerify(pki, r.pdf, r.byteRange, 'bb-objstm').out).toContain('Verification successful');

    const reader = PdfReader.load(r.pdf);
    expect(reader.revisions.at(-1)!.xrefKind).toBe('stream');
    const annots = reader.resolve(reader.pages()[1]!.dict.get('Annots')) as PdfValue[];
    const widget = reader.resolve(annots.at(-1)) as PdfDict;
    expect(widget.get('Rect')).toEqual([400, 80, 520, 200]);
    expect((widget.get('FT') as PdfName).name).toBe('Sig');
    const form = reader.resolve(reader.catalog().get('AcroForm')) as PdfDict;
    expect(form.get('SigFlags')).toBe(3);
  });
});

describe('signPdf with several signatures and certification', () => {
  it('signs three times in a row; every signature stays valid and only the last covers the whole file', async () => {
    let pdf: Uint8Array = await makePdf();
    const ranges: number[][] = [];
    for (const alg of ['RSA-2048', 'EC-P384', 'RSA-3072'] as const) {
      const r = await signPdf(pdf, await options(alg));
      expect(Buffer.from(r.pdf.subarray(0, pdf.length)).equals(Buffer.from(pdf))).toBe(true);
      pdf = r.pdf;
      ranges.push(r.byteRange);
    }
    const blocks = pdfsigBlocks(pdfsig(pki, pdf, 'three'));
    expect(blocks).toHaveLength(3);
    blocks.forEach((b, i) => {
      expectValid(b);
      expect(b).toContain(`Signature Field Name: Signature${i + 1}`);
      expect(b).toContain(i === 2 ? 'Total document signed' : 'Not total document signed');
    });
    expect(blocks[1]).toContain('Signing Hash Algorithm: SHA-384');
    // Each ByteRange ends where its revision's %%EOF line ends.
    const reader = PdfReader.load(pdf);
    for (const br of ranges) expect(reader.eofOffsets).toContain(br[2]! + br[3]!);
    ranges.forEach((br, i) => expect(opensslVerify(pki, pdf, br, `three-${i}`).out).toContain('Verification successful'));
    expect(qpdfCheck(pki, pdf, 'three').status).toBe(0);
  });

  it('certifies with P=2 (DocMDP in the signature and /Perms), then accepts an approval signature', async () => {
    const certified = await signPdf(await makePdf(), await options('EC-P256', { certify: 2 }));
    const reader = PdfReader.load(certified.pdf);
    const perms = reader.resolve(reader.catalog().get('Perms')) as PdfDict;
    const sig = reader.resolve(perms.get('DocMDP')) as PdfDict;
    expect((sig.get('SubFilter') as PdfName).name).toBe('ETSI.CAdES.detached');
    const ref = (sig.get('Reference') as PdfDict[])[0]!;
    expect((ref.get('TransformMethod') as PdfName).name).toBe('DocMDP');
    expect((ref.get('TransformParams') as PdfDict).get('P')).toBe(2);

    const approved = await signPdf(certified.pdf, await options('RSA-2048'));
    const blocks = pdfsigBlocks(pdfsig(pki, approved.pdf, 'certified'));
    expect(blocks).toHaveLength(2);
    blocks.forEach(expectValid);

    await expect(signPdf(approved.pdf, await options('RSA-2048', { certify: 2 }))).rejects.toMatchObject({
      code: 'certify-signed-document',
    });
  });

  it('refuses to sign a document certified with P=1', async () => {
    const locked = await signPdf(await makePdf(), await options('EC-P256', { certify: 1 }));
    expect(pdfsigBlocks(pdfsig(pki, locked.pdf, 'locked'))[0]).toContain('Signature is Valid.');
    await expect(signPdf(locked.pdf, await options('EC-P256'))).rejects.toMatchObject({
      code: 'document-certified-no-changes',
      kind: 'conflict',
    });
  });
});

describe('signPdf into existing structures', () => {
  it('fills an existing empty signature field instead of adding one', async () => {
    const doc = await PDFDocument.load(await makePdf());
    const page = doc.getPage(0);
    const field = doc.context.register(
      doc.context.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', T: PDFString.of('Approval'), Rect: [50, 50, 200, 120], F: 4, P: page.ref }),
    );
    page.node.set(PDFName.of('Annots'), doc.context.obj([field]));
    doc.catalog.set(PDFName.of('AcroForm'), doc.context.obj({ Fields: [field] }));
    const input = await doc.save({ useObjectStreams: false });

    const r = await signPdf(input, await options('RSA-2048', { existingField: { name: 'Approval', xobject: redBox } }));
    expect(r.fieldName).toBe('Approval');
    const [block] = pdfsigBlocks(pdfsig(pki, r.pdf, 'existing'));
    expectValid(block);
    expect(block).toContain('Signature Field Name: Approval');
    const reader = PdfReader.load(r.pdf);
    const fields = reader.resolve((reader.resolve(reader.catalog().get('AcroForm')) as PdfDict).get('Fields')) as PdfValue[];
    expect(fields).toHaveLength(1);
    const widget = reader.getObject(field.objectNumber) as PdfDict;
    expect(widget.get('V')).toBeInstanceOf(PdfRef);
    expect(widget.get('Rect')).toEqual([50, 50, 200, 120]);
    expect((widget.get('AP') as PdfDict).get('N')).toBeInstanceOf(PdfRef);

    await expect(signPdf(r.pdf, await options('RSA-2048', { existingField: { name: 'Approval' } }))).rejects.toMatchObject({
      code: 'field-already-signed',
    });
    await expect(signPdf(r.pdf, await options('RSA-2048', { existingField: { name: 'Nope' } }))).rejects.toMatchObject({
      code: 'field-not-found',
    });
  });

  it('appends to indirect /Annots and /Fields arrays without rewriting the page or the catalog', async () => {
    const doc = await PDFDocument.load(await makePdf());
    const ctx = doc.context;
    const page = doc.getPage(0);
    const link = ctx.register(ctx.obj({ Type: 'Annot', Subtype: 'Link', Rect: [0, 0, 10, 10] }));
    const annots = ctx.register(ctx.obj([link]));
    page.node.set(PDFName.of('Annots'), annots);
    const fieldsArr = ctx.register(ctx.obj([]));
    const acroForm = ctx.register(ctx.obj({ Fields: fieldsArr }));
    doc.catalog.set(PDFName.of('AcroForm'), acroForm);
    const input = await doc.save({ useObjectStreams: false });

    const r = await signPdf(input, await options('EC-P256', { appearance: { page: 0, rect: [300, 300, 400, 400], xobject: redBox } }));
    expectValid(pdfsigBlocks(pdfsig(pki, r.pdf, 'indirect'))[0]);
    expect(qpdfCheck(pki, r.pdf, 'indirect').status).toBe(0);
    const reader = PdfReader.load(r.pdf);
    const changed = reader.revisions.at(-1)!.entries;
    expect(changed.has(annots.objectNumber)).toBe(true);
    expect(changed.has(fieldsArr.objectNumber)).toBe(true);
    expect(changed.has(acroForm.objectNumber)).toBe(true); // /SigFlags
    expect(changed.has(page.ref.objectNumber)).toBe(false);
    expect(changed.has((ctx.trailerInfo.Root as PDFRef).objectNumber)).toBe(false);
    const arr = reader.getObject(annots.objectNumber) as PdfValue[];
    expect(arr).toHaveLength(2);
    expect((arr[0] as PdfRef).num).toBe(link.objectNumber);
  });
});

describe('with the stamp module', () => {
  /** Renders one page with pdftoppm; the result gives the RGB at a display-space point (pt). */
  function render(pdf: Uint8Array, page: number): (x: number, y: number) => [number, number, number] {
    const file = writeTemp(pki.dir, `render-${page}.pdf`, pdf);
    const dpi = 36;
    const ppm = execFileSync('pdftoppm', ['-r', String(dpi), '-f', String(page), '-l', String(page), file]);
    const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString('latin1', 0, 40))!;
    const [w, h] = [Number(header[1]), Number(header[2])];
    return (x, y) => {
      const off = header[0].length + ((h - Math.round((y * dpi) / 72)) * w + Math.round((x * dpi) / 72)) * 3;
      return [ppm[off]!, ppm[off + 1]!, ppm[off + 2]!];
    };
  }

  it('shows the vector seal where stamp placed it, also on a rotated page, and the signature is valid', async () => {
    const doc = await PDFDocument.load(await makePdf({ pages: 2 }));
    doc.getPage(1).setRotation(degrees(90));
    const input = await doc.save({ useObjectStreams: false });
    const pages = PdfReader.load(input).pages();
    const template = await buildSealAppearance({ organisation: '某某市市场监督管理局', title: '行政审批专用章' });
    const size = { width: template.width, height: template.height };

    let pdf: Uint8Array = input;
    for (const [page, algorithm] of [[1, 'RSA-2048'], [2, 'EC-P256']] as const) {
      const placement = placeAt(pages, { page, x: 100, y: 60 }, size);
      const appearance = {
        page: placement.page - 1,
        rect: placement.rect,
        xobject: { emit: (a: PdfAllocator) => placedAppearance(a, template.emit(a), placement) },
      };
      pdf = (await signPdf(pdf, await options(algorithm, { appearance }))).pdf;
    }
    const blocks = pdfsigBlocks(pdfsig(pki, pdf, 'sealed'));
    expect(blocks).toHaveLength(2);
    blocks.forEach(expectValid);
    // The star at the seal's centre is red; the unsigned input is white there.
    const mm = 72 / 25.4;
    for (const page of [1, 2]) {
      const [r, g, b] = render(pdf, page)(100 * mm, 60 * mm);
      expect(r).toBeGreaterThan(180);
      expect(g).toBeLessThan(120);
      expect(b).toBeLessThan(120);
      expect(render(input, page)(100 * mm, 60 * mm)).toEqual([255, 255, 255]);
    }
  });

  it('puts a 骑缝章 across the page edges as locked annotations signed with the seal', async () => {
    const input = await makePdf({ pages: 3 });
    const reader = PdfReader.load(input);
    const pages = reader.pages();
    const template = await buildSealAppearance({ organisation: '某某市市场监督管理局' });
    const slices = planStraddle(pages, { width: template.width, height: template.height });
    let sealForm: PdfRef | undefined;
    const seal = (a: PdfAllocator): PdfRef => (sealForm ??= template.emit(a));
    const r = await signPdf(reader, {
      ...(await options('EC-P256')),
      extraAppearances: slices.map((sl) => ({
        page: sl.placement.page - 1,
        rect: sl.placement.rect,
        xobject: { emit: (a: PdfAllocator) => emitStraddle(a, seal(a), [sl])[0]!.appearance },
      })),
    });
    expectValid(pdfsigBlocks(pdfsig(pki, r.pdf, 'straddle'))[0]);
    expect(qpdfCheck(pki, r.pdf, 'straddle').status).toBe(0);

    // One signature field; each page carries a locked /Stamp annotation with its slice, written
    // in the signature's revision (so the signature covers it).
    const out = PdfReader.load(r.pdf);
    const form = out.resolve(out.catalog().get('AcroForm')) as PdfDict;
    expect(out.resolve(form.get('Fields')) as PdfRef[]).toHaveLength(1);
    const signedRevision = out.revisions.at(-1)!.entries;
    out.pages().forEach((page, i) => {
      const annots = (out.resolve(page.dict.get('Annots')) as PdfRef[]).map((a) => [a, out.getObject(a) as PdfDict] as const);
      const stamps = annots.filter(([, a]) => (a.get('Subtype') as PdfName).name === 'Stamp');
      expect(stamps).toHaveLength(1);
      const [ref, stamp] = stamps[0]!;
      expect(signedRevision.has(ref.num)).toBe(true);
      const rect = stamp.get('Rect') as number[];
      rect.forEach((v, k) => expect(v).toBeCloseTo(slices[i]!.placement.rect[k]!, 4));
      expect(stamp.get('F')).toBe(132);
    });
    expect(r.byteRange[2] + r.byteRange[3]).toBe(r.pdf.length);
    // Each page shows its slice in red at the right edge, halfway up.
    for (const [i, page] of out.pages().entries()) {
      const [x0, , x1] = slices[i]!.placement.rect;
      const pixel = render(r.pdf, page.index + 1);
      let red = 0;
      for (let y = 300; y < 550; y += 5) {
        const [r0, g0, b0] = pixel((x0 + x1) / 2, y);
        if (r0 > 180 && g0 < 120 && b0 < 120) red++;
      }
      expect(red).toBeGreaterThan(0);
    }
  });
});

describe('refusals', () => {
  it('names the problem for bad field names, missing pages, duplicate names and encrypted input', async () => {
    const input = await makePdf({ pages: 1 });
    await expect(signPdf(input, await options('EC-P256', { fieldName: 'a.b' }))).rejects.toMatchObject({ code: 'invalid-field-name', kind: 'bad-request' });
    await expect(
      signPdf(input, await options('EC-P256', { appearance: { page: 3, rect: [0, 0, 10, 10], xobject: redBox } })),
    ).rejects.toMatchObject({ code: 'page-out-of-range' });
    const once = await signPdf(input, await options('EC-P256', { fieldName: 'Seal' }));
    await expect(signPdf(once.pdf, await options('EC-P256', { fieldName: 'Seal' }))).rejects.toMatchObject({ code: 'field-exists', kind: 'conflict' });

    const plain = writeTemp(pki.dir, 'plain.pdf', input);
    execFileSync('qpdf', ['--encrypt', 'u', 'o', '256', '--', plain, `${plain}.enc.pdf`]);
    await expect(signPdf(readFileSync(`${plain}.enc.pdf`), await options('EC-P256'))).rejects.toMatchObject({ code: 'encrypted-pdf' });
  });
});
