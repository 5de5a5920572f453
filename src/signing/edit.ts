import { PdfError } from '../errors.js';
import { PdfDict, PdfRef, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import type { IncrementalWriter } from '../pdf/writer.js';

/**
 * Copy-on-write editing of a dictionary in an existing document. Reader objects are shared with its
 * cache, and an incremental update should rewrite only objects that really change, so a dictionary
 * is cloned on the first `set` and written back (as an indirect object, or into its parent when it
 * is a direct value) on `commit`.
 */
export class DictEdit {
  private copy?: PdfDict;

  private constructor(
    private readonly original: PdfDict,
    private readonly ref: PdfRef | undefined,
    private readonly attach: ((d: PdfDict) => void) | undefined,
  ) {}

  /** An indirect dictionary (object `ref`). */
  static indirect(ref: PdfRef, dict: PdfDict): DictEdit {
    return new DictEdit(dict, ref, undefined);
  }

  /**
   * The dictionary `parent[key]` (indirect, direct or absent — then created). A direct or new one
   * is stored back into the parent once it changes.
   */
  static child(reader: PdfReader, parent: DictEdit, key: string): DictEdit {
    const v = parent.get(key);
    const resolved = reader.resolve(v);
    if (v instanceof PdfRef && resolved instanceof PdfDict) return DictEdit.indirect(v, resolved);
    const base = resolved instanceof PdfDict ? resolved : new PdfDict();
    return new DictEdit(base, undefined, (d) => parent.set(key, d));
  }

  get(key: string): PdfValue | undefined {
    return (this.copy ?? this.original).get(key);
  }

  set(key: string, value: PdfValue): void {
    if (!this.copy) {
      this.copy = this.original.clone();
      this.attach?.(this.copy);
    }
    this.copy.set(key, value);
  }

  /** Writes an indirect dictionary that changed into the update (direct ones went into their parent). */
  commit(writer: IncrementalWriter): void {
    if (this.copy && this.ref) writer.update(this.ref, this.copy);
  }
}

/**
 * Appends to the array `owner[key]`: an indirect array is rewritten as its own object (the owner
 * stays untouched), a direct or missing one is replaced in the owner.
 */
export function appendToArray(reader: PdfReader, writer: IncrementalWriter, owner: DictEdit, key: string, items: PdfValue[]): void {
  const v = owner.get(key);
  const arr = reader.resolve(v);
  const current = Array.isArray(arr) ? arr : [];
  if (v instanceof PdfRef && Array.isArray(arr)) writer.update(v, [...current, ...items]);
  else owner.set(key, [...current, ...items]);
}

/** The catalog's object reference, from the newest trailer that names one. */
function catalogRef(reader: PdfReader): PdfRef {
  for (let i = reader.revisions.length - 1; i >= 0; i--) {
    const root = reader.revisions[i]!.trailer.get('Root');
    if (root instanceof PdfRef) return root;
  }
  throw new PdfError('invalid-pdf', 'The PDF is damaged: its trailer does not refer to the document catalog.');
}

/** The catalog, editable. */
export function editCatalog(reader: PdfReader): DictEdit {
  return DictEdit.indirect(catalogRef(reader), reader.catalog());
}
