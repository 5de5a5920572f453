/**
 * What a revision rule sees: the previous and the new revision, the ledger it must settle, where
 * objects were used, and the facts rules share. Rules record changes (with their level and words)
 * and approve the objects those changes consist of; the ledger turns the rest into "other".
 */
import { PdfDict, PdfRef, type PdfValue } from '../../pdf/objects.js';
import type { PdfReader } from '../../pdf/reader.js';
import type { Change } from './levels.js';
import type { Ledger } from './ledger.js';
import { reachedObjects, resolveSafe, valuesEqual } from './objects.js';
import { rootRef, type PathStep, type Usage, type UsageIndex } from './usages.js';
import { inRevision } from './words.js';
import type { Bilingual } from '../reasons.js';

export interface RevisionContext {
  /** 0-based index of the revision judged; it is compared with revision − 1. */
  revision: number;
  old: PdfReader;
  cur: PdfReader;
  ledger: Ledger;
  oldUsages: UsageIndex;
  curUsages(): UsageIndex;
  /** Signature fields an intact signature signs whose byte range ends exactly at this revision. */
  signedHere: ReadonlySet<string>;
  /** Page object number → 0-based page index, in each revision. */
  oldPages: ReadonlyMap<number, number>;
  curPages: ReadonlyMap<number, number>;
  /** Annotation object number → 0-based page index in the previous revision. */
  oldAnnotPages: ReadonlyMap<number, number>;
  /** The catalogs, and the object the previous one was (catalog entries are approved at its place). */
  oldCatalog: PdfDict;
  curCatalog: PdfDict;
  catalogNum: number;
  /** New widgets of new or newly signed fields, with the change the form rule made of them (the page rule places them). */
  widgetChanges: Map<number, Change>;
  /** Widget annotations of form fields (either revision): the form rule judges them, the page rule does not. */
  formWidgets: Set<number>;
  record(change: Omit<Change, 'revision' | 'message'>, what: Bilingual): Change;
  changes: Change[];
}

export type RevisionRule = (ctx: RevisionContext) => void;

/** A value and where it sits: approvals of the objects it references name that place. */
export class Located {
  constructor(
    readonly reader: PdfReader,
    readonly raw: PdfValue | undefined,
    readonly place: Usage,
  ) {}

  get value(): PdfValue | undefined {
    return resolveSafe(this.reader, this.raw);
  }

  get dict(): PdfDict | undefined {
    const v = this.value;
    return v instanceof PdfDict ? v : undefined;
  }

  /** The place a reference inside this value sits at: in the referenced object, or further down the same one. */
  private inner(step: PathStep): Usage {
    return this.raw instanceof PdfRef ? { from: this.raw.num, path: [step] } : { from: this.place.from, path: [...this.place.path, step] };
  }

  child(step: PathStep): Located {
    const v = this.value;
    let raw: PdfValue | undefined;
    if (typeof step === 'number') raw = Array.isArray(v) ? v[step] : undefined;
    else raw = v instanceof PdfDict ? v.get(step) : undefined;
    return new Located(this.reader, raw, this.inner(step));
  }
}

export function recorder(revision: number, changes: Change[]): RevisionContext['record'] {
  return (change, what) => {
    const full: Change = { ...change, revision, message: inRevision(revision, what) };
    changes.push(full);
    return full;
  };
}

export function pageIndex(reader: PdfReader): Map<number, number> {
  return new Map(reader.pages().map((p) => [p.ref.num, p.index]));
}

/** Where each annotation of a revision sits. */
export function annotationPages(reader: PdfReader): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of reader.pages()) {
    const annots = resolveSafe(reader, p.dict.get('Annots'));
    if (!Array.isArray(annots)) continue;
    for (const a of annots) if (a instanceof PdfRef && !out.has(a.num)) out.set(a.num, p.index);
  }
  return out;
}

export function catalogNumber(reader: PdfReader): number {
  return rootRef(reader)?.num ?? -1;
}

/**
 * Records a change no permission allows, in words. The objects it names count as explained by this
 * sentence, so the ledger does not describe them a second time.
 */
export function refuse(ctx: RevisionContext, what: Bilingual, objects: readonly (number | undefined)[] = [], extra: Partial<Change> = {}): void {
  ctx.record({ level: 'other', kind: 'unexplained', ...extra }, what);
  for (const n of objects) if (n !== undefined) ctx.ledger.approve(n, 'compared');
}

/** The catalog as a located value: entries are approved at the place the previous catalog held them. */
export const catalogAt = (ctx: RevisionContext, which: 'old' | 'cur'): Located =>
  new Located(which === 'old' ? ctx.old : ctx.cur, which === 'old' ? ctx.oldCatalog : ctx.curCatalog, { from: ctx.catalogNum, path: [] });

export const refNum = (v: PdfValue | undefined): number | undefined => (v instanceof PdfRef ? v.num : undefined);

/** A location whose value changed: another value there, or the same reference to a rewritten object. */
export function replaced(ctx: RevisionContext, before: Located, after: Located): boolean {
  return !valuesEqual(before.raw, after.raw) || (after.raw instanceof PdfRef && ctx.ledger.isTouched(after.raw.num));
}

/** The rewritten or new objects a value reaches in the new revision (bounded): named together when refused. */
export function touchedUnder(ctx: RevisionContext, v: PdfValue | undefined): number[] {
  return reachedObjects(ctx.cur, v, { limit: 256 }).filter((n) => ctx.ledger.isTouched(n));
}
