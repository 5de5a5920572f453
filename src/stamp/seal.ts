import { deflateSync } from 'node:zlib';
import { OneSealError, type FieldError } from '../errors.js';
import { DEFAULT_CJK_FONT, SubsetFont } from '../pdf/font.js';
import { PdfDict, PdfStream, PdfString, name } from '../pdf/objects.js';
import { formatNumber, serialize } from '../pdf/serialize.js';
import { AppearanceTemplate, TemplateRecorder } from './template.js';
import { MM } from './units.js';

/** Seal-ink red (close to the 印泥 red of printed official seals, #E00F14). */
export const SEAL_RED: readonly [number, number, number] = [0.878, 0.059, 0.078];

/** 42 mm: the customary size for bodies under a county-level government (国发〔1999〕25号). */
export const DEFAULT_SEAL_DIAMETER = 42 * MM;

export interface SealSpec {
  /** The organisation's name, set clockwise along the upper arc. */
  organisation: string;
  /** The seal's purpose, set horizontally below the star, e.g. 行政审批专用章. */
  title?: string;
  /** A small line along the lower arc, e.g. the unified social credit code or the seal's serial. */
  code?: string;
  /** Diameter in points (default 42 mm). */
  diameter?: number;
  /** DeviceRGB fill and stroke colour, components 0–1. */
  color?: readonly [number, number, number];
  /** Path of a single-face TrueType font (default: the Song-style AR PL font). */
  fontPath?: string;
}

const MIN_DIAMETER = 20 * MM;
const MAX_DIAMETER = 80 * MM;

function validate(spec: SealSpec): void {
  const fields: FieldError[] = [];
  const org = spec.organisation?.trim() ?? '';
  if (org.length === 0) fields.push({ field: 'organisation', message: 'the organisation name is required' });
  else if ([...org].length > 40) fields.push({ field: 'organisation', message: 'at most 40 characters fit on a seal' });
  if (spec.title !== undefined && [...spec.title.trim()].length > 12) {
    fields.push({ field: 'title', message: 'at most 12 characters fit below the star' });
  }
  if (spec.code !== undefined && [...spec.code.trim()].length > 30) {
    fields.push({ field: 'code', message: 'at most 30 characters fit on the lower arc' });
  }
  const d = spec.diameter ?? DEFAULT_SEAL_DIAMETER;
  if (!Number.isFinite(d) || d < MIN_DIAMETER || d > MAX_DIAMETER) {
    fields.push({ field: 'diameter', message: 'the diameter must be between 20 mm and 80 mm' });
  }
  if (spec.color && !spec.color.every((c) => Number.isFinite(c) && c >= 0 && c <= 1)) {
    fields.push({ field: 'color', message: 'colour components must be between 0 and 1' });
  }
  if (fields.length > 0) {
    throw new OneSealError('invalid-seal-spec', 'bad-request', `the seal cannot be drawn: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, {
      fields,
    });
  }
}

// Three decimals are far below a device pixel at any zoom and keep the content stream short.
const num = (x: number): string => formatNumber(Math.round(x * 1000) / 1000);
const deg = (d: number): number => (d * Math.PI) / 180;

/** A full circle from four Bézier quarter arcs. */
function circlePath(cx: number, cy: number, r: number): string {
  const k = 0.5522847498 * r;
  return [
    `${num(cx + r)} ${num(cy)} m`,
    `${num(cx + r)} ${num(cy + k)} ${num(cx + k)} ${num(cy + r)} ${num(cx)} ${num(cy + r)} c`,
    `${num(cx - k)} ${num(cy + r)} ${num(cx - r)} ${num(cy + k)} ${num(cx - r)} ${num(cy)} c`,
    `${num(cx - r)} ${num(cy - k)} ${num(cx - k)} ${num(cy - r)} ${num(cx)} ${num(cy - r)} c`,
    `${num(cx + k)} ${num(cy - r)} ${num(cx + r)} ${num(cy - k)} ${num(cx + r)} ${num(cy)} c`,
    'h',
  ].join('\n');
}

/** Regular five-pointed star, one point up; `r` is the circumradius (the star is ≈1.9 r wide). */
function starPath(cx: number, cy: number, r: number): string {
  // Inner radius of a regular pentagram: r · sin 18° / sin 126°.
  const inner = (r * Math.sin(deg(18))) / Math.sin(deg(126));
  const pts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = deg(90 + i * 36);
    const rr = i % 2 === 0 ? r : inner;
    pts.push(`${num(cx + rr * Math.cos(a))} ${num(cy + rr * Math.sin(a))} ${i === 0 ? 'm' : 'l'}`);
  }
  return pts.join('\n') + '\nh';
}

/**
 * Seal lettering is cut bolder than a book face: fill and stroke the glyphs (render mode 2) with
 * an outline proportional to the size.
 */
function embolden(size: number): string {
  return `${num(size * 0.03)} w 2 Tr`;
}

interface ArcText {
  text: string;
  size: number;
  /** Baseline radius. */
  radius: number;
  /** Angle (radians, counter-clockwise from +x) of the run's midpoint. */
  centre: number;
  /** 'outward': tops point away from the centre, read clockwise (upper arc); 'inward': lower arc, read left to right. */
  facing: 'outward' | 'inward';
  /** Horizontal scaling in percent. */
  hscale: number;
  /** When set, the characters get equal slots spread over this angle; otherwise natural advances plus `tracking`. */
  span?: number;
  /** Extra space between characters, in points. */
  tracking?: number;
}

/**
 * Sets each character with its own text matrix, rotated to follow the arc. The run is wrapped in
 * an ActualText span so that extraction returns the name in reading order, which per-glyph
 * rotation would otherwise scramble.
 */
function arcText(font: SubsetFont, cx: number, cy: number, t: ArcText): string {
  const enc = font.encode(t.text);
  const widths = enc.advances.map((a) => (a * t.size * t.hscale) / 100_000);
  const n = widths.length;
  let centres: number[];
  let total: number;
  if (t.span !== undefined) {
    const slot = (t.span * t.radius) / n;
    centres = widths.map((_, i) => (i + 0.5) * slot);
    total = t.span * t.radius;
  } else {
    const tracking = t.tracking ?? 0;
    centres = [];
    let at = 0;
    for (const w of widths) {
      centres.push(at + w / 2);
      at += w + tracking;
    }
    total = at - tracking;
  }
  const sign = t.facing === 'outward' ? 1 : -1;
  const ops: string[] = [
    `/Span << /ActualText ${serialize(PdfString.text(t.text)).toString('latin1')} >> BDC`,
    'BT',
    `/F1 ${num(t.size)} Tf`,
    `${num(t.hscale)} Tz`,
    embolden(t.size),
  ];
  for (let i = 0; i < n; i++) {
    const phi = t.centre + (sign * (total / 2 - centres[i]!)) / t.radius;
    const a = phi - (sign * Math.PI) / 2;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const x = cx + t.radius * Math.cos(phi) - (widths[i]! / 2) * cos;
    const y = cy + t.radius * Math.sin(phi) - (widths[i]! / 2) * sin;
    ops.push(`${num(cos)} ${num(sin)} ${num(-sin)} ${num(cos)} ${num(x)} ${num(y)} Tm <${enc.hex.slice(i * 4, i * 4 + 4)}> Tj`);
  }
  ops.push('ET', 'EMC');
  return ops.join('\n');
}

/**
 * The seal's content stream (unencoded), drawn in a [0 0 d d] box. Encodes all lettering with
 * `font`, so call it before `font.buildObjects`. Expects resources /F1 (the font) and /GS1.
 */
export function sealContent(spec: SealSpec, font: SubsetFont): string {
  validate(spec);
  const d = spec.diameter ?? DEFAULT_SEAL_DIAMETER;
  const [r, g, b] = spec.color ?? SEAL_RED;
  const R = d / 2;
  const c = R;
  const border = d / 42; // 1 mm at 42 mm
  const gap = d * 0.02;
  const inner = R - border - gap; // nothing is drawn beyond this radius except the ring
  const asc = font.ascent;

  const ops: string[] = ['q', '/GS1 gs', `${num(r)} ${num(g)} ${num(b)} rg`, `${num(r)} ${num(g)} ${num(b)} RG`];
  ops.push(`${num(border)} w`, circlePath(c, c, R - border / 2), 'S');

  const starR = (d * 13) / 42 / 2; // 1.3 cm across at 42 mm
  ops.push(starPath(c, c, starR), 'f');

  // Upper arc: 210–240° for usual names (shorter ones would look sparse), a longer name gets a
  // wider arc, then narrower characters, and only then smaller ones.
  const org = spec.organisation.trim();
  const n = [...org].length;
  const span = deg(n < 6 ? 150 + 12 * n : Math.min(240, Math.max(210, 180 + 4 * n)));
  let size = d * 0.16;
  let radius = inner - size * asc;
  for (let i = 0; i < 4; i++) {
    const slot = ((radius + size * 0.4) * span) / n;
    size = Math.min(d * 0.16, slot * 1.2);
    radius = inner - size * asc;
  }
  const slot = ((radius + size * 0.4) * span) / n;
  const orgHscale = Math.min(100, (100 * 0.92 * slot) / size);
  ops.push(arcText(font, c, c, { text: org, size, radius, centre: deg(90), facing: 'outward', hscale: orgHscale, span }));

  const title = spec.title?.trim();
  if (title) {
    const tn = [...title].length;
    const top = -starR * Math.cos(deg(36)) - d * 0.03; // relative to the centre, below the star's lower points
    let tsize = d * 0.1;
    // The title must stay clear of the ring and of the ends of the upper arc when those reach below it.
    const endAngle = deg(90) - span / 2;
    const limitAt = (bottom: number): number => {
      let half = Math.sqrt(Math.max(0, inner * inner - bottom * bottom)) * 0.9;
      if (inner * Math.sin(endAngle) < top) half = Math.min(half, radius * Math.cos(endAngle) - d * 0.04);
      return half;
    };
    let half = limitAt(top - tsize * asc);
    // Characters are narrowed down to 60 % before the size is reduced.
    if (tn * tsize * 0.6 > 2 * half) {
      tsize = (2 * half) / (tn * 0.6);
      half = limitAt(top - tsize * asc);
    }
    const enc = font.encode(title);
    const natural = enc.width(tsize);
    const hscale = Math.min(100, (100 * 2 * half) / natural);
    const w = (natural * hscale) / 100;
    ops.push(
      'BT',
      `/F1 ${num(tsize)} Tf`,
      `${num(hscale)} Tz`,
      embolden(tsize),
      `1 0 0 1 ${num(c - w / 2)} ${num(c + top - tsize * asc)} Tm`,
      `<${enc.hex}> Tj`,
      'ET',
    );
  }

  const code = spec.code?.trim();
  if (code) {
    const csize = d * 0.055;
    const cradius = inner - csize * 0.1;
    const tracking = csize * 0.12;
    const glyphs = font.encode(code).width(csize);
    const maxArc = deg(90) * cradius - tracking * ([...code].length - 1); // keeps clear of the upper arc's ends
    const hscale = Math.min(100, (100 * maxArc) / glyphs);
    ops.push(arcText(font, c, c, { text: code, size: csize, radius: cradius, centre: deg(270), facing: 'inward', hscale, tracking }));
  }
  ops.push('Q');
  return ops.join('\n') + '\n';
}

/**
 * Builds the vector seal once: subsets the font, compresses the content, and returns a template
 * whose `emit(alloc)` writes a Form XObject (/BBox [0 0 d d]) into a document cheaply.
 */
export async function buildSealAppearance(spec: SealSpec): Promise<AppearanceTemplate> {
  const d = spec.diameter ?? DEFAULT_SEAL_DIAMETER;
  const font = SubsetFont.load(spec.fontPath ?? DEFAULT_CJK_FONT);
  const content = sealContent(spec, font);
  const rec = new TemplateRecorder();
  const fontRef = await font.buildObjects(rec);
  const form = rec.add(
    new PdfStream(
      new PdfDict({
        Type: name('XObject'),
        Subtype: name('Form'),
        BBox: [0, 0, d, d],
        Resources: new PdfDict({
          Font: new PdfDict({ F1: fontRef }),
          ExtGState: new PdfDict({ GS1: inkState() }),
        }),
        Filter: name('FlateDecode'),
      }),
      deflateSync(Buffer.from(content, 'latin1'), { level: 9 }),
    ),
  );
  return rec.finish(form, d, d);
}

/** Multiply blending lets text under the seal show through the ink, as with a real impression. */
export function inkState(): PdfDict {
  return new PdfDict({ Type: name('ExtGState'), BM: name('Multiply') });
}
