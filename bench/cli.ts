/**
 * CLI start-up beside a bare Node: `oneseal --help` and `oneseal verify` of a sealed one-page document
 * against `node -e 0`, each spawned as a fresh process, the three side by side in every round (so a busy
 * machine slows all three alike), median wall time.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findPackageRoot } from '../src/package-root.js';
import type { BenchContext } from './run.js';
import type { Measurement } from './measure.js';

interface Launch {
  name: string;
  args: string[];
  /** The exit code that means it worked. */
  exit: number;
  /** Target: median wall time at most this many times `node -e 0`'s. */
  limit?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function cliSection(ctx: BenchContext): Promise<void> {
  const letter = ctx.docs[0]!.bytes;
  const sealed = (await ctx.services.stamper.stamp(letter, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 150, y: 60 }, level: 'B-T' })).pdf;
  const file = join(ctx.dataDir, 'one-page-sealed.pdf');
  writeFileSync(file, sealed);
  const bin = join(findPackageRoot(), 'bin', 'oneseal');
  const launches: Launch[] = [
    { name: 'node -e 0', args: ['-e', '0'], exit: 0 },
    { name: 'oneseal --help', args: [bin, '--help'], exit: 0, limit: 3 },
    { name: 'oneseal verify one-page.pdf', args: [bin, 'verify', file], exit: 0, limit: 5 },
  ];
  const env = { ...process.env, ...ctx.env };
  const times = new Map<string, number[]>(launches.map((l) => [l.name, []]));
  const rounds = ctx.n(15, 5);
  for (let round = -1; round < rounds; round++) {
    // Rotating the order keeps one command from always following (or warming the cache for) another.
    for (let i = 0; i < launches.length; i++) {
      const launch = launches[(i + Math.max(round, 0)) % launches.length]!;
      const t0 = performance.now();
      const r = spawnSync(process.execPath, launch.args, { env, encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (r.status !== launch.exit) throw new Error(`${launch.name} exited ${r.status}: ${r.stderr}`);
      if (round >= 0) times.get(launch.name)!.push(ms); // round -1 warms the file cache
    }
  }
  const base = median(times.get('node -e 0')!);
  const lines = ['command                          median ms  × node -e 0  target', '-'.repeat(72)];
  for (const launch of launches) {
    const ms = median(times.get(launch.name)!);
    const ratio = ms / base;
    const row: Measurement = {
      name: `CLI ${launch.name} (fresh process)`,
      ops: rounds,
      seconds: times.get(launch.name)!.reduce((a, b) => a + b, 0) / 1000,
      perSecond: 1000 / ms,
      p50ms: ms,
      p99ms: Math.max(...times.get(launch.name)!),
      concurrency: 1,
      notes: { ratioToNode: ratio },
    };
    ctx.rows.push(row);
    const verdict = launch.limit === undefined ? '' : `≤ ${launch.limit}×  ${ratio <= launch.limit ? 'MET' : 'MISSED'}`;
    lines.push(`${launch.name.padEnd(32)} ${ms.toFixed(0).padStart(9)}  ${ratio.toFixed(2).padStart(11)}  ${verdict}`);
    if (launch.limit !== undefined) {
      ctx.targets.push({ description: `${launch.name} wall time / node -e 0 (median of ${rounds})`, actual: ratio, required: launch.limit, kind: 'max' });
    }
  }
  console.log(`\nCLI start-up (${rounds} rounds, spawned side by side)\n${lines.join('\n')}`);
}
