/**
 * @cantoo/pdf-lib subsets fonts with `subset.encode()` when a subset has one (the @cantoo/fontkit API),
 * but @pdf-lib/fontkit's `encode(stream)` needs a stream argument and crashes when called bare. Hiding
 * `encode` makes pdf-lib take its `encodeStream()` path, which @pdf-lib/fontkit implements.
 * Parsed fonts are cached by byte buffer: parsing the 5 MB CJK font costs about a second.
 */
import type { PDFDocument } from '@cantoo/pdf-lib';
import fontkit from '@pdf-lib/fontkit';

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
type Bound = Record<PropertyKey, unknown>;

function bindAll<T extends object>(target: T, override: (key: PropertyKey) => { value: unknown } | undefined): T {
  return new Proxy(target, {
    get(t, key) {
      const o = override(key);
      if (o) return o.value;
      const v = Reflect.get(t, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

const parsed = new WeakMap<Uint8Array, object>();

export const pdfLibFontkit: Fontkit = {
  create(bytes: Uint8Array, postscriptName?: string) {
    let font = parsed.get(bytes);
    if (!font) {
      const raw = fontkit.create(bytes as Buffer, postscriptName) as unknown as Bound;
      font = bindAll(raw, (key) =>
        key === 'createSubset'
          ? { value: () => bindAll((raw['createSubset'] as () => object).call(raw), (k) => (k === 'encode' ? { value: undefined } : undefined)) }
          : undefined,
      );
      parsed.set(bytes, font);
    }
    return font as ReturnType<Fontkit['create']>;
  },
};
