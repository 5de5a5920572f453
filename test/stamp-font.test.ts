import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SubsetFont } from '../src/pdf/font.js';
import { PdfDict, PdfRef, PdfStream, name, type PdfValue } from '../src/pdf/objects.js';
import { TemplateRecorder } from '../src/stamp/template.js';
import { basePdf, pdftotext, qpdfCheck, stamp } from './stamp-support.js';

describe('SubsetFont', () => {
  it('covers the lettering OneSeal uses and names what it lacks', () => {
    const font = SubsetFont.load();
    expect(font.missing('行政审批专用章（盖章）合同财务专用章某某省市县区人民政府办公室局委员会0123456789ABCDEFGHJKLMNPQRTUWXY')).toEqual([]);
    expect(font.missing('某𠀀局😀😀')).toEqual(['𠀀', '😀']);
    expect(() => font.encode('某局😀')).toThrow(expect.objectContaining({ code: 'font-missing-glyphs', message: expect.stringContaining('“😀” (U+1F600)') }));
    expect(() => SubsetFont.load('/nonexistent/font.ttf')).toThrow(expect.objectContaining({ code: 'font-unavailable' }));
  });

  it('embeds a Type0/CIDFontType2 subset whose text pdftotext reads back exactly', async () => {
    const font = SubsetFont.load();
    const line1 = font.encode('（盖章）行政审批专用章');
    const line2 = font.encode('某某市人民政府2026年');
    // A repeated character reuses its CID; CJK advances are one em.
    expect(line1.hex.slice(4, 8)).toBe(font.encode('盖').hex);
    expect(line1.width(10)).toBeCloseTo(110);

    const rec = new TemplateRecorder();
    const fontRef = await font.buildObjects(rec);
    const content = `BT /F1 14 Tf 1 0 0 1 72 700 Tm <${line1.hex}> Tj 1 0 0 1 72 660 Tm <${line2.hex}> Tj ET\n`;
    const form = rec.add(
      new PdfStream(
        new PdfDict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 595, 842], Resources: new PdfDict({ Font: new PdfDict({ F1: fontRef }) }) }),
        Buffer.from(content, 'latin1'),
      ),
    );
    const template = rec.finish(form, 595, 842);
    const pdf = stamp(basePdf([{}]), (s) => s.drawOnPage(1, { T: template.emit(s.writer) }, 'q /T Do Q\n'));
    expect(qpdfCheck(pdf)).toContain('No syntax or stream encoding errors');
    const lines = pdftotext(pdf).split('\n').map((l) => l.trim()).filter(Boolean);
    expect(lines).toEqual(['（盖章）行政审批专用章', '某某市人民政府2026年']);

    // The object structure PDF viewers rely on.
    const objs: PdfValue[] = [];
    template.emit({ add: (v) => (objs.push(v), new PdfRef(objs.length)) });
    const byRef = (r: PdfValue | undefined) => objs[(r as PdfRef).num - 1];
    const type0 = objs[objs.length - 2] as PdfDict;
    expect(type0.get('Subtype')).toBe(name('Type0'));
    expect(type0.get('Encoding')).toBe(name('Identity-H'));
    const cid = byRef((type0.get('DescendantFonts') as PdfValue[])[0]) as PdfDict;
    expect(cid.get('Subtype')).toBe(name('CIDFontType2'));
    expect(cid.get('CIDToGIDMap')).toBe(name('Identity'));
    // CIDs 1… in first-use order: 15 distinct CJK characters, the digits 2, 0, 6, then 年.
    expect(cid.get('W')).toEqual([1, [...Array(15).fill(1000), 500, 500, 500, 1000]]);
    const descriptor = byRef(cid.get('FontDescriptor')) as PdfDict;
    expect((descriptor.get('FontName') as { name: string }).name).toMatch(/^[A-Z]{6}\+BousungEG-Light-GB$/);
    const file = byRef(descriptor.get('FontFile2')) as PdfStream;
    expect(inflateSync(file.data).length).toBe(file.dict.get('Length1'));
    expect(file.data.length).toBeLessThan(30_000);
    const cmap = inflateSync((byRef(type0.get('ToUnicode')) as PdfStream).data).toString('latin1');
    expect(cmap).toContain(`<${line1.hex.slice(4, 8)}> <76D6>`); // 盖
  });

  it('refuses to grow the glyph set after the objects were built', async () => {
    const font = SubsetFont.load();
    font.encode('专用章');
    await font.buildObjects(new TemplateRecorder());
    expect(font.encode('章').hex).toHaveLength(4);
    expect(() => font.encode('局')).toThrow(/after buildObjects/);
  });
});
