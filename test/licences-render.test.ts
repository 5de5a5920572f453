import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderLicence, verificationUrl, type RenderedLicence } from '../src/licences/render.js';
import { makePdf, qpdfCheck, scratchDir } from './support/pdfs.js';
import { sampleInput, SAMPLE_DATA, printedForm } from './licences-samples.js';

const scratch = scratchDir();
afterAll(() => {
  if (!process.env['KEEP_LICENCE_PDFS']) scratch.cleanup();
  else console.log('rendered licences kept in', scratch.dir);
});

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe.each(Object.keys(SAMPLE_DATA))('%s rendered to PDF', (typeId) => {
  let out: RenderedLicence;
  let file: string;
  const input = sampleInput(typeId);

  beforeAll(async () => {
    out = await renderLicence(input, { now: new Date('2025-05-22T08:00:00Z') });
    file = scratch.file(`${typeId}.pdf`);
    writeFileSync(file, out.pdf);
  });

  it('prints every field value exactly, with the issuer, issue date and identifier', () => {
    const raw = run('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-']);
    // A wrapped value continues on the next output line; joining lines restores it without loss.
    const joined = raw.replace(/\n/g, '');
    const values = Object.entries(input.data as Record<string, string>).filter(([k]) => k !== 'photo').map(([k, v]) => [k, printedForm(v)] as const);
    for (const [, value] of values) expect(joined).toContain(value);
    // Every date in the customary form, none as YYYY-MM-DD.
    expect(raw).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    for (const [, value] of values.filter(([, v]) => v.length <= 20)) expect(raw).toContain(value);
    expect(raw).toContain(input.type.title.zh);
    expect(raw).toContain(input.issuer.name);
    expect(raw).toContain('2025年05月22日');
    expect(raw).toContain(input.licenceId);
    // pdftotext's default (layout-analysing) mode reads the columns apart and keeps wrapped values together.
    const analysed = run('pdftotext', ['-enc', 'UTF-8', file, '-']).replace(/\n/g, '');
    for (const [, value] of values) expect(analysed).toContain(value);
  });

  it('carries a QR code that decodes to exactly the verification URL', () => {
    run('pdftoppm', ['-r', '150', '-png', '-singlefile', file, scratch.file(typeId)]);
    const decoded = run('zbarimg', ['--raw', '-q', scratch.file(`${typeId}.png`)]);
    expect(decoded).toBe(`https://licences.example.gov.cn/v/${input.licenceId}\n`);
    expect(out.verificationUrl).toBe(`https://licences.example.gov.cn/v/${input.licenceId}`);
  });

  it('is a small, clean, classic-xref PDF', () => {
    const photo = (input.data as Record<string, string>)['photo'];
    const photoBytes = photo ? Buffer.from(photo, 'base64').length : 0;
    expect(out.pdf.length).toBeLessThan(100_000 + photoBytes);
    const check = qpdfCheck(out.pdf);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain('No syntax or stream encoding errors');
    const text = Buffer.from(out.pdf).toString('latin1');
    expect(text).not.toContain('/ObjStm');
    expect(text).toMatch(/\nxref\n/);
    expect(run('qpdf', ['--show-npages', file]).trim()).toBe('1');
  });

  it('keeps every word inside the frame and clear of the QR code and of each other', () => {
    const html = run('pdftotext', ['-bbox', file, '-']);
    const page = /<page width="([\d.]+)" height="([\d.]+)">/.exec(html)!;
    const [W, H] = [Number(page[1]), Number(page[2])];
    const words = [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
      x0: Number(m[1]),
      y0: H - Number(m[4]),
      x1: Number(m[3]),
      y1: H - Number(m[2]),
      text: m[5],
    }));
    expect(words.length).toBeGreaterThan(10);
    const frame = input.type.layout.margin * (72 / 25.4) + 1.5 * (72 / 25.4); // the inner frame line
    const qr = out.qrRect;
    for (const w of words) {
      expect(w.x0, w.text).toBeGreaterThan(frame);
      expect(w.y0, w.text).toBeGreaterThan(frame);
      expect(w.x1, w.text).toBeLessThan(W - frame);
      expect(w.y1, w.text).toBeLessThan(H - frame);
      const overlapsQr = w.x0 < qr.x + qr.width && w.x1 > qr.x && w.y0 < qr.y + qr.height && w.y1 > qr.y;
      expect(overlapsQr, `${w.text} overlaps the QR code`).toBe(false);
    }
    // pdftotext's boxes span ascent to descent; a little shared margin between lines is not an overlap.
    const slack = 1.5;
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        const [a, b] = [words[i]!, words[j]!];
        const overlap = a.x0 < b.x1 - slack && b.x0 < a.x1 - slack && a.y0 < b.y1 - slack && b.y0 < a.y1 - slack;
        expect(overlap, `"${a.text}" overlaps "${b.text}"`).toBe(false);
      }
    }
  });

  it('reserves the seal square at the bottom right, inside the frame and apart from the QR code', () => {
    const { sealRect: s, qrRect: q } = out;
    const [W] = [input.type.layout.page.width * (72 / 25.4)];
    const frame = (input.type.layout.margin + 1.5) * (72 / 25.4);
    expect(s.page).toBe(1);
    expect(s.width).toBeCloseTo(input.type.layout.seal.size * (72 / 25.4), 6);
    expect(s.height).toBe(s.width);
    expect(s.x).toBeGreaterThan(W / 2);
    expect(s.x + s.width).toBeLessThan(W - frame);
    expect(s.y).toBeGreaterThan(frame);
    expect(q.x + q.width).toBeLessThan(s.x);
    expect(q.width).toBeGreaterThanOrEqual(25 * (72 / 25.4));
    expect(q.x).toBeLessThan(W / 4);
  });
});

describe('rendering rules', () => {
  it('shrinks the text to fit a business scope of the maximum length', async () => {
    const base = sampleInput('business-licence');
    const scope = ('一般项目：技术服务、技术开发；软件开发；货物进出口。'.repeat(30)).slice(0, 600);
    const out = await renderLicence({ ...base, data: { ...(base.data as object), businessScope: scope } });
    const file = scratch.file('long.pdf');
    writeFileSync(file, out.pdf);
    expect(run('pdftotext', ['-raw', file, '-']).replace(/\n/g, '')).toContain(scope);
    const html = run('pdftotext', ['-bbox', file, '-']);
    const yMaxes = [...html.matchAll(/yMax="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.max(...yMaxes)).toBeLessThan(595.3 - 14 * 2.83);
  });

  it('refuses data that fails validation, with the field named', async () => {
    const base = sampleInput('business-licence');
    await expect(renderLicence({ ...base, data: { ...(base.data as object), unifiedSocialCreditCode: '91110000802100433C' } })).rejects.toMatchObject({
      code: 'invalid-licence-data',
      kind: 'unprocessable',
      fields: [expect.objectContaining({ field: 'unifiedSocialCreditCode' })],
    });
  });

  it('refuses characters the font cannot draw, naming the field', async () => {
    const base = sampleInput('business-licence');
    await expect(renderLicence({ ...base, data: { ...(base.data as object), legalRepresentative: '王😀' } })).rejects.toMatchObject({
      code: 'font-missing-glyphs',
      kind: 'unprocessable',
      fields: [expect.objectContaining({ field: 'legalRepresentative', message: expect.stringContaining('😀') })],
    });
  });

  it('refuses an identifier of another type or issuer', async () => {
    const food = sampleInput('food-business-licence');
    await expect(renderLicence({ ...sampleInput('business-licence'), licenceId: food.licenceId })).rejects.toMatchObject({ code: 'licence-id-mismatch' });
    const base = sampleInput('business-licence');
    await expect(renderLicence({ ...base, issuer: { ...base.issuer, creditCode: '91110000802100433B' } })).rejects.toMatchObject({ code: 'licence-id-mismatch' });
  });

  it('embeds only the glyphs it uses', () => {
    const pdf = readFileSync(scratch.file('business-licence.pdf'));
    expect(pdf.length).toBeLessThan(60_000);
    expect(pdf.toString('latin1')).toMatch(/\/FontFile2/);
  });

  it('fits a long issuer name beside the QR code, and refuses one that cannot fit', async () => {
    const base = sampleInput('residence-permit');
    const long = { ...base, issuer: { ...base.issuer, name: '广东省深圳市公安局南山分局出入境管理大队' } };
    const out = await renderLicence(long);
    writeFileSync(scratch.file('issuer.pdf'), out.pdf);
    expect(run('pdftotext', ['-raw', scratch.file('issuer.pdf'), '-'])).toContain(long.issuer.name);
    expect(out.sealRect.x).toBeGreaterThan(out.qrRect.x + out.qrRect.width);
    const html = run('pdftotext', ['-bbox', scratch.file('issuer.pdf'), '-']);
    const H = 105 * (72 / 25.4);
    const [qrTop, qrBottom] = [H - (out.qrRect.y + out.qrRect.height), H - out.qrRect.y];
    const besideQr = [...html.matchAll(/xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</g)].filter(
      (m) => Number(m[3]) > qrTop && Number(m[2]) < qrBottom,
    );
    expect(besideQr.map((m) => m[4])).toContain(long.issuer.name);
    for (const m of besideQr) expect(Number(m[1]), m[4]).toBeGreaterThan(out.qrRect.x + out.qrRect.width);
    const tooLong = { ...base, issuer: { ...base.issuer, name: '广东省深圳市公安局南山分局出入境管理大队'.repeat(3) } };
    await expect(renderLicence(tooLong)).rejects.toMatchObject({ code: 'issuer-name-too-long', fields: [{ field: 'issuer.name' }] });
  });

  it('embeds a JPEG photo unchanged', async () => {
    writeFileSync(scratch.file('source.pdf'), await makePdf({ pages: 1 }));
    run('pdftoppm', ['-jpeg', '-r', '20', '-singlefile', scratch.file('source.pdf'), scratch.file('photo')]);
    const jpeg = readFileSync(scratch.file('photo.jpg'));
    const base = sampleInput('residence-permit');
    const out = await renderLicence({ ...base, data: { ...(base.data as object), photo: jpeg.toString('base64') } });
    const text = Buffer.from(out.pdf).toString('latin1');
    expect(text).toContain('/DCTDecode');
    expect(text).toContain(jpeg.toString('latin1'));
  });

  it('is reproducible: the same licence at the same time gives the same bytes', async () => {
    const now = new Date('2025-05-22T08:00:00Z');
    const [a, b] = [await renderLicence(sampleInput('food-business-licence'), { now }), await renderLicence(sampleInput('food-business-licence'), { now })];
    expect(Buffer.from(a.pdf).equals(Buffer.from(b.pdf))).toBe(true);
    const other = await renderLicence(sampleInput('food-business-licence', undefined, '2025052200002'), { now });
    expect(Buffer.from(other.pdf).equals(Buffer.from(a.pdf))).toBe(false);
  });

  it('builds the verification URL under the public base URL only for http(s)', () => {
    expect(verificationUrl('https://x.example/base/', '1.2.156.3005.2.X')).toBe('https://x.example/base/v/1.2.156.3005.2.X');
    expect(() => verificationUrl('ftp://x.example', 'id')).toThrow(/must be an http\(s\) URL/);
    expect(() => verificationUrl('not a url', 'id')).toThrow(/must be an http\(s\) URL/);
  });
});
