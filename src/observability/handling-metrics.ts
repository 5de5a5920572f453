/**
 * Stamps per department, item and centre in /metrics: a counter and a latency histogram for each.
 * Their label values come from the catalogue and the centres, so each label keeps at most a fixed
 * number of distinct values; later ones, item codes not in the catalogue and anything too long to be a
 * code count as "other", and a scrape can never grow without bound whatever is imported or sent.
 */
import type { Counter, Histogram, Registry } from './metrics.js';

/** The first `limit` distinct values pass; later ones become "other". */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly limit: number, private readonly absent: string) {}

  value(v: string | null): string {
    if (v === null) return this.absent;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.limit || v.length > 64 || v === 'other' || v === this.absent) return 'other';
    this.seen.add(v);
    return v;
  }
}

/** Handling takes seconds (time-stamp, OCSP, signing); coarser buckets keep the per-item series few. */
const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Dimension {
  label: BoundedLabel;
  count: Counter;
  seconds: Histogram;
}

export interface HandledStamp {
  department: string | null;
  itemCode: string | null;
  centreCode: string | null;
}

export class HandlingMetrics {
  private readonly dimensions: Record<'department' | 'item' | 'centre', Dimension>;

  constructor(registry: Registry) {
    const dimension = (name: 'department' | 'item' | 'centre', limit: number, absent: string, what: string): Dimension => ({
      label: new BoundedLabel(limit, absent),
      count: registry.counter(`oneseal_${name}_stamps_total`, `Stamps recorded, by ${what} (at most ${limit} values; the rest "other").`, [name]),
      seconds: registry.histogram(`oneseal_${name}_stamp_seconds`, `Time from request to recorded stamp, by ${what}.`, [name], BUCKETS),
    });
    this.dimensions = {
      department: dimension('department', 40, 'none', 'the item\'s department ("none": no item named)'),
      item: dimension('item', 100, 'none', 'item code ("none": no item named)'),
      centre: dimension('centre', 100, 'district-hall', 'handling centre ("district-hall": the bureau itself)'),
    };
  }

  observe(stamp: HandledStamp, seconds: number): void {
    // An item code the catalogue does not hold (no department) is "other": clients choose those freely.
    const item = stamp.itemCode !== null && stamp.department === null ? 'other' : stamp.itemCode;
    const values = { department: stamp.department, item, centre: stamp.centreCode };
    for (const [name, d] of Object.entries(this.dimensions) as [keyof typeof values, Dimension][]) {
      const labels = { [name]: d.label.value(values[name]) };
      d.count.inc(labels);
      d.seconds.observe(labels, seconds);
    }
  }
}
