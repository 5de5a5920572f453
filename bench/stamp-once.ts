/**
 * Stamps one document in a fresh process and prints its time and peak memory as JSON: the
 * benchmark's memory figure must not include what earlier runs left on the heap.
 *   node dist/bench/stamp-once.js FILE   (configuration from ONESEAL_* variables)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';

const services = await openServices(loadConfig());
try {
  const bytes = readFileSync(process.argv[2]!);
  const t0 = performance.now();
  await services.stamper.stamp(bytes, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 150, y: 60 }, level: 'B-B' });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
} finally {
  await services.close();
}
