/**
 * Measurement helpers for `npm run bench`. Figures are compared as ratios against a baseline run in
 * the same process, because the machines are small and noisy: absolute numbers move, ratios much less.
 */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  name: string;
  ops: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  /** Set by `measure` (rows built by hand from one observation leave it out). */
  p95ms?: number;
  p99ms: number;
  concurrency: number;
  /** Extra facts (document size, peak memory…). */
  notes?: Record<string, number | string>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs `fn` `ops` times with `concurrency` operations in flight; warm-up runs first so JIT and caches
 * settle. Latency is per operation, throughput over the whole run. With `seconds`, operations keep
 * being started until that much time has passed (at least `ops` of them): a fixed count that takes a
 * tenth of a second on a fast path is mostly ramp-up, drain and whichever collection falls into it.
 * `warmupSeconds` warms up at the measured concurrency instead of one at a time: a server's worker
 * pool hands one request at a time to its first thread, and the others would be measured cold.
 */
export async function measure(
  name: string,
  options: { ops: number; concurrency: number; warmup?: number; seconds?: number; warmupSeconds?: number },
  fn: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  if (options.warmupSeconds) await keepBusy(0, options.concurrency, options.warmupSeconds, () => fn(-1));
  else for (let i = 0; i < (options.warmup ?? Math.min(5, options.ops)); i++) await fn(-1 - i);
  const latencies: number[] = [];
  const start = performance.now();
  const ops = await keepBusy(options.ops, options.concurrency, options.seconds ?? 0, async (i) => {
    const t0 = performance.now();
    await fn(i);
    latencies.push(performance.now() - t0);
  });
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    ops,
    seconds,
    perSecond: ops / seconds,
    p50ms: percentile(latencies, 50),
    p95ms: percentile(latencies, 95),
    p99ms: percentile(latencies, 99),
    concurrency: options.concurrency,
  };
}

/** Keeps `concurrency` calls in flight until `ops` were started and `seconds` passed; returns how many ran. */
export function keepBusy(ops: number, concurrency: number, seconds: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const until = performance.now() + seconds * 1000;
  return startWhile(concurrency, (started) => started < ops || performance.now() < until, fn);
}

/** Like keepBusy, but stops at whichever comes first: `ops` started or `maxSeconds` passed. */
export function keepBusyUpTo(ops: number, concurrency: number, maxSeconds: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const until = performance.now() + maxSeconds * 1000;
  return startWhile(concurrency, (started) => started < ops && performance.now() < until, fn);
}

/** Keeps `concurrency` calls of `fn` in flight while `more` says so; resolves to how many were started. */
async function startWhile(concurrency: number, more: (started: number) => boolean, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (more(next)) await fn(next++);
  }));
  return next;
}

/**
 * One figure from several rounds of the same measurement taken in turn with others (on a shared
 * machine the load moves: interleaving lets every figure of a ratio see the same conditions).
 * Throughput over all rounds; p50 the median of the rounds' p50s; p95 and p99 the worst round's.
 */
export function combineRounds(rounds: readonly Measurement[]): Measurement {
  const first = rounds[0]!;
  const ops = rounds.reduce((a, r) => a + r.ops, 0);
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0);
  const p50s = rounds.map((r) => r.p50ms).sort((a, b) => a - b);
  return {
    name: first.name,
    ops,
    seconds,
    perSecond: ops / seconds,
    p50ms: p50s[Math.floor(p50s.length / 2)]!,
    p95ms: Math.max(...rounds.map((r) => r.p95ms ?? 0)),
    p99ms: Math.max(...rounds.map((r) => r.p99ms)),
    concurrency: first.concurrency,
    notes: { rounds: rounds.length },
  };
}

export function formatTable(rows: Measurement[]): string {
  const header = ['benchmark', 'conc', 'ops', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'notes'];
  const body = rows.map((r) => [
    r.name,
    String(r.concurrency),
    String(r.ops),
    r.perSecond.toFixed(1),
    r.p50ms.toFixed(2),
    r.p95ms?.toFixed(2) ?? '',
    r.p99ms.toFixed(2),
    Object.entries(r.notes ?? {})
      .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
      .join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface Target {
  description: string;
  actual: number;
  required: number;
  /** 'min': actual must be ≥ required; 'max': ≤. */
  kind: 'min' | 'max';
}

export function formatTargets(targets: Target[]): string {
  return targets
    .map((t) => {
      const ok = t.kind === 'min' ? t.actual >= t.required : t.actual <= t.required;
      return `${ok ? 'MET   ' : 'MISSED'}  ${t.description}: ${t.actual.toFixed(2)} (${t.kind === 'min' ? '≥' : '≤'} ${t.required})`;
    })
    .join('\n');
}
