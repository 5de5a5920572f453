/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4. Written here rather than taken from prom-client because OneSeal needs six
 * metrics and no default process collectors.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string | number>;

type Kind = 'counter' | 'gauge' | 'histogram';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const NEEDS_ESCAPE = /[\\\n"]/;
/** Label values are nearly always plain (seal ids, levels, outcomes): test once instead of three replaces per update. */
function escapeLabel(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Metric<S> {
  /** Series by their rendered label set (`{a="1",b="2"}`), in the order first seen. */
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly kind: Kind,
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    for (const l of labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label "${l}" on ${name}`);
  }

  /** Labels must be exactly the declared ones: a typo would otherwise start a new, silent series. */
  protected key(labels: Labels): string {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || given.some((l) => !this.labelNames.includes(l))) {
      throw new Error(`${this.name} takes labels {${this.labelNames.join(',')}}, got {${given.join(',')}}`);
    }
    return this.labelNames.map((l) => `${l}="${escapeLabel(String(labels[l]))}"`).join(',');
  }

  protected slot(labels: Labels, create: () => S): S {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = create()));
    return s;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.kind}`];
    for (const [k, s] of this.series) lines.push(...this.sample(k, s));
    return lines.join('\n');
  }

  protected abstract sample(labelKey: string, s: S): string[];
}

const braces = (k: string) => (k ? `{${k}}` : '');

export class Counter extends Metric<{ v: number }> {
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up`);
    this.slot(labels, () => ({ v: 0 })).v += by;
  }
  get(labels: Labels = {}): number {
    return this.series.get(this.key(labels))?.v ?? 0;
  }
  protected sample(k: string, s: { v: number }): string[] {
    return [`${this.name}${braces(k)} ${formatValue(s.v)}`];
  }
}

export class Gauge extends Metric<{ v: number }> {
  set(labels: Labels, value: number): void {
    this.slot(labels, () => ({ v: 0 })).v = value;
  }
  protected sample(k: string, s: { v: number }): string[] {
    return [`${this.name}${braces(k)} ${formatValue(s.v)}`];
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramSeries> {
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames, 'histogram');
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
  }
  observe(labels: Labels, value: number): void {
    const s = this.slot(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    // counts are per bucket here and made cumulative when rendered
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  protected sample(k: string, s: HistogramSeries): string[] {
    const prefix = k ? `${k},` : '';
    let cumulative = 0;
    const lines = this.buckets.map((b, i) => {
      cumulative += s.counts[i]!;
      return `${this.name}_bucket{${prefix}le="${formatValue(b)}"} ${cumulative}`;
    });
    lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`);
    lines.push(`${this.name}_sum${braces(k)} ${formatValue(s.sum)}`, `${this.name}_count${braces(k)} ${s.count}`);
    return lines;
  }
}

export class Registry {
  private readonly metrics = new Map<string, { render(): string }>();
  /** Run before each render, to read values that live elsewhere (pool sizes, certificate dates). */
  private readonly collectors: (() => void)[] = [];

  private add<M extends { name: string; render(): string }>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames, 'counter'));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames, 'gauge'));
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  render(): string {
    for (const c of this.collectors) c();
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }
}
