import { PdfDict, PdfRef, PdfStream, type PdfValue } from '../pdf/objects.js';
import type { PdfAllocator } from '../pdf/font.js';

/**
 * A group of finished PDF objects (font program, font dicts, content stream, images) that can be
 * written into any number of documents. Building an appearance (font subsetting, compression) is
 * the expensive part; a template keeps the result so that stamping the same seal thousands of
 * times only allocates fresh object numbers and rewrites the references between its own objects.
 */
export class AppearanceTemplate {
  constructor(
    private readonly objects: readonly PdfValue[],
    private readonly localIndex: ReadonlyMap<PdfRef, number>,
    private readonly rootIndex: number,
    /** Size of the root Form XObject's BBox, in points. */
    readonly width: number,
    readonly height: number,
  ) {}

  /** Writes the objects through `alloc` (children first) and returns the root's new reference. */
  emit(alloc: PdfAllocator): PdfRef {
    const fresh: PdfRef[] = [];
    for (const obj of this.objects) fresh.push(alloc.add(this.rewrite(obj, fresh)));
    return fresh[this.rootIndex]!;
  }

  /** Returns `v` with local references replaced; unchanged sub-values (and all stream data) are shared, not copied. */
  private rewrite(v: PdfValue, fresh: PdfRef[]): PdfValue {
    if (v instanceof PdfRef) {
      const i = this.localIndex.get(v);
      if (i === undefined) return v; // a reference into the target document, passed in by the builder
      const r = fresh[i];
      if (!r) throw new Error('appearance template refers to an object recorded after it');
      return r;
    }
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x) => {
        const y = this.rewrite(x, fresh);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? out : v;
    }
    if (v instanceof PdfStream) {
      const d = this.rewrite(v.dict, fresh) as PdfDict;
      return d === v.dict ? v : new PdfStream(d, v.data);
    }
    if (v instanceof PdfDict) {
      let out: PdfDict | undefined;
      for (const [k, x] of v.entries()) {
        const y = this.rewrite(x, fresh);
        if (y !== x) (out ??= v.clone()).set(k, y);
      }
      return out ?? v;
    }
    return v;
  }
}

/**
 * An allocator that records objects instead of writing them, so that builders written against
 * PdfAllocator can produce a template. References it hands out are only meaningful inside the
 * recorder (they are replaced on emit).
 */
export class TemplateRecorder implements PdfAllocator {
  private readonly objects: PdfValue[] = [];
  private readonly localIndex = new Map<PdfRef, number>();

  add(value: PdfValue): PdfRef {
    const r = new PdfRef(this.objects.length + 1, 0);
    this.localIndex.set(r, this.objects.length);
    this.objects.push(value);
    return r;
  }

  finish(root: PdfRef, width: number, height: number): AppearanceTemplate {
    const i = this.localIndex.get(root);
    if (i === undefined) throw new Error('template root was not recorded');
    return new AppearanceTemplate([...this.objects], new Map(this.localIndex), i, width, height);
  }
}
