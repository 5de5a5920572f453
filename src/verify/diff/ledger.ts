/**
 * The account of one revision: every object its cross-reference section lists (and every object
 * that moved with a rewritten object stream) whose value differs from the previous revision must be
 * explained by a rule, or it is an unexplained change. Deny by default.
 *
 * An object the previous revision already used is explained only when every place it was used
 * from was approved ("at" a usage) or when a rule compared its whole value key by key ("compared").
 * A new object is explained by a rule that claims it, or forgiven when nothing reaches it.
 */
import { PdfRef, type PdfValue } from '../../pdf/objects.js';
import type { PdfReader, Revision } from '../../pdf/reader.js';
import { objectState, reachedObjects, sameState, type ObjectState } from './objects.js';
import { usageKey, type Usage, type UsageIndex } from './usages.js';

export type Approval = Usage | 'compared';

export interface LedgerEntry {
  num: number;
  old: ObjectState;
  cur: ObjectState;
  /** New: absent or free before. Deleted: free now. Otherwise rewritten. */
  status: 'new' | 'rewritten' | 'deleted';
  /** Usages in the previous revision not yet approved. */
  remaining: Map<string, Usage>;
  /** Used from more places than can be accounted for: never explained. */
  crowded: boolean;
  approved: boolean;
}

/** New objects one claim takes; beyond that they stay unexplained. */
const MAX_CLAIMED = 100_000;

export class Ledger {
  private readonly entries = new Map<number, LedgerEntry>();

  constructor(
    readonly old: PdfReader,
    readonly cur: PdfReader,
    revision: Revision,
    oldUsages: UsageIndex,
  ) {
    for (const num of touchedObjects(cur, revision)) {
      if (num === 0) continue;
      const before = objectState(old, num);
      const after = objectState(cur, num);
      if (sameState(before, after)) continue;
      const wasThere = before.kind === 'value' || before.kind === 'unreadable';
      const status = !wasThere ? 'new' : after.kind === 'free' || after.kind === 'absent' ? 'deleted' : 'rewritten';
      // A reference the signed revision already held to a then missing object counts as a usage too —
      // unless the trailer holds it outside /Root and /Info, where nothing is shown (LibreOffice points
      // /AdditionalStreams at the next free number).
      const usages = oldUsages.usagesOf(num).filter((u) => status !== 'new' || u.from !== 'trailer' || u.path[0] === 'Root' || u.path[0] === 'Info');
      const remaining = new Map(usages.map((u) => [usageKey(u), u] as const));
      this.entries.set(num, { num, old: before, cur: after, status, remaining, crowded: oldUsages.isCrowded(num), approved: false });
    }
  }

  get all(): Iterable<LedgerEntry> {
    return this.entries.values();
  }

  entry(num: number): LedgerEntry | undefined {
    return this.entries.get(num);
  }

  isTouched(num: number): boolean {
    return this.entries.has(num);
  }

  /** Approves `num` where it is used: `at` a place (clears that usage only) or "compared" (all usages). */
  approve(num: number, how: Approval): void {
    const e = this.entries.get(num);
    if (!e || e.status === 'deleted') return;
    e.approved = true;
    if (how === 'compared') {
      e.remaining.clear();
      e.crowded = false;
    } else e.remaining.delete(usageKey(how));
  }

  /** Accepts one new object, not what it references (the caller judges those). */
  acceptNew(num: number): void {
    const e = this.entries.get(num);
    if (e?.status === 'new') e.approved = true;
  }

  /** Approves the object a location holds when it is a touched reference. */
  approveRef(v: PdfValue | undefined, at: Usage): void {
    if (v instanceof PdfRef) this.approve(v.num, at);
  }

  /**
   * Claims the new objects `v` reaches (through new objects only): a rule that accepted `v` accepts
   * what it is made of. Existing objects met on the way are left to their own approvals.
   */
  claim(v: PdfValue | undefined): void {
    for (const num of reachedObjects(this.cur, v, { limit: MAX_CLAIMED, enter: (n) => this.entries.get(n)?.status === 'new' })) this.entries.get(num)!.approved = true;
  }

  /**
   * What no rule explained. New objects the catalog and the document information do not reach in
   * this revision, and rewritten or deleted ones nothing used before and nothing shows now, cannot
   * show anything and are forgiven.
   */
  unexplained(curUsages: () => UsageIndex): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const e of this.entries.values()) {
      const explained = e.approved && e.remaining.size === 0 && !e.crowded;
      if (explained) continue;
      const usedBefore = e.remaining.size > 0 || e.crowded;
      if (!usedBefore && (e.status === 'deleted' || !curUsages().shows(e.num))) continue;
      out.push(e);
    }
    return out;
  }
}

/**
 * The objects revision `revision` lists, plus those stored in an object stream it rewrites: their
 * own entries still name the old stream number, so their values change without being listed.
 */
function touchedObjects(cur: PdfReader, revision: Revision): Set<number> {
  const listed = new Set(revision.entries.keys());
  const out = new Set(listed);
  const rewrittenStreams = new Set<number>();
  for (const [num, e] of revision.entries) if (e.type !== 'free' && cur.revisions.slice(0, -1).some((r) => r.entries.has(num))) rewrittenStreams.add(num);
  if (rewrittenStreams.size === 0) return out;
  for (const r of cur.revisions) {
    for (const [num, e] of r.entries) if (e.type === 'compressed' && rewrittenStreams.has(e.stream) && cur.xrefEntry(num) === e) out.add(num);
  }
  return out;
}
