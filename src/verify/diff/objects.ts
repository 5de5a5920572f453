/**
 * Reading objects for comparison. An object is absent (no xref entry up to this revision), free,
 * unreadable (its entry points at bytes that do not parse), or a value — four different things that
 * a diff must not fold into one: a free entry deletes an object, an unreadable one hides it.
 */
import { PdfError } from '../../errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../../pdf/objects.js';
import type { PdfReader } from '../../pdf/reader.js';
import type { Rect } from './levels.js';

export type ObjectState =
  | { kind: 'absent' }
  | { kind: 'free' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'value'; value: PdfValue; gen: number };

export function objectState(reader: PdfReader, num: number): ObjectState {
  const entry = reader.xrefEntry(num);
  if (!entry) return { kind: 'absent' };
  if (entry.type === 'free') return { kind: 'free' };
  try {
    return { kind: 'value', value: reader.getObject(num), gen: entry.gen };
  } catch (e) {
    if (e instanceof PdfError && e.code === 'invalid-pdf') return { kind: 'unreadable', reason: e.message };
    throw e;
  }
}


/** Same object as far as any reader can tell: same state, generation and value. */
export function sameState(a: ObjectState, b: ObjectState): boolean {
  if (a.kind !== b.kind) return (a.kind === 'absent' || a.kind === 'free') && (b.kind === 'absent' || b.kind === 'free');
  if (a.kind !== 'value' || b.kind !== 'value') return a.kind !== 'unreadable';
  return a.gen === b.gen && valuesEqual(a.value, b.value);
}

/** Structural equality of parsed values (streams by dictionary and stored data). */
export function valuesEqual(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 64) return false;
  if (a instanceof PdfString && b instanceof PdfString) return Buffer.from(a.bytes).equals(b.bytes);
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i], depth + 1));
  if (a instanceof PdfStream && b instanceof PdfStream) return dictsEqual(a.dict, b.dict, depth, 'Length') && Buffer.from(a.data).equals(b.data);
  if (a instanceof PdfDict && b instanceof PdfDict) return dictsEqual(a, b, depth);
  return false;
}

function dictsEqual(a: PdfDict, b: PdfDict, depth: number, ignore?: string): boolean {
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (k !== ignore && !valuesEqual(a.get(k), b.get(k), depth + 1)) return false;
  }
  return true;
}

/** Keys whose values differ between two dictionaries (raw values: a re-pointed reference counts). */
export function changedKeys(a: PdfDict, b: PdfDict): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => !valuesEqual(a.get(k), b.get(k)));
}

export function dictOf(v: PdfValue | undefined): PdfDict | undefined {
  if (v instanceof PdfDict) return v;
  if (v instanceof PdfStream) return v.dict;
  return undefined;
}

export const nameOf = (v: PdfValue | undefined): string | undefined => (v instanceof PdfName ? v.name : undefined);
export const textOf = (v: PdfValue | undefined): string | undefined => (v instanceof PdfString ? v.decodeText() : undefined);

/** Resolves without throwing on damage: a reference that cannot be followed reads as absent. */
export function resolveSafe(reader: PdfReader, v: PdfValue | undefined): PdfValue | undefined {
  try {
    return reader.resolve(v);
  } catch (e) {
    if (e instanceof PdfError && e.code === 'invalid-pdf') return undefined;
    throw e;
  }
}

export function rectOf(reader: PdfReader, d: PdfDict): Rect | undefined {
  const a = resolveSafe(reader, d.get('Rect'));
  if (!Array.isArray(a) || a.length !== 4) return undefined;
  const n = a.map((x) => resolveSafe(reader, x));
  if (!n.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return [Math.min(n[0]!, n[2]!), Math.min(n[1]!, n[3]!), Math.max(n[0]!, n[2]!), Math.max(n[1]!, n[3]!)];
}

/** Annotation flags Hidden (2) and NoView (32): such an annotation shows nothing. */
const HIDING_FLAGS = 2 | 32;

/** Where an annotation shows, or undefined when it has no area or is hidden. */
export function visibleRect(reader: PdfReader, d: PdfDict): Rect | undefined {
  const f = resolveSafe(reader, d.get('F'));
  if (typeof f === 'number' && (f & HIDING_FLAGS) !== 0) return undefined;
  const r = rectOf(reader, d);
  return r && r[2] - r[0] > 0 && r[3] - r[1] > 0 ? r : undefined;
}

/**
 * Equality of what two values show, following references in each revision: an appearance whose
 * stream was rewritten in place has changed although its reference did not. Gives up (false) past
 * `budget` nodes, so a huge value counts as changed.
 */
export function sameContent(oldReader: PdfReader, a: PdfValue | undefined, curReader: PdfReader, b: PdfValue | undefined, budget = { nodes: 20_000 }): boolean {
  const pairs = new Set<string>();
  const eq = (x: PdfValue | undefined, y: PdfValue | undefined, depth: number): boolean => {
    if (--budget.nodes < 0 || depth > 64) return false;
    if (x instanceof PdfRef || y instanceof PdfRef) {
      const key = `${x instanceof PdfRef ? x.num : '-'}|${y instanceof PdfRef ? y.num : '-'}`;
      if (pairs.has(key)) return true;
      pairs.add(key);
      return eq(x instanceof PdfRef ? resolveSafe(oldReader, x) : x, y instanceof PdfRef ? resolveSafe(curReader, y) : y, depth + 1);
    }
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => eq(v, y[i], depth + 1));
    if (x instanceof PdfStream && y instanceof PdfStream) return Buffer.from(x.data).equals(y.data) && dictEq(x.dict, y.dict, depth, 'Length');
    if (x instanceof PdfDict && y instanceof PdfDict) return dictEq(x, y, depth);
    return valuesEqual(x, y);
  };
  const dictEq = (x: PdfDict, y: PdfDict, depth: number, ignore?: string): boolean => {
    for (const k of new Set([...x.keys(), ...y.keys()])) if (k !== ignore && !eq(x.get(k), y.get(k), depth + 1)) return false;
    return true;
  };
  return eq(a, b, 0);
}

/**
 * The objects `v` reaches through references, each once, depth first: not through the keys in
 * `skip`, and into an object only when `enter` says so. At most `limit` objects.
 */
export function reachedObjects(reader: PdfReader, v: PdfValue | undefined, o: { limit: number; skip?: ReadonlySet<string>; enter?: (num: number) => boolean }): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const stack: (PdfValue | undefined)[] = [v];
  while (stack.length > 0 && out.length < o.limit) {
    const x = stack.pop();
    if (x instanceof PdfRef) {
      if (seen.has(x.num)) continue;
      seen.add(x.num);
      if (o.enter && !o.enter(x.num)) continue;
      out.push(x.num);
      stack.push(resolveSafe(reader, x));
    } else if (Array.isArray(x)) stack.push(...x);
    else if (x instanceof PdfDict || x instanceof PdfStream) {
      for (const [k, item] of (x instanceof PdfStream ? x.dict : x).entries()) if (!o.skip?.has(k)) stack.push(item);
    }
  }
  return out;
}
