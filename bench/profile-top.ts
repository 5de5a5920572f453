/**
 * The functions with the most self time in `node --cpu-prof` profiles, per thread: which code the
 * CPU was in, not who called it. For `npm run load -- --cpu-prof-dir DIR`, which writes one profile
 * per thread of the server (the event loop and each worker).
 *
 *   node dist/bench/profile-top.js DIR [--top 12] [--skip-seconds 10]
 *
 * --skip-seconds leaves out each thread's first seconds: loading modules and decoding the seal font,
 * which a short run would otherwise be mostly about.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '12' }, 'skip-seconds': { type: 'string', default: '0' } }, allowPositionals: true });
const skipUs = Number(values['skip-seconds']) * 1e6;
const dir = positionals[0];
if (!dir) throw new Error('name the directory the profiles are in');

/** Shortens a module URL to the part after node_modules/ or the package's src/, dist/ or bench/. */
const where = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|dist|bench)\//, '$1/').replace(/^file:\/\//, '');

function selfTimes(profile: Profile): { total: number; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  let total = 0;
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    elapsed += us;
    if (elapsed < skipUs) return;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const name = url ? `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}` : functionName;
    total += us;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  });
  return { total, byFunction };
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const { total, byFunction } = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
  const busy = [...byFunction].filter(([name]) => name !== '(idle)').reduce((n, [, us]) => n + us, 0);
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s not idle`);
  const top = [...byFunction].filter(([name]) => name !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [name, us] of top) console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${name}`);
}
