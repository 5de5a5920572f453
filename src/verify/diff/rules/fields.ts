/**
 * The form's fields by fully qualified name, as located values, with their widgets: the field
 * itself when field and widget are merged, else its kids without /T.
 */
import { PdfRef } from '../../../pdf/objects.js';
import type { Located } from '../context.js';
import { nameOf, resolveSafe, textOf } from '../objects.js';

export interface FormField {
  name: string;
  at: Located;
  /** Field type, inherited from ancestors. */
  type?: string;
  widgets: Located[];
  /** Where the kids sit (undefined without /Kids). */
  kids?: Located;
}

const MAX_FIELDS = 20_000;
const MAX_DEPTH = 32;

export interface FieldTree {
  fields: Map<string, FormField>;
  /** Names given to more than one field: the second one shadows the first for anyone reading by name. */
  duplicates: string[];
}

export function listFields(fieldsArray: Located): FieldTree {
  const fields = new Map<string, FormField>();
  const duplicates: string[] = [];
  const seen = new Set<number>();
  const visit = (at: Located, parent: string, inheritedType: string | undefined, depth: number, index: number): void => {
    if (depth > MAX_DEPTH || fields.size >= MAX_FIELDS) return;
    if (at.raw instanceof PdfRef) {
      if (seen.has(at.raw.num)) return;
      seen.add(at.raw.num);
    }
    const d = at.dict;
    if (!d) return;
    const partial = textOf(resolveSafe(at.reader, d.get('T'))) ?? `#${index + 1}`;
    const name = parent ? `${parent}.${partial}` : partial;
    const type = nameOf(resolveSafe(at.reader, d.get('FT'))) ?? inheritedType;
    const field: FormField = { name, at, type, widgets: [] };
    if (fields.has(name)) duplicates.push(name);
    else fields.set(name, field);
    const kids = d.has('Kids') ? at.child('Kids') : undefined;
    const list = kids?.value;
    if (!kids || !Array.isArray(list)) {
      field.widgets.push(at);
      return;
    }
    field.kids = kids;
    list.forEach((_, i) => {
      const kid = kids.child(i);
      const kd = kid.dict;
      if (kd?.has('T')) visit(kid, name, type, depth + 1, i);
      else if (kd) field.widgets.push(kid);
    });
  };
  const items = fieldsArray.value;
  if (Array.isArray(items)) items.forEach((_, i) => visit(fieldsArray.child(i), '', undefined, 0, i));
  return { fields, duplicates };
}
