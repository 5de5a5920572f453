import fc from 'fast-check';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../src/pdf/objects.js';
import { serialize } from '../src/pdf/serialize.js';
import { craftPdf } from '../test/support/pdfs.js';
import type { Rng } from './rng.js';

/** Inputs built from scratch by fast-check rather than from a seed document. */
export interface Generator {
  name: string;
  generate(rng: Rng): Buffer;
}

const KEYWORDS = ['obj', 'endobj', 'stream', 'endstream', 'xref', 'trailer', 'startxref', '%%EOF', 'R', 'null', 'true', 'n', 'f'];
const NAMES = ['Type', 'Pages', 'Page', 'Kids', 'Parent', 'Root', 'Size', 'Prev', 'Length', 'Filter', 'FlateDecode', 'W', 'Index', 'XRef', 'ObjStm', 'N', 'First', 'Contents', 'Resources', 'Font', 'Catalog', 'ByteRange', 'Sig', 'AcroForm', 'Fields'];

const token: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...KEYWORDS),
  fc.constantFrom(...NAMES).map((n) => '/' + n),
  fc.constantFrom('<<', '>>', '[', ']', '(', ')', '<', '>', '{', '}', '\n', '\r', ' ', '%'),
  fc.integer({ min: -5, max: 40 }).map(String),
  fc.constantFrom('0', '65535', '2147483648', '1e400', '-0.5', '0000000009'),
  fc.string({ maxLength: 8 }).map((s) => `(${s})`),
  fc.uint8Array({ maxLength: 6 }).map((b) => `<${Buffer.from(b).toString('hex')}>`),
);

/** A header and a random stream of PDF tokens: what a tokenizer meets in the worst files. */
const tokenFile = fc
  .tuple(fc.array(token, { maxLength: 400 }), fc.boolean())
  .map(([tokens, tail]) => `%PDF-1.7\n${tokens.join(' ')}${tail ? '\nstartxref\n9\n%%EOF\n' : ''}`);

/** Random values, with references into the graph's own objects 1…n (so cycles happen). */
function valueArb(n: number): fc.Arbitrary<PdfValue> {
  const { value } = fc.letrec<{ value: PdfValue; dict: PdfDict }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.oneof(fc.integer({ min: -2, max: 2 ** 31 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })),
      fc.constantFrom(...NAMES).map((s) => PdfName.of(s)),
      fc.uint8Array({ maxLength: 16 }).map((b) => new PdfString(b, b.length % 2 === 0)),
      fc.integer({ min: 0, max: n + 1 }).map((k) => new PdfRef(k, 0)),
      fc.array(tie('value'), { maxLength: 6 }) as fc.Arbitrary<PdfValue>,
      tie('dict'),
    ),
    dict: fc
      .array(fc.tuple(fc.constantFrom(...NAMES), tie('value')), { maxLength: 6 })
      .map((entries) => new PdfDict(entries as [string, PdfValue][])),
  }));
  return value;
}

/**
 * A random object graph written out with a correct xref: object 1 is a catalog and 2 a page tree,
 * so the reader gets past the header and reaches the random parts (pages, resources, contents).
 */
const graphFile = fc.integer({ min: 3, max: 12 }).chain((n) =>
  fc
    .tuple(
      fc.array(valueArb(n), { minLength: n, maxLength: n }),
      valueArb(n),
      fc.array(fc.constantFrom('BT', 'ET', '/F1 12 Tf', '(Seal) Tj', '[(a) 5 (b)] TJ', '1 0 0 1 5 5 cm', 'q', 'Q', '/X1 Do', 'T*', "'", '0 0 Td'), { maxLength: 30 }),
    )
    .map(([values, kids, ops]) => {
      const objects: Record<number, string | Buffer> = {};
      objects[1] = serialize(new PdfDict({ Type: PdfName.of('Catalog'), Pages: new PdfRef(2, 0) }));
      objects[2] = serialize(new PdfDict({ Type: PdfName.of('Pages'), Kids: [new PdfRef(3, 0), kids], Count: 1 }));
      values.forEach((v, i) => {
        const num = i + 3;
        // Some objects become pages or content streams, the rest stay random.
        if (num === 3 && v instanceof PdfDict) v.set('Type', PdfName.of('Page')).set('Contents', new PdfRef(4, 0)).set('Parent', new PdfRef(2, 0));
        if (num === 4) v = new PdfStream(v instanceof PdfDict ? v : new PdfDict(), Buffer.from(ops.join(' '), 'latin1'));
        objects[num] = serialize(v);
      });
      return craftPdf(objects);
    }),
);

function sample<T>(arb: fc.Arbitrary<T>, rng: Rng): T {
  return fc.sample(arb, { seed: rng.int(2 ** 31), numRuns: 1 })[0]!;
}

export const GENERATORS: Generator[] = [
  { name: 'gen-tokens', generate: (rng) => Buffer.from(sample(tokenFile, rng), 'latin1') },
  { name: 'gen-graph', generate: (rng) => sample(graphFile, rng) },
];
