/**
 * Every place an object is referenced from in one revision: (container object or trailer, path of
 * keys and indexes inside it). A change to an existing object is only cleared once each of its
 * usages in the signed revision was approved by a rule that looked at that very place, so a shared
 * appearance stream or a font also drawn by a page cannot be rewritten "as an appearance".
 */
import { PdfError } from '../../errors.js';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from '../../pdf/objects.js';
import type { PdfReader } from '../../pdf/reader.js';
import { objectState } from './objects.js';

export type PathStep = string | number;

export interface Usage {
  /** The object whose value holds the reference, or the trailer. */
  from: number | 'trailer';
  /** Keys and array indexes from that value to the reference. */
  path: readonly PathStep[];
}

export const usageKey = (u: Usage): string => `${u.from}|${u.path.join('/')}`;

/** Objects visited to index one revision; beyond this the document is too large to judge. */
const MAX_OBJECTS = 500_000;
/** Usages kept per object: one referenced from more places than this can never be cleared. */
export const MAX_USAGES = 64;
/** Nesting inside one object's value. */
const MAX_DEPTH = 64;

export class UsageIndex {
  private readonly usages = new Map<number, Usage[]>();
  /** Objects referenced from more than MAX_USAGES places. */
  private readonly crowded = new Set<number>();
  /** The first usage found (breadth first from the trailer): the shortest way a person reaches the object. */
  private readonly firstUsage = new Map<number, Usage>();
  /** Reached from the catalog or the document information: what a viewer can show. */
  private readonly shown = new Set<number>();
  readonly visited: number;

  constructor(readonly reader: PdfReader) {
    const queue: number[] = [];
    const seen = new Set<number>();
    const reach = (num: number, usage: Usage): void => {
      const list = this.usages.get(num) ?? [];
      if (list.length >= MAX_USAGES) this.crowded.add(num);
      else list.push(usage);
      this.usages.set(num, list);
      if (!this.firstUsage.has(num)) this.firstUsage.set(num, usage);
      if (!seen.has(num)) {
        seen.add(num);
        queue.push(num);
      }
    };
    let i = 0;
    const drain = (markShown: boolean): void => {
      for (; i < queue.length; i++) {
        if (i >= MAX_OBJECTS) {
          throw new PdfError('pdf-limit', `The PDF has more than ${MAX_OBJECTS} objects in one revision; its later changes cannot be judged.`);
        }
        const num = queue[i]!;
        if (markShown) this.shown.add(num);
        const state = objectState(reader, num);
        if (state.kind === 'value') scan(state.value, num, [], reach);
      }
    };
    // A trailer without /Root leaves the catalog to an older one; the reader finds it the same way.
    const root = reader.trailer.get('Root') ?? rootRef(reader);
    scan(root, 'trailer', ['Root'], reach);
    scan(reader.trailer.get('Info'), 'trailer', ['Info'], reach);
    drain(true);
    // Other trailer entries (LibreOffice's /AdditionalStreams, anything a writer adds) show nothing, but an object they share is still used there.
    for (const [k, v] of reader.trailer.entries()) if (k !== 'Root' && k !== 'Info') scan(v, 'trailer', [k], reach);
    drain(false);
    this.visited = queue.length;
  }

  usagesOf(num: number): readonly Usage[] {
    return this.usages.get(num) ?? [];
  }

  /** Referenced from more places than an approval could ever account for. */
  isCrowded(num: number): boolean {
    return this.crowded.has(num);
  }

  /** Reachable from the catalog or the document information in this revision. */
  shows(num: number): boolean {
    return this.shown.has(num);
  }

  /** The chain of usages from the trailer down to `num` (empty when unreachable). */
  pathTo(num: number): Usage[] {
    const chain: Usage[] = [];
    const onChain = new Set<number>();
    for (let u = this.firstUsage.get(num); u && !onChain.has(num); ) {
      chain.unshift(u);
      onChain.add(num);
      if (u.from === 'trailer') break;
      num = u.from;
      u = this.firstUsage.get(num);
    }
    return chain;
  }
}

function scan(v: PdfValue | undefined, from: number | 'trailer', path: PathStep[], reach: (num: number, u: Usage) => void): void {
  if (path.length > MAX_DEPTH) return;
  if (v instanceof PdfRef) reach(v.num, { from, path: [...path] });
  else if (Array.isArray(v)) v.forEach((x, i) => scan(x, from, [...path, i], reach));
  else if (v instanceof PdfDict || v instanceof PdfStream) {
    for (const [k, x] of (v instanceof PdfStream ? v.dict : v).entries()) scan(x, from, [...path, k], reach);
  }
}

/** The reference the catalog is reached by: the newest trailer /Root up to this revision. */
export function rootRef(reader: PdfReader): PdfRef | undefined {
  for (let i = reader.revisions.length - 1; i >= 0; i--) {
    const root = reader.revisions[i]!.trailer.get('Root');
    if (root instanceof PdfRef) return root;
    if (root !== undefined) return undefined;
  }
  return undefined;
}
