/**
 * The stamp flow shared by the CLI, the API and the licence issuer: the seal's active version →
 * its appearance (built once per version, then reused) → placement → PAdES signature through the
 * HSM at the requested level. Recording the stamp is the caller's job (in its own transaction).
 */
import { OneSealError } from '../errors.js';
import { PdfReader } from '../pdf/reader.js';
import { findText } from '../pdf/text.js';
import { onSealChanged } from '../seals/events.js';
import { signingMaterial, type SealDeps, type SigningMaterial } from '../seals/service.js';
import type { DocMdpPermission } from '../signing/signature-dict.js';
import type { PadesLevel, RevocationSource, Timestamper } from '../signing/sign-pdf.js';
import { signPdf } from '../signing/sign-pdf.js';
import type { AppearanceSource, VisibleAppearance } from '../signing/field.js';
import { buildImageSealAppearance } from '../stamp/image.js';
import { placeAt, placedAppearance, placeOnText, type Placement } from '../stamp/placement.js';
import { buildSealAppearance, DEFAULT_SEAL_DIAMETER } from '../stamp/seal.js';
import { emitStraddle, planStraddle } from '../stamp/straddle.js';
import type { AppearanceTemplate } from '../stamp/template.js';
import { MM } from '../stamp/units.js';
import { checkDocumentLimits, declaredPageCount, DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './document-limits.js';

export type StampPlacement =
  | { kind: 'position'; page: number; x: number; y: number; unit?: 'mm' | 'pt' }
  | { kind: 'anchor'; text: string; page?: number }
  | { kind: 'field'; name: string }
  | { kind: 'invisible' };

export interface StampRequest {
  sealId: string;
  placement: StampPlacement;
  /** Also cut the seal across the right edges of all pages (骑缝章). */
  straddle?: boolean;
  level?: PadesLevel;
  certify?: DocMdpPermission;
  reason?: string;
  location?: string;
  contactInfo?: string;
  signingTime?: Date;
}

export interface StampResult {
  pdf: Buffer;
  sha256In: string;
  sha256Out: string;
  fieldName: string;
  level: PadesLevel;
  signingTime: Date;
  seal: { id: string; version: number; certSerial: string; versionId: number };
  /** Where the seal went (1-based page and /Rect), for the record. */
  placed: { page: number; rect: [number, number, number, number] } | null;
}

export interface StamperDeps extends SealDeps {
  timestamper: Timestamper;
  revocation: RevocationSource;
  /** Told the outcome of every stamp ("ok" or the error's kind), for the stamp counter. */
  onStamp?: (event: { sealId: string; level: PadesLevel; outcome: string }) => void;
  /** Pages and objects a document may have; the defaults when omitted. */
  limits?: DocumentLimits;
}

export const DEFAULT_LEVEL: PadesLevel = 'B-T';
/** China Standard Time, for /M: the bureau's documents show local time. */
const UTC_OFFSET_MINUTES = 480;

/**
 * How long a seal's active version is reused without asking the database. Changes made in this
 * process are seen at once (onSealChanged); another instance's rotation within this time.
 */
export const SIGNING_MATERIAL_TTL_MS = 2000;

export class Stamper {
  /** Appearance templates per seal version: building one subsets a font (tens of ms), emitting it costs microseconds. */
  private readonly appearances = new Map<number, Promise<AppearanceTemplate>>();
  private readonly materials = new Map<string, { material: Promise<SigningMaterial>; expires: number }>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: StamperDeps) {
    this.unsubscribe = onSealChanged((sealId) => this.materials.delete(sealId));
  }

  /** `signal`: the caller gave up (request time-out); the work stops at its next step. */
  async stamp(input: Uint8Array, request: StampRequest, signal?: AbortSignal): Promise<StampResult> {
    let material: SigningMaterial;
    try {
      material = await this.materialOf(request.sealId);
    } catch (e) {
      // The id came from the caller: an unknown one must not become a metric label of its own.
      this.report('unknown', request, e);
      throw e;
    }
    return this.stampWith(material, input, request, signal);
  }

  private report(sealId: string, request: StampRequest, e?: unknown): void {
    const outcome = e === undefined ? 'ok' : e instanceof OneSealError ? e.kind : 'internal';
    this.deps.onStamp?.({ sealId, level: request.level ?? DEFAULT_LEVEL, outcome });
  }

  /** The seal's active version, from a short-lived cache: two database reads per stamp were a tenth of its cost. */
  materialOf(sealId: string): Promise<SigningMaterial> {
    const now = Date.now();
    const cached = this.materials.get(sealId);
    if (cached && cached.expires > now) return cached.material;
    const material = signingMaterial(this.deps, sealId);
    this.materials.set(sealId, { material, expires: now + SIGNING_MATERIAL_TTL_MS });
    material.catch(() => this.materials.delete(sealId));
    return material;
  }

  close(): void {
    this.unsubscribe();
  }

  /** Stamps with a version already chosen (rotation mid-request must not switch keys under it). */
  async stampWith(material: SigningMaterial, input: Uint8Array, request: StampRequest, signal?: AbortSignal): Promise<StampResult> {
    try {
      signal?.throwIfAborted();
      const result = await this.sign(material, input, request);
      this.report(material.seal.id, request);
      return result;
    } catch (e) {
      this.report(material.seal.id, request, e);
      throw e;
    }
  }

  private async sign(material: SigningMaterial, input: Uint8Array, request: StampRequest): Promise<StampResult> {
    const level = request.level ?? DEFAULT_LEVEL;
    const signingTime = request.signingTime ?? new Date();
    const reader = PdfReader.load(input);
    const limits = this.deps.limits ?? DEFAULT_DOCUMENT_LIMITS;
    const straddle = request.straddle ?? false;
    checkDocumentLimits(limits, { objects: reader.size, pages: declaredPageCount(reader) }, straddle);
    const pages = reader.pages();
    checkDocumentLimits(limits, { objects: reader.size, pages: pages.length }, straddle);
    const template = await this.appearanceOf(material);
    const size = { width: template.width, height: template.height };

    let placement: Placement | undefined;
    const p = request.placement;
    if (p.kind === 'position') placement = placeAt(pages, p, size);
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
    if (request.straddle) {
      const slices = planStraddle(pages, size);
      for (const slice of slices) {
        extraAppearances.push({
          page: slice.placement.page - 1,
          rect: slice.placement.rect,
          xobject: { emit: (alloc) => emitStraddle(alloc, sealOnce.emit(alloc), [slice])[0]!.appearance },
        });
      }
    }

    const result = await signPdf(reader, {
      signer: material.key,
      certificate: material.certificate,
      chain: material.chain,
      signingTime,
      utcOffsetMinutes: UTC_OFFSET_MINUTES,
      level,
      appearance,
      extraAppearances,
      existingField: p.kind === 'field' ? { name: p.name, xobject: sealOnce } : undefined,
      reason: request.reason,
      location: request.location,
      contactInfo: request.contactInfo,
      certify: request.certify,
      timestamper: this.deps.timestamper,
      revocation: this.deps.revocation,
    });
    return {
      pdf: result.pdf,
      sha256In: result.sha256In,
      sha256Out: result.sha256Out,
      fieldName: result.fieldName,
      level,
      signingTime,
      seal: {
        id: material.seal.id,
        version: material.version.version,
        versionId: material.version.id,
        certSerial: material.version.certSerial ?? '',
      },
      placed: placement ? { page: placement.page, rect: placement.rect } : null,
    };
  }

  private appearanceOf(material: SigningMaterial): Promise<AppearanceTemplate> {
    let t = this.appearances.get(material.version.id);
    if (!t) {
      t = buildAppearance(material);
      t.catch(() => this.appearances.delete(material.version.id));
      this.appearances.set(material.version.id, t);
    }
    return t;
  }
}

type SealAppearanceSetting = { kind?: 'generated' | 'image'; diameterMm?: number; pngBase64?: string };

function buildAppearance(material: SigningMaterial): Promise<AppearanceTemplate> {
  const setting = (material.seal.appearance ?? {}) as SealAppearanceSetting;
  const diameter = setting.diameterMm ? setting.diameterMm * MM : DEFAULT_SEAL_DIAMETER;
  if (setting.kind === 'image' && setting.pngBase64) {
    return Promise.resolve(buildImageSealAppearance(Buffer.from(setting.pngBase64, 'base64'), { width: diameter }));
  }
  return buildSealAppearance({
    organisation: material.seal.organisation,
    title: material.seal.name,
    code: material.seal.creditCode,
    diameter,
  });
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
