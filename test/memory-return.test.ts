/**
 * Memory returns near its baseline after heavy requests, measured on `oneseal serve` run as the image
 * runs it (a child process with jemalloc preloaded): after a 骑缝章 over 20,000 pages and the
 * verification of that document, the process's RSS comes back within a generous bound of where it
 * was, because the workers that grew for them are replaced. Measured 2026-12-02: peak +170 MB, after
 * +70 MB (glibc's malloc: +88 MB; with a worker grown past 256 MB, glibc kept +310 MB and jemalloc +50).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, call } from './support/api-client.js';
import { manyPagesPdf } from './support/big-pdfs.js';
import { runOneseal, serveChild, type ChildServer } from './support/child-server.js';
import { waitFor } from './support/ops.js';

const JEMALLOC = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']
  .map((d) => path.join(d, 'libjemalloc.so.2')).find((f) => existsSync(f));
const MB = 1024 * 1024;
/** Generous: the stamped 20,000-page output (13 MB) and allocator caches stay; a kept worker heap (~300 MB) does not fit. */
const BOUND = 150 * MB;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

let dir: string;
let server: ChildServer;
let key: string;

beforeAll(async () => {
  if (!JEMALLOC) throw new Error('libjemalloc.so.2 not found: apt-get install libjemalloc2 (the production image preloads it)');
  dir = mkdtempSync(path.join(tmpdir(), 'oneseal-memory-'));
  const env = {
    PATH: process.env.PATH, HOME: process.env.HOME, LD_PRELOAD: JEMALLOC,
    ONESEAL_DATA_DIR: dir, ONESEAL_PORT: '0', ONESEAL_LOG_LEVEL: 'warn', ONESEAL_WORKERS: '2',
    ONESEAL_MAX_PAGES: '100000', ONESEAL_MAX_STRADDLE_PAGES: '100000', ONESEAL_REQUEST_TIMEOUT_SECONDS: '600',
  };
  runOneseal(env, ['init']);
  ({ key } = JSON.parse(runOneseal(env, ['client', 'add', '--name', 'memory', '--seals', 'approval', '--break-glass', '--json'])) as { key: string });
  server = await serveChild(env);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const stamp = (pdf: Buffer, query = '') => call(`${server.url}/v1/stamps?seal=approval&level=B-B&page=1&x=100&y=100${query}`,
  { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
const verify = (pdf: Buffer) => call(`${server.url}/v1/verifications`, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: pdf });

/** The worker-thread gauge from /metrics, by state. */
async function workerThreads(): Promise<Record<string, number>> {
  const text = (await call(`${server.url}/metrics`)).bytes.toString('utf8');
  return Object.fromEntries([...text.matchAll(/^oneseal_worker_threads\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Worker threads replaced so far, from /metrics. */
async function workersReplaced(): Promise<number> {
  const text = (await call(`${server.url}/metrics`)).bytes.toString('utf8');
  return Number(/^oneseal_worker_threads_replaced_total (\d+)$/m.exec(text)?.[1]);
}

describe('worker threads of `oneseal serve`', () => {
  it('are started before the first request, not by it', async () => {
    let threads = await workerThreads();
    const until = Date.now() + 60_000;
    while (threads.idle !== 2 && Date.now() < until) threads = await workerThreads();
    // Both started (ONESEAL_WORKERS=2) and waiting, and nothing was asked of them but the prestart.
    expect(threads).toEqual({ busy: 0, idle: 2, not_started: 0 });
  }, 90_000);
});

describe('memory after heavy requests', () => {
  it('comes back near its baseline after a 20,000-page 骑缝章 and its verification', async () => {
    const pid = server.child.pid!;
    const small = await stamp(manyPagesPdf(1)); // warm: workers started, appearance built, verification loaded
    expect(small.status).toBe(200);
    expect((await verify(small.bytes)).status).toBe(200);
    const baseline = rssOf(pid);
    // Ordinary work replaces no worker, however full of garbage its heap is between collections.
    expect(await workersReplaced()).toBe(0);

    // The peak is sampled while the heavy requests run: measured after an answer, the worker may already be gone.
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    try {
      const heavy = await stamp(manyPagesPdf(20_000), '&straddle=true');
      expect(heavy.status, heavy.bytes.toString('utf8', 0, 300)).toBe(200);
      // The worker it grew is replaced by one started and warmed at once, not left for the next request to start.
      let threads = await workerThreads();
      for (const until = Date.now() + 60_000; threads.idle !== 2 && Date.now() < until;) threads = await workerThreads();
      expect(threads).toEqual({ busy: 0, idle: 2, not_started: 0 });
      const verified = await verify(heavy.bytes);
      expect(verified.status).toBe(200);
      expect(verified.json<{ verdict: string }>().verdict).toBe('valid');
    } finally {
      clearInterval(sampler);
    }

    // The heavy work did take memory (the bound below is no formality) …
    expect(peak - baseline).toBeGreaterThan(BOUND);
    // … and gives it back once the grown workers are replaced (their threads end shortly after the answer).
    await waitFor(() => rssOf(pid) - baseline < BOUND, 60_000).catch(() => undefined);
    expect((rssOf(pid) - baseline) / MB).toBeLessThan(BOUND / MB);
    // What the heavy tasks grew was given back by replacing those workers (counted once their threads ended).
    let replaced = await workersReplaced();
    for (const until = Date.now() + 30_000; replaced < 1 && Date.now() < until;) replaced = await workersReplaced();
    expect(replaced).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
