/**
 * Structural limits for reading untrusted PDFs. Each bounds a way a hostile file could make us
 * spend unbounded memory or time; the defaults sit well above anything a real document needs.
 */
export interface PdfLimits {
  /** Bytes any one decoded stream (after all filters) may grow to: stops decompression bombs. */
  maxDecodedStreamBytes: number;
  /** Highest object count we accept from /Size, xref subsections or object streams. */
  maxObjects: number;
  /** Cross-reference sections followed through /Prev and /XRefStm. */
  maxXrefSections: number;
  /** Indirect references followed in one resolve() before we call it a cycle. */
  maxResolveDepth: number;
  /** Filters chained on one stream. */
  maxFilters: number;
}

export const DEFAULT_PDF_LIMITS: Readonly<PdfLimits> = Object.freeze({
  maxDecodedStreamBytes: 64 * 1024 * 1024,
  maxObjects: 5_000_000,
  maxXrefSections: 10_000,
  maxResolveDepth: 32,
  maxFilters: 8,
});

export function withDefaults(limits?: Partial<PdfLimits>): Readonly<PdfLimits> {
  return limits ? Object.freeze({ ...DEFAULT_PDF_LIMITS, ...limits }) : DEFAULT_PDF_LIMITS;
}
