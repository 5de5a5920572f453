import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir, repoRoot } from './support/pdfs.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', name);
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'latin1' });

describe('committed fixtures', () => {
  const expected: Record<string, number> = {
    'approval-letter.pdf': 1,
    'long-30-pages.pdf': 30,
    'form-empty-signature-field.pdf': 1,
    'pdf13.pdf': 1,
  };

  for (const [file, pages] of Object.entries(expected)) {
    it(`${file} exists, passes qpdf --check and has ${pages} page(s)`, () => {
      expect(existsSync(fixture(file))).toBe(true);
      // qpdf exits non-zero (so execFileSync throws) on errors and on warnings
      expect(run('qpdf', ['--check', fixture(file)])).toContain('No syntax or stream encoding errors');
      expect(Number(run('qpdf', ['--show-npages', fixture(file)]).trim())).toBe(pages);
    });
  }

  it('long-30-pages uses object streams and a cross-reference stream', () => {
    const bytes = readFileSync(fixture('long-30-pages.pdf')).toString('latin1');
    expect(bytes).toMatch(/\/Type\s*\/ObjStm/);
    expect(bytes).toMatch(/\/Type\s*\/XRef/);
    expect(bytes).not.toMatch(/^xref\s*$/m);
    const xref = run('qpdf', ['--show-xref', fixture('long-30-pages.pdf')]);
    expect(xref).toMatch(/compressed; stream = \d+/);
    expect(run('pdftotext', ['-f', '17', '-l', '17', fixture('long-30-pages.pdf'), '-'])).toContain(
      'Signature of the licensing officer',
    );
  });

  it('pdf13 is PDF 1.3 with a classic xref table and nothing newer', () => {
    const bytes = readFileSync(fixture('pdf13.pdf')).toString('latin1');
    expect(bytes.startsWith('%PDF-1.3\n')).toBe(true);
    expect(bytes).toMatch(/\nxref\n0 7\n0000000000 65535 f \n/);
    expect(bytes).not.toMatch(/ObjStm|\/XRef|\/XRefStm/);
    expect(run('qpdf', ['--show-xref', fixture('pdf13.pdf')])).not.toMatch(/\bcompressed; stream/);
    // every xref offset points at its object
    const start = Number(/startxref\s+(\d+)/.exec(bytes)![1]);
    const rows = bytes.slice(start).split('\n').slice(3, 9);
    rows.forEach((row, i) => expect(bytes.slice(Number(row.slice(0, 10))).startsWith(`${i + 1} 0 obj`)).toBe(true));
  });

  it('the approval letter is LibreOffice output with an embedded CJK font and the seal line', () => {
    const text = run('pdftotext', ['-enc', 'UTF-8', fixture('approval-letter.pdf'), '-']);
    const utf8 = Buffer.from(text, 'latin1').toString('utf8');
    expect(utf8).toContain('（盖章）');
    expect(utf8).toContain('行政许可决定书');
    expect(readFileSync(fixture('approval-letter.pdf')).toString('latin1')).toMatch(/\/Producer\s*<feff004c0069006200720065004f0066006600690063/i);
    const fonts = run('pdffonts', [fixture('approval-letter.pdf')]);
    expect(fonts).toMatch(/Bousung\S*\s+TrueType\s+\S+\s+yes\s+yes\s+yes/); // AR PL SungtiL GB, embedded subset with ToUnicode
    expect(existsSync(fixture('src/approval-letter.fodt'))).toBe(true);
  });

  it('the form has an empty signature field and a text field', () => {
    const json = JSON.parse(run('qpdf', ['--json', '--json-key=acroform', fixture('form-empty-signature-field.pdf')]));
    const fields = json.acroform.fields as { fullname: string; fieldtype: string; value: unknown; pageposfrom1: number }[];
    const sig = fields.find((f) => f.fullname === 'approverSignature');
    expect(sig).toMatchObject({ fieldtype: '/Sig', value: null, pageposfrom1: 1 });
    expect(fields.find((f) => f.fieldtype === '/Tx')?.fullname).toBe('applicantName');
  });

  it('the README describes regressions/ as it is: the fuzz regressions it holds', () => {
    const regressions = readdirSync(fixture('regressions')).filter((f) => f.endsWith('.pdf'));
    expect(regressions.length).toBeGreaterThan(0);
    const readme = readFileSync(fixture('README.md'), 'utf8');
    expect(readme).toMatch(/\| `regressions\/` \|[^\n]*test\/fuzz\.test\.ts/);
    expect(readme).not.toMatch(/`regressions\/` \| \(empty/);
    // The corpus lives in the repository: the README points there, not at a sibling checkout.
    expect(readme).toMatch(/\| `corpus\/` \|[^\n]*corpus\/README\.md/);
  });
});

describe('signed-document corpus (fixtures/corpus)', () => {
  const listed = readFileSync(join(corpusDir, 'EXPECTED.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')[0]!).sort();
  const readme = readFileSync(join(corpusDir, 'README.md'), 'utf8');

  it('holds exactly the files EXPECTED.tsv lists, each a PDF', () => {
    const onDisk = (readdirSync(corpusDir, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.pdf'))
      .map((f) => f.split(sep).join('/'))
      .sort();
    expect(onDisk).toEqual(listed);
    expect(listed.length).toBe(74);
    for (const rel of listed) expect(readFileSync(join(corpusDir, rel)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('its README names every file with its source project, commit and licence, and the licence text is there', () => {
    for (const rel of listed) expect(readme).toMatch(new RegExp(`\\| \`${rel.replace(/[.]/g, '\\.')}\` \\| (attack|intact) \\| EU DSS .*\\| \`d9473b8\` \\| LGPL-2\\.1 \\|`));
    const licence = readFileSync(join(corpusDir, 'eu-dss-pades/LICENSE-LGPL-2.1.txt'), 'utf8');
    expect(licence).toContain('GNU LESSER GENERAL PUBLIC LICENSE');
    expect(licence).toContain('Version 2.1');
  });
});
