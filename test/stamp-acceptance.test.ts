/**
 * Issue 3 acceptance: `oneseal stamp` and the Stamper on real documents, full stack (SoftHSM token,
 * SQLite, OneSeal's CA and TSA), judged by pdfsig, qpdf, openssl, pdftotext and pdftoppm.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfError } from '../src/errors.js';
import { PdfReader } from '../src/pdf/reader.js';
import { findText } from '../src/pdf/text.js';
import { DEFAULT_SEAL_DIAMETER } from '../src/stamp/seal.js';
import { MM } from '../src/stamp/units.js';
import { fixture, fixturePath, openStack, OTHER_SIGNER_PDF, type Stack } from './support/stamp-stack.js';
import { qpdfObjects, qpdfTransform } from './support/pdfs.js';
import { expectSigned, isRed, pdftotextWords, redFraction, render, renderRightOfX, sha256Hex, type Rendering } from './support/validators.js';
import { redBounds } from './stamp-support.js';

let s: Stack;
let tsaCert: Uint8Array;
beforeAll(async () => {
  s = await openStack();
  tsaCert = s.services.authority.tsa.certificate;
});
afterAll(async () => {
  await s?.close();
});

const R = DEFAULT_SEAL_DIAMETER / 2;
const ANCHOR = '（盖章）';

/**
 * The generated seal is a red ring (1 mm wide, just inside the diameter) round a red star: sample
 * the ring at 24 angles and the star's core. Over text the multiply blend darkens the star, so
 * only a share of its core has to be pure seal-red.
 */
function expectSealAt(img: Rendering, cx: number, cy: number): void {
  const ringR = R - 0.5 * MM;
  let ring = 0;
  for (let i = 0; i < 24; i++) {
    const a = (i / 24) * 2 * Math.PI;
    if (isRed(img.at(cx + ringR * Math.cos(a), cy + ringR * Math.sin(a)))) ring++;
  }
  expect(ring, `red ring round (${cx.toFixed(1)}, ${cy.toFixed(1)})`).toBeGreaterThanOrEqual(20);
  expect(redFraction(img, cx - 4, cy - 4, 8, 8), 'red star at the centre').toBeGreaterThan(0.4);
}

function expectNoSealAt(img: Rendering, cx: number, cy: number): void {
  expect(redFraction(img, cx - R, cy - R, 2 * R, 2 * R)).toBe(0);
}

describe('one stamp on each fixture (PAdES B-T, the default)', () => {
  it('approval letter, on the anchor （盖章）: the seal covers the text pdftotext finds there', async () => {
    const input = fixture('approval-letter.pdf');
    const r = await s.services.stamper.stamp(input, { sealId: 'approval', placement: { kind: 'anchor', text: ANCHOR } });
    await expectSigned(s.trust, input, r.pdf, { added: 1, tsaCert, timestamped: true });
    expect(r.level).toBe('B-T');

    // poppler's text box and OneSeal's own text search agree on where the anchor is …
    const [word, ...others] = pdftotextWords(input, ANCHOR);
    expect(others).toEqual([]);
    const [ours] = findText(PdfReader.load(input), ANCHOR);
    const centre = (b: { x: number; y: number; width: number; height: number }) => [b.x + b.width / 2, b.y + b.height / 2];
    const [wx, wy] = centre(word!);
    expect(centre(ours!)[0]).toBeCloseTo(wx!, 0);
    expect(Math.abs(centre(ours!)[1]! - wy!)).toBeLessThan(3);
    // … and the seal's centre lies on it, in the signature widget and in the rendered pixels.
    const [x0, y0, x1, y1] = r.placed!.rect;
    expect(r.placed!.page).toBe(1);
    expect(Math.abs((x0 + x1) / 2 - wx!)).toBeLessThan(3);
    expect(Math.abs((y0 + y1) / 2 - wy!)).toBeLessThan(3);
    expectNoSealAt(render(input), wx!, wy!);
    expectSealAt(render(r.pdf), wx!, wy!);
  });

  it('30 pages with xref and object streams: a seal on page 17 and a paging seal on every right edge', async () => {
    const input = fixture('long-30-pages.pdf');
    const r = await s.services.stamper.stamp(input, {
      sealId: 'approval',
      placement: { kind: 'position', page: 17, x: 150, y: 60 },
      straddle: true,
    });
    await expectSigned(s.trust, input, r.pdf, { added: 1, tsaCert, timestamped: true });
    expect(r.placed!.page).toBe(17);
    expectSealAt(render(r.pdf, 17), 150 * MM, 60 * MM);
    expectNoSealAt(render(r.pdf, 16), 150 * MM, 60 * MM);
    const edges = renderRightOfX(r.pdf, 500);
    expect(edges).toHaveLength(30);
    edges.forEach((img, i) => {
      const strip = (x: number) => redFraction(img, x, img.height / 2 - R, 3, 2 * R);
      // a slice is 42 mm / 30 ≈ 4 pt wide: red at the right edge, none 60 pt to its left
      expect(strip(img.width - 3), `page ${i + 1}: slice at the right edge`).toBeGreaterThan(0);
      expect(strip(img.width - 60), `page ${i + 1}: nothing further in`).toBe(0);
    });
    expect(redFraction(renderRightOfX(input, 500)[0]!, 500, 0, 95, 842)).toBe(0);
  });

  it('form with an empty signature field: the seal fills "approverSignature"', async () => {
    const input = fixture('form-empty-signature-field.pdf');
    const r = await s.services.stamper.stamp(input, { sealId: 'approval', placement: { kind: 'field', name: 'approverSignature' } });
    const check = await expectSigned(s.trust, input, r.pdf, { added: 1, tsaCert, timestamped: true });
    expect(r.fieldName).toBe('approverSignature');
    expect(check.added[0]!.pdfsig).toContain('Signature Field Name: approverSignature');
    // the field's widget is at [200 150 400 230]: the seal is drawn in it
    const img = render(r.pdf);
    expect(redFraction(img, 200, 150, 200, 80)).toBeGreaterThan(0.02);
    expect(redFraction(render(input), 200, 150, 200, 80)).toBe(0);
    // Round, not stretched to the 200 × 80 pt field (a 2.5:1 ellipse): 80 pt across both ways, centred in the field.
    const red = redBounds(img)!;
    expect(red.x1 - red.x0).toBeGreaterThan(74);
    expect(red.x1 - red.x0).toBeLessThan(82);
    expect(red.y1 - red.y0).toBeGreaterThan(74);
    expect(red.y1 - red.y0).toBeLessThan(82);
    expect(Math.abs((red.x0 + red.x1) / 2 - 300)).toBeLessThan(2);
    expect(Math.abs((red.y0 + red.y1) / 2 - 190)).toBeLessThan(2);
  });

  it('refuses a signature field too small for a legible seal, naming the field and the minimum; nothing is signed', async () => {
    // The same form with the field shrunk to 200 × 40 pt (14 mm high), then to 40 × 200 pt: same byte length, offsets intact.
    for (const rect of ['[ 200 150 400 190 ]', '[ 200 150 240 350 ]']) {
      const input = Buffer.from(fixture('form-empty-signature-field.pdf').toString('latin1').replace('[ 200 150 400 230 ]', rect), 'latin1');
      expect(input.toString('latin1')).toContain(rect);
      const e = await s.services.stamper.stamp(input, { sealId: 'approval', placement: { kind: 'field', name: 'approverSignature' } }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'field-too-small', kind: 'unprocessable', fields: [{ field: 'field' }] });
      expect((e as Error).message).toMatch(/"approverSignature" is 70\.6 × 14\.1 mm|"approverSignature" is 14\.1 × 70\.6 mm/);
      expect((e as Error).message).toContain('legible minimum of 20 mm');
    }
  });

  it('PDF 1.3 with a classic xref table: the seal at the requested position', async () => {
    const input = fixture('pdf13.pdf');
    const r = await s.services.stamper.stamp(input, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 150, y: 40 } });
    await expectSigned(s.trust, input, r.pdf, { added: 1, tsaCert, timestamped: true });
    expectSealAt(render(r.pdf), 150 * MM, 40 * MM);
  });

  it('a document signed by someone else: their signature stays valid, ours covers the whole file', async () => {
    const input = readFileSync(OTHER_SIGNER_PDF);
    const r = await s.services.stamper.stamp(input, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 160, y: 40 } });
    const check = await expectSigned(s.trust, input, r.pdf, { added: 1, tsaCert, timestamped: true });
    expect(check.earlier).toHaveLength(1);
    expect(check.earlier[0]!.pdfsig).toContain('good-user');
    expect(check.earlier[0]!.pdfsig).toContain('Not total document signed');
    expect(check.added[0]!.pdfsig).toContain('Total document signed');
    expect(check.added[0]!.pdfsig).not.toContain('Not total');
    expectSealAt(render(r.pdf), 160 * MM, 40 * MM);
  });
});

describe('documents OneSeal cannot stamp', () => {
  const letter = () => fixture('approval-letter.pdf');
  const stampWith = (pdf: Uint8Array, placement: Parameters<Stack['services']['stamper']['stamp']>[1]['placement']) =>
    s.services.stamper.stamp(pdf, { sealId: 'approval', placement });

  it('refuses an encrypted PDF (qpdf AES-256) as encrypted-pdf', async () => {
    const encrypted = qpdfTransform(letter(), ['--encrypt', 'u', 'o', '256', '--']);
    const e = await stampWith(encrypted, { kind: 'anchor', text: ANCHOR }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PdfError);
    expect(e).toMatchObject({ code: 'encrypted-pdf', kind: 'unprocessable' });
  });

  it('refuses garbage and a truncated PDF as invalid-pdf', async () => {
    for (const bad of [Buffer.from('GIF89a not a pdf at all'), letter().subarray(0, 2000)]) {
      const e = await stampWith(bad, { kind: 'position', page: 1, x: 50, y: 50 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PdfError);
      expect(e).toMatchObject({ code: 'invalid-pdf' });
    }
  });

  it('names the missing page, anchor or field', async () => {
    await expect(stampWith(letter(), { kind: 'position', page: 2, x: 50, y: 50 })).rejects.toMatchObject({
      code: 'page-out-of-range',
      message: expect.stringContaining('1 page'),
    });
    await expect(stampWith(letter(), { kind: 'anchor', text: '不存在的文字' })).rejects.toMatchObject({
      code: 'anchor-not-found',
      message: expect.stringContaining('不存在的文字'),
    });
    await expect(stampWith(fixture('form-empty-signature-field.pdf'), { kind: 'field', name: 'nobody' })).rejects.toMatchObject({
      code: 'field-not-found',
      message: expect.stringContaining('"nobody"'),
    });
  });
});

describe('oneseal stamp (CLI)', () => {
  const out = (name: string) => path.join(s.dir, name);

  it('stamps on the anchor and prints the stamp record with --json; the audit log records it', async () => {
    const target = out('cli-letter.pdf');
    const r = await s.cli(['stamp', fixturePath('approval-letter.pdf'), '-o', target, '--anchor', ANCHOR, '--reason', '同意', '--location', '北京', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const record = JSON.parse(r.out);
    const written = readFileSync(target);
    const input = fixture('approval-letter.pdf');
    expect(record).toMatchObject({
      output: target,
      sha256In: sha256Hex(input),
      sha256Out: sha256Hex(written),
      level: 'B-T',
      seal: { id: 'approval', version: 1, certSerial: expect.stringMatching(/^[0-9a-f]+$/) },
      placement: { kind: 'anchor', text: ANCHOR },
      placed: { page: 1 },
    });
    await expectSigned(s.trust, input, written, { added: 1, tsaCert, timestamped: true });
    // reason and location as qpdf reads the signature dictionary (pdfsig does not show them)
    const sigDict = Object.values(qpdfObjects(written)).find((o) => (o.value as Record<string, unknown> | undefined)?.['/Type'] === '/Sig');
    expect(sigDict?.value).toMatchObject({ '/Reason': 'u:同意', '/Location': 'u:北京' });
    const audit = await s.services.store.db('audit_log').where({ action: 'stamp.create' });
    expect(audit.map((a: { details: string }) => JSON.parse(a.details).sha256Out)).toContain(record.sha256Out);
  });

  it('places by page and millimetres at the level asked for, with a one-line summary', async () => {
    const target = out('cli-pdf13.pdf');
    const r = await s.cli(['stamp', fixturePath('pdf13.pdf'), '-o', target, '--page', '1', '--x', '100', '--y', '50', '--level', 'B-B']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^stamped .*cli-pdf13\.pdf: seal "approval" v1 .*, PAdES B-B, page 1 at \[/);
    const written = readFileSync(target);
    await expectSigned(s.trust, fixture('pdf13.pdf'), written, { added: 1, tsaCert, timestamped: false });
    expectSealAt(render(written), 100 * MM, 50 * MM);
  });

  it('--straddle alone signs with only the paging seal', async () => {
    const target = out('cli-straddle.pdf');
    const r = await s.cli(['stamp', fixturePath('long-30-pages.pdf'), '-o', target, '--straddle', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ placement: { kind: 'invisible' }, straddle: true, placed: null });
    const written = readFileSync(target);
    await expectSigned(s.trust, fixture('long-30-pages.pdf'), written, { added: 1, tsaCert, timestamped: true });
    const edges = renderRightOfX(written, 500);
    expect(edges.every((img) => redFraction(img, img.width - 3, img.height / 2 - R, 3, 2 * R) > 0)).toBe(true);
  });

  it('exits 2 with a message and no stack for documents it cannot stamp, writing nothing', async () => {
    const encrypted = out('encrypted.pdf');
    writeFileSync(encrypted, qpdfTransform(fixture('approval-letter.pdf'), ['--encrypt', 'u', 'o', '256', '--']));
    const garbage = out('garbage.pdf');
    writeFileSync(garbage, 'this is not a PDF\n');
    const cases: [string[], RegExp, string][] = [
      [[encrypted, '--anchor', ANCHOR], /encrypt/i, 'encrypted-pdf'],
      [[garbage, '--anchor', ANCHOR], /PDF/, 'invalid-pdf'],
      [[fixturePath('approval-letter.pdf'), '--page', '3', '--x', '50', '--y', '50'], /page 3/, 'page-out-of-range'],
      [[fixturePath('approval-letter.pdf'), '--anchor', '不存在的文字'], /不存在的文字/, 'anchor-not-found'],
      [[fixturePath('form-empty-signature-field.pdf'), '--field', 'nobody'], /"nobody"/, 'field-not-found'],
      [[out('no-such-file.pdf'), '--anchor', ANCHOR], /no-such-file\.pdf/, 'error'],
      [[fixturePath('approval-letter.pdf'), '--anchor', ANCHOR, '--seal', 'nope'], /no seal "nope"/, 'seal-not-found'],
    ];
    for (const [args, message, code] of cases) {
      const target = out(`refused-${code}.pdf`);
      const text = await s.cli(['stamp', ...args, '-o', target]);
      expect(text.code, text.err).toBe(2);
      expect(text.err).toMatch(/^oneseal stamp: /);
      expect(text.err).toMatch(message);
      expect(text.err).not.toMatch(/\n\s+at /);
      const json = await s.cli(['stamp', ...args, '-o', target, '--json']);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.err)).toMatchObject({ error: { code } });
      expect(existsSync(target)).toBe(false);
    }
  });

  it('exits 2 for usage mistakes, before touching the HSM', async () => {
    const letter = fixturePath('approval-letter.pdf');
    const cases: [string[], RegExp][] = [
      [['stamp', letter, '--anchor', ANCHOR], /-o OUT\.pdf/],
      [['stamp', '-o', out('x.pdf'), '--anchor', ANCHOR], /name the PDF/],
      [['stamp', letter, '-o', out('x.pdf')], /say where the seal goes/],
      [['stamp', letter, '-o', out('x.pdf'), '--page', '1', '--x', '50'], /--y/],
      [['stamp', letter, '-o', out('x.pdf'), '--anchor', ANCHOR, '--field', 'f'], /choose one placement/],
      [['stamp', letter, '-o', out('x.pdf'), '--page', '1', '--x', 'left', '--y', '5'], /--x needs a number/],
      [['stamp', letter, '-o', out('x.pdf'), '--anchor', ANCHOR, '--level', 'B-X'], /--level must be one of/],
      [['stamp', letter, '-o', out('x.pdf'), '--anchor', ANCHOR, '--certify', '4'], /--certify must be/],
      [['stamp', letter, 'extra.pdf', '-o', out('x.pdf'), '--anchor', ANCHOR], /unexpected argument "extra\.pdf"/],
    ];
    for (const [argv, message] of cases) {
      const r = await s.cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    expect((await s.cli(['stamp', '--help'])).out).toContain('--anchor TEXT');
  });
});
