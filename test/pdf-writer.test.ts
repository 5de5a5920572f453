import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfName, PdfRef, PdfString, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import { corpusFile, craftPdf, makePdf, MINIMAL_OBJECTS, qpdfCheck, qpdfObjects, qpdfTransform, pdfsigReport } from './support/pdfs.js';

/** qpdf --check must pass without errors or warnings. */
function expectQpdfClean(pdf: Uint8Array): void {
  const { status, output } = qpdfCheck(pdf);
  expect(output).not.toMatch(/WARNING|ERROR/);
  expect(output).toMatch(/No syntax or stream encoding errors found/);
  expect(status, output).toBe(0);
}

/** The update every test makes: rotate page 1 and give it a new square annotation. */
function rotateAndAnnotate(reader: PdfReader): { out: Buffer; annot: PdfRef; page: PdfRef; tail: Buffer; offsets: Map<number, number> } {
  const w = new IncrementalWriter(reader);
  const page = reader.pages()[0]!;
  const annot = w.add(
    new PdfDict({
      Type: PdfName.of('Annot'),
      Subtype: PdfName.of('Square'),
      Rect: [10, 10, 110, 60],
      Contents: PdfString.text('OneSeal 测试'),
      P: page.ref,
    }),
  );
  const existing = reader.resolve(page.dict.get('Annots'));
  const dict = page.dict.clone().set('Rotate', 90).set('Annots', [...((existing as PdfValue[]) ?? []), annot]);
  w.update(page.ref, dict);
  const { tail, objectOffsets } = w.build();
  return { out: Buffer.concat([reader.bytes, tail]), annot, page: page.ref, tail, offsets: objectOffsets };
}

function expectGoodUpdate(input: Uint8Array): PdfReader {
  const before = PdfReader.load(input);
  const { out, annot, page, tail, offsets } = rotateAndAnnotate(before);
  // The input is an exact prefix: earlier signatures stay valid.
  expect(Buffer.from(input).equals(out.subarray(0, input.length))).toBe(true);
  expect(tail.toString('latin1')).toMatch(/startxref\n\d+\n%%EOF\n$/);
  for (const [num, off] of offsets) expect(tail.toString('latin1', off, off + 20)).toMatch(new RegExp(`^${num} \\d+ obj\\n`));
  expectQpdfClean(out);

  const after = PdfReader.load(out);
  expect(after.repaired).toBe(false);
  expect(after.revisions).toHaveLength(before.revisions.length + 1);
  const last = after.revisions.at(-1)!;
  expect(last.xrefKind).toBe(before.revisions.at(-1)!.xrefKind === 'stream' ? 'stream' : 'table');
  expect(last.trailer.get('Prev')).toBe(before.revisions.at(-1)!.startxref);
  expect(last.eofOffset).toBe(out.length);
  expect(after.revisions.slice(0, -1).map((r) => r.eofMarkerOffset)).toEqual(before.revisions.map((r) => r.eofMarkerOffset));
  const endsWithEol = input[input.length - 1] === 0x0a || input[input.length - 1] === 0x0d;
  // pdf-lib ends without an EOL: the "\n" the update starts with then closes the old revision's %%EOF line.
  const oldEnd = endsWithEol ? input.length : input.length + 1;
  expect(after.revisions.at(-2)!.eofOffset).toBe(oldEnd);
  expect(annot.num).toBeGreaterThanOrEqual(before.size);
  expect(after.pages()).toHaveLength(before.pages().length);
  expect(after.pages()[0]!.rotate).toBe(90);
  expect(after.atRevision(before.revisions.length - 1).pages()[0]!.rotate).toBe(before.pages()[0]!.rotate);
  const a = after.getObject(annot) as PdfDict;
  expect((a.get('Contents') as PdfString).decodeText()).toBe('OneSeal 测试');
  // The first /ID stays, the second changes.
  const oldId = before.resolve(before.trailer.get('ID')) as PdfString[] | undefined;
  const newId = after.trailer.get('ID') as PdfString[];
  if (oldId) expect(Buffer.from(newId[0]!.bytes).equals(Buffer.from(oldId[0]!.bytes))).toBe(true);
  expect(newId[1]!.bytes).toHaveLength(16);

  // qpdf sees the same change.
  const q = qpdfObjects(out);
  const qpage = q[`obj:${page.num} ${page.gen} R`]!.value as Record<string, unknown>;
  expect(qpage['/Rotate']).toBe(90);
  expect(qpage['/Annots']).toContain(`${annot.num} 0 R`);
  return after;
}

describe('IncrementalWriter', () => {
  let classic: Uint8Array;
  let streams: Uint8Array;
  beforeAll(async () => {
    classic = await makePdf({ pages: 2, useObjectStreams: false });
    streams = await makePdf({ pages: 2, useObjectStreams: true });
  });

  it('updates a file with a classic xref table', () => {
    expectGoodUpdate(classic);
  });

  it('updates a file with an xref stream (pdf-lib)', () => {
    expectGoodUpdate(streams);
  });

  it('updates qpdf-written files (object streams with predictors; QDF)', () => {
    expectGoodUpdate(qpdfTransform(classic, ['--object-streams=generate']));
    expectGoodUpdate(qpdfTransform(classic, ['--qdf']));
  });

  it('appends to signed multi-revision files, hybrid ones included, without touching earlier revisions', () => {
    const signed = readFileSync(corpusFile('eu-dss-pades/validation/DSS-3226.pdf'));
    const updated = expectGoodUpdate(signed);
    // poppler still validates both signatures; the last no longer covers the whole file.
    const report = pdfsigReport(updated.bytes);
    expect(report.match(/Signature is Valid/g)).toHaveLength(2);
    expect(pdfsigReport(signed)).toMatch(/Total document signed/);
    expect(report).not.toMatch(/Total document signed/);
    const hybrid = readFileSync(corpusFile('eu-dss-pades/validation/Signature-P-FR_CS-5.pdf'));
    expect(PdfReader.load(hybrid).revisions.at(-1)!.hybrid).toBe(true);
    expectGoodUpdate(hybrid);
  });

  it('chains updates: each one is a new revision', () => {
    const once = expectGoodUpdate(classic);
    const twice = expectGoodUpdate(once.bytes);
    expect(twice.revisions).toHaveLength(3);
  });

  it('starts the tail on a new line when the input does not end with one', () => {
    const pdf = craftPdf(MINIMAL_OBJECTS);
    const noEol = pdf.subarray(0, pdf.length - 1); // drop the final "\n" after %%EOF
    const w = new IncrementalWriter(PdfReader.load(noEol));
    w.add(new PdfDict({ Note: PdfString.text('x') }));
    const { tail, objectOffsets } = w.build();
    expect(tail[0]).toBe(0x0a);
    expect([...objectOffsets.values()][0]).toBe(1);
    expectQpdfClean(Buffer.concat([noEol, tail]));
  });

  it('writes a complete xref for a repaired file, so the result is no longer damaged', async () => {
    const good = Buffer.from(await makePdf({ pages: 2 }));
    const text = good.toString('latin1');
    const at = text.lastIndexOf('startxref') + 'startxref\n'.length;
    const broken = Buffer.from(text.slice(0, at) + '17' + text.slice(text.indexOf('\n', at)), 'latin1');
    expect(qpdfCheck(broken).output).toMatch(/WARNING/);
    const reader = PdfReader.load(broken);
    expect(reader.repaired).toBe(true);
    const { out } = rotateAndAnnotate(reader);
    expectQpdfClean(out);
    const after = PdfReader.load(out);
    expect(after.repaired).toBe(false);
    expect(after.pages()[0]!.rotate).toBe(90);
  });

  it('keeps the revision history when an object offset had to be repaired', () => {
    const pdf = craftPdf(MINIMAL_OBJECTS);
    const off = pdf.indexOf('4 0 obj');
    const broken = Buffer.from(
      pdf.toString('latin1').replace(`${String(off).padStart(10, '0')} 00000 n`, `${String(off + 3).padStart(10, '0')} 00000 n`),
      'latin1',
    );
    expect(qpdfCheck(broken).output).toMatch(/WARNING/);
    const reader = PdfReader.load(broken);
    reader.getObject(4); // finds the misplaced object by scanning
    expect(reader.repaired).toBe(true);
    const { out } = rotateAndAnnotate(reader);
    expectQpdfClean(out);
    const after = PdfReader.load(out);
    expect(after.revisions).toHaveLength(2);
    expect(after.revisions[1]!.trailer.get('Prev')).toBe(reader.revisions[0]!.startxref);
    after.getObject(4);
    expect(after.repaired).toBe(false);
  });

  it('numbers new objects from /Size and refuses to update what does not exist', () => {
    const reader = PdfReader.load(craftPdf(MINIMAL_OBJECTS));
    const w = new IncrementalWriter(reader);
    expect(w.add(null)).toEqual(new PdfRef(5, 0));
    expect(w.add(1)).toEqual(new PdfRef(6, 0));
    expect(() => w.update(new PdfRef(40, 0), null)).toThrow(RangeError);
    const multi = PdfReader.load(readFileSync(corpusFile('eu-dss-pades/validation/DSS-3226.pdf')));
    expect(() => new IncrementalWriter(multi.atRevision(0))).toThrow(RangeError);
  });
});
