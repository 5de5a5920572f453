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
  /** Height of the seal's centre from the bottom of each displayed page; default the page's middle. */
  y?: number;
  unit?: 'mm' | 'pt';
}

/**
 * Cuts the seal into one vertical slice per page, each at the right edge of its page as
 * displayed: page k of N shows the k-th slice from the left, so fanning the pages out (each
 * sheet's right edge just left of the next one's) reassembles the seal.
 */
export function planStraddle(pages: readonly PageGeometry[], seal: Size, opts: StraddleOptions = {}): StraddleSlice[] {
  const chosen = opts.pages ?? pages.map((_, i) => i + 1);
  for (const p of chosen) checkPage(pages.length, p);
  if (chosen.length < 2) {
    throw new OneSealError('straddle-needs-pages', 'unprocessable', 'a paging seal (骑缝章) needs at least two pages', {
      fields: [{ field: 'pages', message: 'choose at least two pages' }],
    });
  }
  if (new Set(chosen).size !== chosen.length) {
    throw new OneSealError('straddle-needs-pages', 'unprocessable', 'each page can carry only one slice of a paging seal', {
      fields: [{ field: 'pages', message: 'list each page once' }],
    });
  }
  const n = chosen.length;
  const s = seal.width / n;
  const k = opts.unit === 'pt' ? 1 : MM;
  return chosen.map((page, i) => {
    const view = pageView(pages[page - 1]!);
    const cy = opts.y === undefined ? view.height / 2 : opts.y * k;
    const y0 = cy - seal.height / 2;
    const originX = view.width - (i + 1) * s; // slice i's right side on the page's right edge
    const placement = placeInView(pages, page, [view.width - s, y0, view.width, y0 + seal.height], [originX, y0]);
    return { placement, clip: [i * s, 0, (i + 1) * s, seal.height] };
  });
}

/**
 * Writes one clipped Form XObject per slice, all referring to the same (already emitted) seal
 * form, so the seal's font and content are stored once however many pages there are.
 */
export function emitStraddle(alloc: PdfAllocator, sealForm: PdfRef, slices: readonly StraddleSlice[]): { placement: Placement; appearance: PdfRef }[] {
  return slices.map((sl) => ({ placement: sl.placement, appearance: placedAppearance(alloc, sealForm, sl.placement, sl.clip) }));
}
