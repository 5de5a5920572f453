import { OneSealError } from '../errors.js';
import type { PdfAllocator } from '../pdf/font.js';
import type { PdfRef } from '../pdf/objects.js';
import { MM } from './units.js';
import { checkPage, pageView, placeInView, placedAppearance, type PageGeometry, type Placement, type Rect, type Size } from './placement.js';

/** One page's share of a 骑缝章 (paging seal). */
export interface StraddleSlice {
  placement: Placement;
  /** The part of the seal this page shows, in the seal form's space. */
  clip: Rect;
}

export interface StraddleOptions {
  /** 1-based pages that carry a slice, in order; default all pages. */
  pages?: number[];
  /**
   * How many pages one seal spans at most; the pages are shared out over as few seals as that allows,
   * in groups of (nearly) equal size. Default: as many as keep each slice at least MIN_SLICE_MM wide.
   */
  pagesPerSeal?: number;
  /** Height of the seal's centre from the bottom of each displayed page; default the page's middle. */
  y?: number;
  unit?: 'mm' | 'pt';
}

/** A slice narrower than this shows too little of the seal to match it against its neighbours. */
export const MIN_SLICE_MM = 4;

/** Bounds what a range text may expand to ("1-99999,1-99999,…"); far above any real document. */
const MAX_RANGE_PAGES = 10_000;

/** Page ranges as written by people, "1-30" or "1-5,8,10-12", to page numbers in order; undefined when malformed. */
export function parsePageRanges(text: string): number[] | undefined {
  const pages: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(part);
    if (!m) return undefined;
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (from < 1 || to < from) return undefined;
    if (pages.length + (to - from) > MAX_RANGE_PAGES) return undefined;
    for (let p = from; p <= to; p++) pages.push(p);
  }
  return pages;
}

function straddleError(message: string, field: string, fieldMessage: string): OneSealError {
  return new OneSealError('straddle-needs-pages', 'unprocessable', message, { fields: [{ field, message: fieldMessage }] });
}

/** Splits `pages` into as few runs of consecutive choices as `max` allows, sizes differing by at most one. */
function groups(pages: number[], max: number): number[][] {
  const count = Math.ceil(pages.length / max);
  const out: number[][] = [];
  let at = 0;
  for (let g = 0; g < count; g++) {
    const size = Math.floor(pages.length / count) + (g < pages.length % count ? 1 : 0);
    out.push(pages.slice(at, at + size));
    at += size;
  }
  return out;
}

/**
 * Cuts the seal into one vertical slice per page, each at the right edge of its page as displayed:
 * within a group, page k of N shows the k-th slice from the left, so fanning the pages out (each
 * sheet's right edge just left of the next one's) reassembles the seal. Long documents get one seal
 * per group of pages so that no slice is narrower than MIN_SLICE_MM.
 */
export function planStraddle(pages: readonly PageGeometry[], seal: Size, opts: StraddleOptions = {}): StraddleSlice[] {
  const chosen = opts.pages ?? pages.map((_, i) => i + 1);
  const pagesField = opts.pages ? 'straddlePages' : 'straddle';
  for (const p of chosen) checkPage(pages.length, p);
  if (chosen.length < 2) {
    throw straddleError(
      opts.pages
        ? `a paging seal (骑缝章) spans at least two pages; straddlePages chose ${chosen.length}`
        : `a paging seal (骑缝章) spans at least two pages, and the document has ${pages.length}; leave out straddle=true (or use a seal placed on the page)`,
      pagesField, opts.pages ? 'choose at least two pages, e.g. 1-30' : `the document has ${pages.length} page; a paging seal needs two or more`);
  }
  if (new Set(chosen).size !== chosen.length) throw straddleError('each page can carry only one slice of a paging seal', pagesField, 'list each page once');
  const widest = Math.floor(seal.width / (MIN_SLICE_MM * MM) + 1e-9);
  const perSeal = opts.pagesPerSeal ?? widest;
  if (!Number.isInteger(perSeal) || perSeal < 2) throw straddleError('one paging seal spans at least two pages', 'straddlePagesPerSeal', 'must be a whole number, 2 or more');
  if (perSeal > widest) {
    throw straddleError(
      `a seal ${formatMm(seal.width)} mm wide cut over ${perSeal} pages leaves slices ${formatMm(seal.width / perSeal)} mm wide, below the legible ${MIN_SLICE_MM} mm: ` +
        `let one seal span at most ${widest} pages (straddlePagesPerSeal=${widest}, or leave it out and OneSeal groups the pages)`,
      'straddlePagesPerSeal', `at most ${widest} for this seal`);
  }
  const k = opts.unit === 'pt' ? 1 : MM;
  return groups(chosen, perSeal).flatMap((group) => {
    const s = seal.width / group.length;
    return group.map((page, i) => {
      const view = pageView(pages[page - 1]!);
      const cy = opts.y === undefined ? view.height / 2 : opts.y * k;
      const y0 = cy - seal.height / 2;
      const originX = view.width - (i + 1) * s; // slice i's right side on the page's right edge
      const placement = placeInView(pages, page, [view.width - s, y0, view.width, y0 + seal.height], [originX, y0]);
      return { placement, clip: [i * s, 0, (i + 1) * s, seal.height] as Rect };
    });
  });
}

const formatMm = (pt: number): string => String(Math.round((pt / MM) * 10) / 10);

/**
 * Writes one clipped Form XObject per slice, all referring to the same (already emitted) seal
 * form, so the seal's font and content are stored once however many pages there are.
 */
export function emitStraddle(alloc: PdfAllocator, sealForm: PdfRef, slices: readonly StraddleSlice[]): { placement: Placement; appearance: PdfRef }[] {
  return slices.map((sl) => ({ placement: sl.placement, appearance: placedAppearance(alloc, sealForm, sl.placement, sl.clip) }));
}
