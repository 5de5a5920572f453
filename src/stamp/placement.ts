import { OneSealError } from '../errors.js';
import type { PdfAllocator } from '../pdf/font.js';
import { PdfDict, PdfRef, PdfStream, name } from '../pdf/objects.js';
import { apply, multiply, translate, type Matrix } from '../pdf/matrix.js';
import { formatNumber } from '../pdf/serialize.js';

export { apply, multiply, type Matrix };
import { MM } from './units.js';

export type Rect = [number, number, number, number];

/** The page attributes placement needs (PdfReader's PageInfo has them, inherited attributes resolved). */
export interface PageGeometry {
  mediaBox: number[];
  cropBox?: number[];
  rotate?: number;
}

/**
 * Where an appearance goes on a page. Coordinates given by callers are in *display space*: points
 * (or mm) from the lower-left corner of the page as a viewer shows it, i.e. of the crop box after
 * /Rotate. The seal is then drawn upright on screen whatever the page's rotation.
 */
export interface Placement {
  /** 1-based page number. */
  page: number;
  /** The visible area in the page's user space: the annotation /Rect. */
  rect: Rect;
  /** Maps the appearance form's space (its BBox) into the page's user space. */
  matrix: Matrix;
}

/** A text box found on a page (src/pdf/text.ts findText), in the page's user space. */
export interface TextBox {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

function invert(m: Matrix): Matrix {
  const det = m[0] * m[3] - m[1] * m[2];
  return [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det, (m[2] * m[5] - m[3] * m[4]) / det, (m[1] * m[4] - m[0] * m[5]) / det];
}

function normRect(r: number[] | undefined): Rect | undefined {
  if (!r || r.length !== 4 || !r.every(Number.isFinite)) return undefined;
  return [Math.min(r[0]!, r[2]!), Math.min(r[1]!, r[3]!), Math.max(r[0]!, r[2]!), Math.max(r[1]!, r[3]!)];
}

/** The page as displayed: its size, and the mapping from display space to user space. */
export interface PageView {
  width: number;
  height: number;
  toUser: Matrix;
  /** The visible box in user space (crop box clipped to the media box). */
  box: Rect;
}

export function pageView(page: PageGeometry): PageView {
  const media = normRect(page.mediaBox) ?? [0, 0, 612, 792];
  const crop = normRect(page.cropBox) ?? media;
  const box: Rect = [Math.max(crop[0], media[0]), Math.max(crop[1], media[1]), Math.min(crop[2], media[2]), Math.min(crop[3], media[3])];
  const [x0, y0, x1, y1] = box[2] > box[0] && box[3] > box[1] ? box : media;
  const w = x1 - x0;
  const h = y1 - y0;
  // /Rotate turns the page clockwise for display; drawing through the inverse turn looks upright.
  const rot = ((Math.round((page.rotate ?? 0) / 90) % 4) + 4) % 4;
  switch (rot) {
    case 1:
      return { width: h, height: w, toUser: [0, 1, -1, 0, x0 + w, y0], box: [x0, y0, x1, y1] };
    case 2:
      return { width: w, height: h, toUser: [-1, 0, 0, -1, x0 + w, y0 + h], box: [x0, y0, x1, y1] };
    case 3:
      return { width: h, height: w, toUser: [0, -1, 1, 0, x0, y0 + h], box: [x0, y0, x1, y1] };
    default:
      return { width: w, height: h, toUser: [1, 0, 0, 1, x0, y0], box: [x0, y0, x1, y1] };
  }
}

function userRect(m: Matrix, x0: number, y0: number, x1: number, y1: number): Rect {
  const pts = [apply(m, x0, y0), apply(m, x1, y0), apply(m, x0, y1), apply(m, x1, y1)];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

export function checkPage(pageCount: number, page: number): void {
  if (!Number.isInteger(page) || page < 1 || page > pageCount) {
    throw new OneSealError(
      'page-out-of-range',
      'unprocessable',
      `page ${page} does not exist: the document has ${pageCount} page${pageCount === 1 ? '' : 's'} (pages are numbered from 1)`,
      { fields: [{ field: 'page', message: `must be an integer from 1 to ${pageCount}` }], extra: { pageCount } },
    );
  }
}

// Rounding in the caller's mm → pt conversion must not make an edge-to-edge seal "off the page".
const EPS = 0.01;

/**
 * Places the area [x0,y0]–[x1,y1] of a display-space rectangle on `page` and checks that it lies
 * on the page. `formOrigin` is where the form's (0,0) lands in display space.
 */
export function placeInView(pages: readonly PageGeometry[], page: number, visible: Rect, formOrigin: [number, number]): Placement {
  checkPage(pages.length, page);
  const view = pageView(pages[page - 1]!);
  const [x0, y0, x1, y1] = visible;
  if (x0 < -EPS || y0 < -EPS || x1 > view.width + EPS || y1 > view.height + EPS) {
    const f = (v: number): string => `${formatNumber(Math.round((v / MM) * 10) / 10)} mm`;
    throw new OneSealError(
      'seal-off-page',
      'unprocessable',
      `the seal would reach outside page ${page}: it spans ${f(x0)}–${f(x1)} across and ${f(y0)}–${f(y1)} up, ` +
        `but the page is ${f(view.width)} × ${f(view.height)} (measured from its lower-left corner as displayed)`,
      { fields: [{ field: 'position', message: 'move the seal so that it lies entirely on the page' }] },
    );
  }
  return {
    page,
    rect: userRect(view.toUser, x0, y0, x1, y1),
    matrix: multiply(translate(formOrigin[0], formOrigin[1]), view.toUser),
  };
}

export interface PositionRequest {
  page: number;
  /** Centre of the seal, from the lower-left corner of the page as displayed. */
  x: number;
  y: number;
  unit?: 'mm' | 'pt';
}

/** Places an appearance of `size` (points) centred at a display-space position. */
export function placeAt(pages: readonly PageGeometry[], req: PositionRequest, size: Size): Placement {
  const k = req.unit === 'pt' ? 1 : MM;
  if (!Number.isFinite(req.x) || !Number.isFinite(req.y)) {
    throw new OneSealError('invalid-position', 'bad-request', 'the seal position needs numeric x and y', {
      fields: [{ field: 'position', message: 'x and y must be numbers' }],
    });
  }
  const x0 = req.x * k - size.width / 2;
  const y0 = req.y * k - size.height / 2;
  return placeInView(pages, req.page, [x0, y0, x0 + size.width, y0 + size.height], [x0, y0]);
}

/** Centres an appearance on a text box found on the page (e.g. “（盖章）”). */
export function placeOnText(pages: readonly PageGeometry[], box: TextBox, size: Size): Placement {
  checkPage(pages.length, box.page);
  const view = pageView(pages[box.page - 1]!);
  const [cx, cy] = apply(invert(view.toUser), box.x + box.width / 2, box.y + box.height / 2);
  return placeAt(pages, { page: box.page, x: cx, y: cy, unit: 'pt' }, size);
}

/** The smallest seal still legible on paper, in millimetres, unless configured (ONESEAL_MIN_SEAL_MM). */
export const DEFAULT_MIN_SEAL_MM = 20;

/** The scale that fits `size` into a box of w × h without enlarging or distorting it; refuses (422) below `minMm`. */
function fitScale(size: Size, w: number, h: number, minMm: number, what: string, field: string): number {
  const k = Math.min(1, w / size.width, h / size.height);
  const side = Math.min(size.width, size.height) * k;
  if (side < minMm * MM - EPS) {
    const mm = (v: number): string => formatNumber(Math.round((v / MM) * 10) / 10);
    throw new OneSealError('field-too-small', 'unprocessable',
      `${what} is ${mm(w)} × ${mm(h)} mm: the seal fitted into it without distortion would be ` +
        `${mm(side)} mm across, below the legible minimum of ${formatNumber(minMm)} mm. Enlarge it, or place the seal by position or anchor.`,
      { fields: [{ field, message: `too small for a legible seal (at least ${formatNumber(minMm)} mm each way)` }], extra: { minSealMm: minMm } });
  }
  return k;
}

/**
 * Fits an appearance of `size` into a signature field's widget `rect` (user space): scaled down, never
 * up, keeping its aspect ratio, centred. A viewer maps an appearance's BBox onto /Rect, so handing it the
 * seal form directly stretched a round seal into the field's shape.
 */
export function fitInField(fieldName: string, rect: Rect, size: Size, minMm: number): Pick<Placement, 'rect' | 'matrix'> {
  const [x0, y0, x1, y1] = rect;
  const k = fitScale(size, x1 - x0, y1 - y0, minMm, `The signature field "${fieldName}"`, 'field');
  return { rect, matrix: [k, 0, 0, k, x0 + (x1 - x0 - size.width * k) / 2, y0 + (y1 - y0 - size.height * k) / 2] };
}

export interface BoxRequest {
  page: number;
  /** Lower-left corner and size of the box, in points from the lower-left corner of the page as displayed. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Places an appearance fitted (as fitInField) and centred in a display-space box, e.g. a licence layout's seal square. */
export function placeInBox(pages: readonly PageGeometry[], box: BoxRequest, size: Size, minMm: number): Placement {
  const k = fitScale(size, box.width, box.height, minMm, `The seal box on page ${box.page}`, 'box');
  const [w, h] = [size.width * k, size.height * k];
  const x0 = box.x + (box.width - w) / 2;
  const y0 = box.y + (box.height - h) / 2;
  const placed = placeInView(pages, box.page, [x0, y0, x0 + w, y0 + h], [x0, y0]);
  return { ...placed, matrix: multiply([k, 0, 0, k, 0, 0], placed.matrix) };
}

/**
 * A Form XObject for an annotation's /AP /N (its BBox is the placement's rect size, so the viewer
 * maps it onto /Rect unchanged) that draws `form` through the placement's matrix, optionally
 * clipped to `clip` (in the form's space).
 */
export function placedAppearance(alloc: PdfAllocator, form: PdfRef, placement: Pick<Placement, 'rect' | 'matrix'>, clip?: Rect): PdfRef {
  const [llx, lly, urx, ury] = placement.rect;
  const m = multiply(placement.matrix, translate(-llx, -lly));
  const n = (v: number): string => formatNumber(Math.round(v * 1000) / 1000);
  const ops = ['q', `${m.map(n).join(' ')} cm`];
  if (clip) ops.push(`${n(clip[0])} ${n(clip[1])} ${n(clip[2] - clip[0])} ${n(clip[3] - clip[1])} re W n`);
  ops.push('/Seal Do', 'Q');
  return alloc.add(
    new PdfStream(
      new PdfDict({
        Type: name('XObject'),
        Subtype: name('Form'),
        BBox: [0, 0, urx - llx, ury - lly],
        Resources: new PdfDict({ XObject: new PdfDict({ Seal: form }) }),
      }),
      // A few dozen bytes: compressing them would cost more time on every stamp than it saves space.
      Buffer.from(ops.join('\n') + '\n', 'latin1'),
    ),
  );
}

/** Page content operators that draw the XObject named `xobject` (in the page's resources) at a placement. */
export function placementOps(placement: Placement, xobject: string): string {
  const n = (v: number): string => formatNumber(Math.round(v * 1000) / 1000);
  return `q ${placement.matrix.map(n).join(' ')} cm /${xobject} Do Q\n`;
}
