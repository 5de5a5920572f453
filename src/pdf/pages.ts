import { PdfDict, PdfName, PdfRef, type PdfValue } from './objects.js';
import type { PdfReader } from './reader.js';

export interface PageInfo {
  /** 0-based position in the document. */
  index: number;
  ref: PdfRef;
  /** The page dictionary itself (shared with the reader's cache: clone before changing). */
  dict: PdfDict;
  /** [llx, lly, urx, ury], normalised so that ll < ur; inherited, US Letter when absent. */
  mediaBox: [number, number, number, number];
  /** Inherited; the media box when absent. */
  cropBox: [number, number, number, number];
  /** Inherited /Rotate normalised to 0, 90, 180 or 270. */
  rotate: number;
  /** Inherited, resolved; an empty dictionary when absent. */
  resources: PdfDict;
}

type Rect = [number, number, number, number];
const LETTER: Rect = [0, 0, 612, 792];
const INHERITED = ['Resources', 'MediaBox', 'CropBox', 'Rotate'] as const;
type Inherited = Partial<Record<(typeof INHERITED)[number], PdfValue>>;

function rect(reader: PdfReader, v: PdfValue | undefined): Rect | undefined {
  const a = reader.resolve(v);
  if (!Array.isArray(a) || a.length !== 4) return undefined;
  const n = a.map((x) => reader.resolve(x));
  if (!n.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return [Math.min(n[0]!, n[2]!), Math.min(n[1]!, n[3]!), Math.max(n[0]!, n[2]!), Math.max(n[1]!, n[3]!)];
}

/**
 * Walks the page tree depth-first in document order. Each tree node is visited once, so a /Kids
 * cycle or a node listed twice cannot loop or duplicate pages.
 */
export function collectPages(reader: PdfReader): PageInfo[] {
  const pages: PageInfo[] = [];
  const root = reader.catalog().get('Pages');
  if (!(root instanceof PdfRef)) return pages;
  const seen = new Set<number>();
  const stack: { ref: PdfRef; inherited: Inherited }[] = [{ ref: root, inherited: {} }];
  while (stack.length > 0) {
    const { ref, inherited } = stack.pop()!;
    if (seen.has(ref.num)) continue;
    seen.add(ref.num);
    const node = reader.getObject(ref);
    if (!(node instanceof PdfDict)) continue;
    const attrs: Inherited = { ...inherited };
    for (const k of INHERITED) if (node.has(k)) attrs[k] = node.get(k);
    const kids = reader.resolve(node.get('Kids'));
    const type = node.get('Type');
    const isTree = type instanceof PdfName ? type.name === 'Pages' : Array.isArray(kids);
    if (isTree) {
      if (!Array.isArray(kids)) continue;
      for (let i = kids.length - 1; i >= 0; i--) {
        const k = kids[i];
        if (k instanceof PdfRef) stack.push({ ref: k, inherited: attrs });
      }
      continue;
    }
    const mediaBox = rect(reader, attrs.MediaBox) ?? LETTER;
    const resources = reader.resolve(attrs.Resources);
    const rot = reader.resolve(attrs.Rotate);
    const r = typeof rot === 'number' && Number.isInteger(rot) && rot % 90 === 0 ? ((rot % 360) + 360) % 360 : 0;
    pages.push({
      index: pages.length,
      ref,
      dict: node,
      mediaBox,
      cropBox: rect(reader, attrs.CropBox) ?? mediaBox,
      rotate: r,
      resources: resources instanceof PdfDict ? resources : new PdfDict(),
    });
  }
  return pages;
}
