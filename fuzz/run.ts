/**
 * `npm run fuzz`: hostile-input fuzzing of the PDF reader, text search, verification and signing.
 *
 *   node dist/fuzz/run.js [--count 10000] [--seed 42] [--start 0] [--jobs 1] [--targets read,verify,sign]
 *                         [--timeout-ms 5000] [--heap-mb 1024] [--max-rss-mb 1536] [--bomb-mb 1024] [--no-save]
 *
 * Exit status 1 when any input failed; failing inputs go to fixtures/regressions/ (replayed by the tests).
 * Ctrl-C (or SIGTERM) stops taking inputs and still prints and writes the results so far.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCampaign, type CampaignResult } from './campaign.js';
import { loadSeeds, repoRoot } from './seeds.js';
import { TARGETS, type TargetName } from './targets.js';

function table(r: CampaignResult): string {
  const header = ['target', 'inputs', 'ok', 'refused', 'failures', 'max ms', 'mean ms', 'slowest input'];
  const rows = Object.entries(r.targets).map(([t, s]) => [
    t,
    String(s.inputs),
    String(s.ok),
    String(s.rejected),
    String(s.failures),
    s.maxMs.toFixed(0),
    (s.runs ? s.totalMs / s.runs : 0).toFixed(1),
    s.slowestIndex >= 0 ? `#${s.slowestIndex}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      start: { type: 'string', default: '0' },
      jobs: { type: 'string', default: '1' },
      targets: { type: 'string', default: TARGETS.join(',') },
      'timeout-ms': { type: 'string', default: '5000' },
      'heap-mb': { type: 'string', default: '1024' },
      'max-rss-mb': { type: 'string', default: '1536' },
      'bomb-mb': { type: 'string', default: '1024' },
      'no-save': { type: 'boolean', default: false },
    },
  });
  const targets = values.targets.split(',').map((t) => t.trim()) as TargetName[];
  const unknown = targets.filter((t) => !TARGETS.includes(t));
  if (unknown.length) throw new Error(`unknown target(s) ${unknown.join(', ')}; choose from ${TARGETS.join(', ')}`);
  const root = repoRoot();
  const seeds = loadSeeds(root);
  const count = Number(values.count);
  const seed = Number(values.seed);
  console.log(`fuzz: ${count} inputs, seed ${seed}, targets ${targets.join(', ')}, ${seeds.length} seed documents`);
  let lastPrint = 0;
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.log(`fuzz: ${sig}: finishing the inputs in flight, then reporting`);
      stop.abort();
    });
  }
  const result = await runCampaign({
    count,
    seed,
    start: Number(values.start),
    signal: stop.signal,
    targets,
    seeds,
    jobs: Number(values.jobs),
    timeoutMs: Number(values['timeout-ms']),
    heapMb: Number(values['heap-mb']),
    maxRssMb: Number(values['max-rss-mb']),
    bombBytes: Number(values['bomb-mb']) * 2 ** 20,
    regressionsDir: values['no-save'] ? undefined : join(root, 'fixtures', 'regressions'),
    progress(done, total, sofar) {
      if (Date.now() - lastPrint > 30_000 || done === total) {
        lastPrint = Date.now();
        console.log(`fuzz: ${done}/${total} done, ${sofar.failures.length} failures, peak worker RSS ${sofar.peakRssMb.toFixed(0)} MB`);
      }
    },
  });

  console.log('\n' + table(result));
  console.log(`\n${result.count} inputs (#${result.start}…#${result.start + result.count - 1}) in ${result.seconds.toFixed(0)} s; peak worker RSS ${result.peakRssMb.toFixed(0)} MB; worker restarts ${result.childRestarts}`);
  console.log(`inputs per strategy: ${Object.entries(result.strategies).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const f of result.failures.slice(0, 50)) {
    console.log(`FAIL #${f.index} ${f.strategy} on ${f.source} → ${f.target} ${f.kind}: ${f.message}${f.file ? ` (saved ${f.file})` : ''}`);
  }
  if (result.failures.length > 50) console.log(`… and ${result.failures.length - 50} more failures (see the JSON)`);
  const dir = join(root, 'fuzz', 'results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`results: ${out}`);
  process.exitCode = result.failures.length ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exitCode = 2;
});
