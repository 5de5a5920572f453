/**
 * The worker pool on real threads, with a small worker speaking its protocol: results come from a
 * worker thread, calls into the main thread are answered, a failing call fails the task with that
 * very error, a cancelled task's thread is terminated (the work really stops) and replaced — what it
 * left on disk undone only once its thread has ended —, a worker
 * that runs out of heap fails only its own task (422), a worker that one task grew too much (or that is
 * past the size limit) is replaced while one merely full of garbage is kept, and the
 * workers run at a lower priority than the event loop.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OneSealError } from '../src/errors.js';
import { workerEntry } from '../src/workers/entry.js';
import { WorkerPool } from '../src/workers/pool.js';
import { niceByThread } from './support/threads.js';
import { waitFor } from './support/ops.js';

const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-pool-'));
const script = path.join(dir, 'worker.mjs');
writeFileSync(script, `
import { parentPort } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
let next = 0;
const waiting = new Map();
const call = (method, ...args) => new Promise((resolve, reject) => {
  const callId = next++;
  waiting.set(callId, { resolve, reject });
  parentPort.postMessage({ type: 'call', callId, method, args });
});
const done = (value, heapBytes = 0, grewBytes = 0) => parentPort.postMessage({ type: 'done', value, heapBytes, grewBytes });
parentPort.on('message', async (m) => {
  if (m.type === 'reply') {
    const w = waiting.get(m.callId);
    waiting.delete(m.callId);
    return m.error ? w.reject(new Error(m.error.message)) : w.resolve(m.value);
  }
  switch (m.kind) {
    case 'echo': return done(m.payload);
    case 'ask':
      try { return done(await call('double', m.payload)); }
      catch (e) { return parentPort.postMessage({ type: 'failed', error: { name: 'Error', message: e.message }, heapBytes: 0, grewBytes: 0 }); }
    case 'spin': for (;;) {}
    case 'write-then-spin': writeFileSync(m.payload, 'written'); for (;;) {}
    case 'hog': { const keep = []; for (;;) keep.push(new Array(1e5).fill(Math.random())); }
    case 'grow': return done('grown', 3e6, 2e6);
    case 'sized': return done('sized', m.payload, 0);
  }
});
`);

let pool: WorkerPool | undefined;
const open = (opts: { maxHeapMb?: number; size?: number; onThreadEnded?: (threadId: number) => void } = {}) =>
  (pool = new WorkerPool({ size: opts.size ?? 1, entry: async () => pathToFileURL(script), maxHeapMb: opts.maxHeapMb ?? 256, recycle: { taskGrowthBytes: 1e6, heapBytes: 1e9 }, onThreadEnded: opts.onThreadEnded }));
afterEach(async () => {
  await pool?.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WorkerPool', () => {
  it('runs tasks in a worker thread and answers its calls into the main thread', async () => {
    const p = open();
    const echoed = await p.run<string>('echo', 'hello');
    expect(echoed.value).toBe('hello');
    expect(echoed.threadId).toBeGreaterThan(0);
    expect((await p.run<number>('ask', 21, { calls: { double: async (n: number) => n * 2 } })).value).toBe(42);
  });

  it('starts every thread ahead of the first task when prestarted, each having run the prestart task once', async () => {
    const p = open({ size: 3 });
    expect(p.stats).toEqual({ busy: 0, idle: 0, notStarted: 3, queued: 0 });
    await p.prestart('echo', 'warm');
    expect(p.ranOn.size).toBe(3);
    expect(p.stats).toEqual({ busy: 0, idle: 3, notStarted: 0, queued: 0 });
    // the next tasks go to the started threads, no new ones
    await Promise.all([p.run('echo', 1), p.run('echo', 2), p.run('echo', 3)]);
    expect(p.ranOn.size).toBe(3);
  });

  it('fails a task with the error its call into the main thread raised', async () => {
    const p = open();
    const hsmDown = new OneSealError('hsm-unavailable', 'unavailable', 'The HSM is not there.');
    await expect(p.run('ask', 1, { calls: { double: async () => { throw hsmDown; } } })).rejects.toBe(hsmDown);
  });

  it('terminates the thread of a cancelled task and serves the next task with a fresh one', async () => {
    const p = open();
    const first = (await p.run('echo', 1)).threadId;
    const controller = new AbortController();
    const spinning = p.run('spin', null, { signal: controller.signal });
    await waitFor(() => p.busy === 1);
    const reason = new OneSealError('request-timeout', 'timeout', 'too long');
    controller.abort(reason);
    await expect(spinning).rejects.toBe(reason);
    await waitFor(() => p.retired === 1);
    const next = await p.run('echo', 2);
    expect(next.value).toBe(2);
    expect(next.threadId).not.toBe(first);
  });

  it('answers a cancelled task at once and undoes what it left on disk only once its thread has ended', async () => {
    const ended: number[] = [];
    const p = open({ onThreadEnded: (threadId) => ended.push(threadId) });
    const spinner = (await p.run('echo', 1)).threadId;
    const file = path.join(dir, 'left-by-a-cancelled-task');
    let threadsEndedWhenUndone: number[] | undefined;
    let undo!: () => void;
    const undone = new Promise<void>((resolve) => (undo = resolve));
    const controller = new AbortController();
    const spinning = p.run('write-then-spin', file, {
      signal: controller.signal,
      afterCancel: () => {
        threadsEndedWhenUndone = [...ended];
        rmSync(file);
        undo();
      },
    });
    await waitFor(() => existsSync(file));
    controller.abort(new Error('cancelled'));
    await expect(spinning).rejects.toThrow('cancelled');
    // Answered while the thread may still run: nothing undone yet.
    expect(threadsEndedWhenUndone).toBeUndefined();
    await undone;
    expect(threadsEndedWhenUndone).toEqual([spinner]);
    expect(existsSync(file)).toBe(false);
    // A task that was not cancelled is not undone.
    let undid = false;
    expect((await p.run('echo', 2, { afterCancel: () => { undid = true; } })).value).toBe(2);
    expect(undid).toBe(false);
  });

  it('tells when a terminated worker\'s thread has ended, naming it (the HSM takes back the signing lanes it held)', async () => {
    const ended: number[] = [];
    const p = open({ onThreadEnded: (threadId) => ended.push(threadId) });
    const spinner = (await p.run('echo', 1)).threadId;
    const controller = new AbortController();
    const spinning = p.run('spin', null, { signal: controller.signal });
    await waitFor(() => p.busy === 1);
    controller.abort(new Error('cancelled'));
    await spinning.catch(() => undefined);
    await waitFor(() => ended.length === 1);
    expect(ended).toEqual([spinner]);
    expect((await p.run('echo', 2)).threadId).not.toBe(spinner);
    expect(ended).toEqual([spinner]); // the live worker is not reported
  });

  it('refuses a task whose worker runs out of heap with 422, and keeps serving', async () => {
    const p = open({ maxHeapMb: 32 });
    const err = await p.run('hog', null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OneSealError);
    expect((err as OneSealError).code).toBe('document-too-complex');
    expect((err as OneSealError).kind).toBe('unprocessable');
    expect((await p.run('echo', 3)).value).toBe(3);
  });

  it('replaces a worker that its task grew past the recycling growth once the task is done', async () => {
    const p = open();
    const grown = await p.run('grow', null);
    expect(grown.value).toBe('grown');
    await waitFor(() => p.retired === 1);
    // Not prestarted: the next task starts the replacement.
    expect(p.stats).toEqual({ busy: 0, idle: 0, notStarted: 1, queued: 0 });
    expect((await p.run('echo', 4)).threadId).not.toBe(grown.threadId);
  });

  it('starts the replacement of a retired worker at once in a prestarted pool, and warms it with the prestart task', async () => {
    const p = open({ size: 2 });
    await p.prestart('echo', 'warm');
    const grown = await p.run('grow', null);
    await waitFor(() => p.retired === 1);
    // Before any new task: a third thread has run the prestart task and waits, ready.
    await waitFor(() => p.ranOn.size === 3 && p.stats.idle === 2);
    expect(p.stats).toEqual({ busy: 0, idle: 2, notStarted: 0, queued: 0 });
    const next = await Promise.all([p.run('echo', 1), p.run('echo', 2)]);
    expect(next.map((n) => n.threadId)).not.toContain(grown.threadId);
    expect(p.ranOn.size).toBe(3);
  });

  it('keeps a worker whose heap is large with garbage but that its task did not grow, and replaces one past the size limit', async () => {
    const p = open();
    // Between full collections a busy worker's heap sits far above what it keeps: no reason to restart it.
    const bloated = await p.run('sized', 5e8);
    const next = await p.run('echo', 5);
    expect(next.threadId).toBe(bloated.threadId);
    expect(p.retired).toBe(0);
    const huge = await p.run('sized', 2e9);
    await waitFor(() => p.retired === 1);
    expect((await p.run('echo', 6)).threadId).not.toBe(huge.threadId);
  });
});

describe('thread priorities (Linux)', () => {
  it.runIf(process.platform === 'linux')('a pool lowers the priority of its worker threads only, not of the event loop', async () => {
    const p = (pool = new WorkerPool({ size: 2, entry: () => workerEntry('pdf-worker'), maxHeapMb: 256, recycle: { taskGrowthBytes: 1e9, heapBytes: 1e9 }, nice: 7 }));
    // Two tasks at once start both workers; a kind without a handler fails once the worker is serving.
    const runs = await Promise.allSettled([p.run('no-such-task', null), p.run('no-such-task', null)]);
    expect(runs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const nice = niceByThread();
    expect([...nice.values()].filter((n) => n === 7)).toHaveLength(2);
    expect(nice.get(process.pid)).toBe(0);
  });
});
