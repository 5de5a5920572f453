import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PdfDict, PdfRef } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';

/** A well-formed document that mutators start from, with the facts they need to aim at its structure. */
export interface SeedDoc {
  name: string;
  bytes: Buffer;
  root: PdfRef;
  /** First free object number (new objects go here). */
  size: number;
  /** Offset of the newest cross-reference section. */
  startxref: number;
  pages: { ref: PdfRef; dict: PdfDict }[];
  /** The /Pages tree root. */
  pagesRoot: PdfRef;
  signed: boolean;
}

/** The repository root, whether this runs from fuzz/ (vitest) or dist/fuzz/ (npm run fuzz). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'fixtures'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json and fixtures/)');
    dir = up;
  }
  return dir;
}

/** Signed documents from the corpus (fixtures/corpus). */
export const CORPUS_SEEDS = ['eu-dss-pades/validation/pdf-signed-original.pdf', 'eu-dss-pades/validation/DSS-3226.pdf'];

function analyse(name: string, bytes: Buffer): SeedDoc {
  const r = PdfReader.load(bytes);
  const pagesRoot = r.catalog().get('Pages');
  if (!(pagesRoot instanceof PdfRef)) throw new Error(`seed ${name} has no /Pages reference`);
  const root = r.trailer.get('Root');
  if (!(root instanceof PdfRef)) throw new Error(`seed ${name} has no /Root reference`);
  return {
    name,
    bytes,
    root,
    size: r.size,
    startxref: r.revisions.at(-1)!.startxref,
    pages: r.pages().map((p) => ({ ref: p.ref, dict: p.dict })),
    pagesRoot,
    signed: bytes.includes('/ByteRange'),
  };
}

/** fixtures/*.pdf plus the signed corpus seeds. */
export function loadSeeds(root = repoRoot()): SeedDoc[] {
  const fixtures = join(root, 'fixtures');
  const files = readdirSync(fixtures)
    .filter((f) => f.endsWith('.pdf'))
    .sort()
    .map((f) => ({ name: `fixtures/${f}`, path: join(fixtures, f) }));
  for (const rel of CORPUS_SEEDS) {
    files.push({ name: `corpus/${rel}`, path: resolve(root, 'fixtures/corpus', rel) });
  }
  return files.map((f) => analyse(f.name, readFileSync(f.path)));
}
