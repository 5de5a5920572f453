import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Signed PDFs from other signers with the verdict each must get (fixtures/corpus/README.md). */
export const corpusDir = path.join(repoRoot, 'fixtures', 'corpus');
export const corpusFile = (rel: string): string => path.join(corpusDir, rel);

/** A PDF made by pdf-lib: `pages` pages of text, with or without object streams (and so an xref stream). */
export async function makePdf(opts: { pages?: number; useObjectStreams?: boolean } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < (opts.pages ?? 2); i++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Page ${i + 1}`, { x: 50, y: 780, size: 14, font });
  }
  return doc.save({ useObjectStreams: opts.useObjectStreams ?? false });
}

/** A scratch directory removed by the returned cleanup function. */
export function scratchDir(): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-pdf-'));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs qpdf over `input` with `args` and returns the output file's bytes. */
export function qpdfTransform(input: Uint8Array, args: string[]): Uint8Array {
  const s = scratchDir();
  try {
    writeFileSync(s.file('in.pdf'), input);
    // qpdf exits 3 for "succeeded with warnings"; the output is still written.
    const r = spawnSync('qpdf', [...args, s.file('in.pdf'), s.file('out.pdf')], { encoding: 'utf8' });
    if (r.status !== 0 && r.status !== 3) throw new Error(`qpdf ${args.join(' ')} failed: ${r.stderr}`);
    return readFileSync(s.file('out.pdf'));
  } finally {
    s.cleanup();
  }
}

/** `qpdf --check`: exit status and combined output. */
export function qpdfCheck(pdf: Uint8Array): { status: number; output: string } {
  const s = scratchDir();
  try {
    writeFileSync(s.file('c.pdf'), pdf);
    const r = spawnSync('qpdf', ['--check', s.file('c.pdf')], { encoding: 'utf8' });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  } finally {
    s.cleanup();
  }
}

export function qpdfPageCount(pdf: Uint8Array): number {
  const s = scratchDir();
  try {
    writeFileSync(s.file('n.pdf'), pdf);
    return Number(execFileSync('qpdf', ['--show-npages', s.file('n.pdf')], { encoding: 'utf8' }).trim());
  } finally {
    s.cleanup();
  }
}

/**
 * A hand-made PDF with a correct classic xref table, for hostile and edge cases that no tool will
 * write. `objects` maps object numbers to their body (what goes between "N 0 obj" and "endobj").
 */
export function craftPdf(objects: Record<number, string | Buffer>, trailer = '/Root 1 0 R', version = '1.4'): Buffer {
  const parts: Buffer[] = [Buffer.from(`%PDF-${version}\n%\xe2\xe3\xcf\xd3\n`, 'latin1')];
  let pos = parts[0]!.length;
  const offsets = new Map<number, number>();
  for (const [k, body] of Object.entries(objects)) {
    const b = Buffer.concat([Buffer.from(`${k} 0 obj\n`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    offsets.set(Number(k), pos);
    parts.push(b);
    pos += b.length;
  }
  const size = Math.max(0, ...offsets.keys()) + 1;
  let xref = `xref\n0 ${size}\n0000000000 65535 f\r\n`;
  for (let n = 1; n < size; n++) {
    const o = offsets.get(n);
    xref += o === undefined ? '0000000000 00000 f\r\n' : `${String(o).padStart(10, '0')} 00000 n\r\n`;
  }
  xref += `trailer\n<< /Size ${size} ${trailer} >>\nstartxref\n${pos}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

/** The objects of a minimal one-page document, for craftPdf. */
export const MINIMAL_OBJECTS: Record<number, string> = {
  1: '<< /Type /Catalog /Pages 2 0 R >>',
  2: '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 300 200] >>',
  3: '<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>',
  4: '<< /Length 19 >>\nstream\n0 0 m 100 100 l S  \nendstream',
};

/** `qpdf --show-xref`: the merged cross-reference table as qpdf sees it. */
export function qpdfXref(pdf: Uint8Array): Map<number, string> {
  const s = scratchDir();
  try {
    writeFileSync(s.file('x.pdf'), pdf);
    const out = execFileSync('qpdf', ['--show-xref', s.file('x.pdf')], { encoding: 'utf8' });
    const m = new Map<number, string>();
    for (const line of out.trim().split('\n')) {
      const r = /^(\d+)\/(\d+): (.*)$/.exec(line);
      if (r) m.set(Number(r[1]), `${r[2]} ${r[3]}`);
    }
    return m;
  } finally {
    s.cleanup();
  }
}

/** Every object as qpdf's JSON v2 shows it ("obj:N G R" → value, or { stream: { dict } }). */
export function qpdfObjects(pdf: Uint8Array): Record<string, { value?: unknown; stream?: { dict: unknown } }> {
  const s = scratchDir();
  try {
    writeFileSync(s.file('j.pdf'), pdf);
    const out = execFileSync('qpdf', ['--json=2', '--json-key=qpdf', s.file('j.pdf')], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    return (JSON.parse(out) as { qpdf: [unknown, Record<string, { value?: unknown; stream?: { dict: unknown } }>] }).qpdf[1];
  } finally {
    s.cleanup();
  }
}

/** pdfsig's report (poppler); it exits non-zero for unsigned files, so only the text is returned. */
export function pdfsigReport(pdf: Uint8Array): string {
  const s = scratchDir();
  try {
    writeFileSync(s.file('s.pdf'), pdf);
    const r = spawnSync('pdfsig', [s.file('s.pdf')], { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`;
  } finally {
    s.cleanup();
  }
}
