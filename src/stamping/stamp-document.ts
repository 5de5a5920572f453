/**
 * The PDF work of one stamp, with everything it needs handed in: read the document (within the
 * limits), place the seal (position, text anchor, field, 骑缝章 slices), and sign it at the requested
 * level through the signer, time-stamper and revocation source given. No database, no HSM handle,
 * no shared state: it runs the same in the main thread or in a worker (src/workers/).
 */
import { OneSealError } from '../errors.js';
import { PdfReader } from '../pdf/reader.js';
import { findText } from '../pdf/text.js';
import type { DigestSigner } from '../hsm/types.js';
import type { DocMdpPermission } from '../signing/signature-dict.js';
import { signPdf, type PadesLevel, type RevocationSource, type Timestamper } from '../signing/sign-pdf.js';
import { signatureFieldRect, type AppearanceSource, type VisibleAppearance } from '../signing/field.js';
import { buildImageSealAppearance } from '../stamp/image.js';
import { fitInField, placeAt, placedAppearance, placeInBox, placeOnText, type BoxRequest, type Placement } from '../stamp/placement.js';
import { buildSealAppearance, DEFAULT_SEAL_DIAMETER } from '../stamp/seal.js';
import { emitStraddle, planStraddle } from '../stamp/straddle.js';
import type { AppearanceTemplate } from '../stamp/template.js';
import { MM } from '../stamp/units.js';
import { checkDocumentLimits, declaredPageCount, type DocumentLimits } from './document-limits.js';

export type StampPlacement =
  | { kind: 'position'; page: number; x: number; y: number; unit?: 'mm' | 'pt' }
  | { kind: 'anchor'; text: string; page?: number }
  | { kind: 'field'; name: string }
  /** Fitted into a box (points, display space) without distortion, e.g. the seal square of a licence layout. */
  | ({ kind: 'box' } & BoxRequest)
  | { kind: 'invisible' };

export interface StampRequest {
  sealId: string;
  placement: StampPlacement;
  /** Also cut the seal across the right edges of the pages (骑缝章). */
  straddle?: boolean;
  /** The pages the paging seal crosses (default all). */
  straddlePages?: number[];
  /** At most this many pages per paging seal (default: as many as keep slices MIN_SLICE_MM wide). */
  straddlePagesPerSeal?: number;
  level?: PadesLevel;
  certify?: DocMdpPermission;
  reason?: string;
  location?: string;
  contactInfo?: string;
  signingTime?: Date;
}

/** What the seal looks like: enough to build its appearance anywhere (plain data, so a worker can receive it). */
export interface SealFace {
  /** The seal version: appearances are built once per version and reused. */
  versionId: number;
  organisation: string;
  name: string;
  creditCode: string;
  /** The seal's appearance setting as stored ({ kind, diameterMm, pngBase64 }). */
  appearance: unknown;
}

export interface StampDocumentDeps {
  signer: DigestSigner;
  certificate: Uint8Array;
  chain: readonly Uint8Array[];
  appearance: () => Promise<AppearanceTemplate>;
  timestamper: Timestamper;
  revocation: RevocationSource;
  limits: DocumentLimits;
  /** The smallest seal, in mm, that may be fitted into a box or a signature field. */
  minSealMm: number;
}

export interface StampedDocument {
  pdf: Buffer;
  sha256In: string;
  sha256Out: string;
  fieldName: string;
  level: PadesLevel;
  signingTime: Date;
  /** Where the seal went (1-based page and /Rect), for the record. */
  placed: { page: number; rect: [number, number, number, number] } | null;
}

export const DEFAULT_LEVEL: PadesLevel = 'B-T';
/** China Standard Time, for /M: the bureau's documents show local time. */
const UTC_OFFSET_MINUTES = 480;

export async function stampDocument(input: Uint8Array, request: StampRequest, deps: StampDocumentDeps): Promise<StampedDocument> {
  const level = request.level ?? DEFAULT_LEVEL;
  const signingTime = request.signingTime ?? new Date();
  const reader = PdfReader.load(input);
  const straddle = request.straddle ?? false;
  checkDocumentLimits(deps.limits, { objects: reader.size, pages: declaredPageCount(reader) }, straddle);
  const pages = reader.pages();
  checkDocumentLimits(deps.limits, { objects: reader.size, pages: pages.length }, straddle);
  const template = await deps.appearance();
  const size = { width: template.width, height: template.height };

  let placement: Placement | undefined;
  const p = request.placement;
  if (p.kind === 'position') placement = placeAt(pages, p, size);
  else if (p.kind === 'box') placement = placeInBox(pages, p, size, deps.minSealMm);
  else if (p.kind === 'anchor') {
    const matches = findText(reader, p.text, p.page === undefined ? {} : { page: p.page });
    if (matches.length === 0) {
      throw new OneSealError(
        'anchor-not-found',
        'unprocessable',
        `The text "${p.text}" was not found${p.page === undefined ? '' : ` on page ${p.page}`}; check the anchor or place the seal by page and coordinates.`,
        { fields: [{ field: 'anchor', message: 'not found in the document text' }] },
      );
    }
    placement = placeOnText(pages, matches[0]!, size);
  }

  const sealOnce = onceEmitted(template);
  const appearance: VisibleAppearance | undefined = placement && {
    page: placement.page - 1,
    rect: placement.rect,
    xobject: { emit: (alloc) => placedAppearance(alloc, sealOnce.emit(alloc), placement!) },
  };
  const extraAppearances: VisibleAppearance[] = [];
  if (straddle) {
    const slices = planStraddle(pages, size, {
      ...(request.straddlePages ? { pages: request.straddlePages } : {}),
      ...(request.straddlePagesPerSeal ? { pagesPerSeal: request.straddlePagesPerSeal } : {}),
    });
    for (const slice of slices) {
      extraAppearances.push({
        page: slice.placement.page - 1,
        rect: slice.placement.rect,
        xobject: { emit: (alloc) => emitStraddle(alloc, sealOnce.emit(alloc), [slice])[0]!.appearance },
      });
    }
  }

  const result = await signPdf(reader, {
    signer: deps.signer,
    certificate: deps.certificate,
    chain: deps.chain,
    signingTime,
    utcOffsetMinutes: UTC_OFFSET_MINUTES,
    level,
    appearance,
    extraAppearances,
    existingField: p.kind === 'field' ? { name: p.name, xobject: fieldAppearance(reader, p.name, template, sealOnce, deps.minSealMm) } : undefined,
    reason: request.reason,
    location: request.location,
    contactInfo: request.contactInfo,
    certify: request.certify,
    timestamper: deps.timestamper,
    revocation: deps.revocation,
  });
  return {
    pdf: result.pdf,
    sha256In: result.sha256In,
    sha256Out: result.sha256Out,
    fieldName: result.fieldName,
    level,
    signingTime,
    placed: placement ? { page: placement.page, rect: placement.rect } : null,
  };
}

type SealAppearanceSetting = { kind?: 'generated' | 'image'; diameterMm?: number; pngBase64?: string };

/** The seal's appearance template (subsetting its font takes tens of ms: callers cache it per version). */
export function buildAppearance(face: SealFace): Promise<AppearanceTemplate> {
  const setting = (face.appearance ?? {}) as SealAppearanceSetting;
  const diameter = setting.diameterMm ? setting.diameterMm * MM : DEFAULT_SEAL_DIAMETER;
  if (setting.kind === 'image' && setting.pngBase64) {
    return Promise.resolve(buildImageSealAppearance(Buffer.from(setting.pngBase64, 'base64'), { width: diameter }));
  }
  return buildSealAppearance({ organisation: face.organisation, title: face.name, code: face.creditCode, diameter });
}

/** Appearance templates per seal version, built once each. */
export class AppearanceCache {
  private readonly templates = new Map<number, Promise<AppearanceTemplate>>();

  get(face: SealFace): Promise<AppearanceTemplate> {
    let t = this.templates.get(face.versionId);
    if (!t) {
      t = buildAppearance(face);
      t.catch(() => this.templates.delete(face.versionId));
      this.templates.set(face.versionId, t);
    }
    return t;
  }
}

/** The seal fitted undistorted into the field's widget; none for a field without area (an invisible signature). */
function fieldAppearance(reader: PdfReader, name: string, template: AppearanceTemplate, seal: AppearanceSource, minSealMm: number): AppearanceSource | undefined {
  const rect = signatureFieldRect(reader, name);
  if (!rect) return undefined;
  const fitted = fitInField(name, rect, template, minSealMm);
  return { emit: (alloc) => placedAppearance(alloc, seal.emit(alloc), fitted) };
}

/** The seal form is written once per document, however many widgets (slices) draw it. */
function onceEmitted(template: AppearanceTemplate): AppearanceSource {
  const emitted = new WeakMap<object, ReturnType<AppearanceTemplate['emit']>>();
  return {
    emit(alloc) {
      let ref = emitted.get(alloc);
      if (!ref) {
        ref = template.emit(alloc);
        emitted.set(alloc, ref);
      }
      return ref;
    },
  };
}
