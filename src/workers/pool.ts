/**
 * A fixed number of worker threads for CPU-heavy work (PDF parsing, appearances, hashing, CMS
 * assembly), so the event loop only routes requests while both cores work. One task per worker at a
 * time, the rest queue. A task's calls back into the main thread (HSM, database) are answered here.
 *
 * A cancelled task's worker is terminated (the work really stops) and replaced; what the task did
 * outside its thread before it stopped (a file it wrote) is the task's `afterCancel` to undo, run once
 * the thread has ended — the caller has its answer at once, not after the thread. A worker is replaced
 * after a task that grew it by more than `recycle.taskGrowthBytes`, so one huge document does not keep
 * its memory, and once it is past `recycle.heapBytes` whatever the task; one that runs out of its heap
 * limit fails only its own task.
 */
import { Worker } from 'node:worker_threads';
import { OneSealError } from '../errors.js';
import { fromWire, toWire, type FromWorker, type ToWorker, type WorkerSetup } from './wire.js';

export type MainCalls = Record<string, (...args: never[]) => Promise<unknown>>;

export interface PoolOptions {
  size: number;
  /** Resolves the worker's script (see entry.ts). */
  entry: () => Promise<URL>;
  /** A worker's old-generation heap limit. */
  maxHeapMb: number;
  /**
   * When a worker is replaced after its task. Not by its size alone: between full garbage collections
   * a busy worker's heap fills with garbage far past what it keeps (src/node-flags.ts lets it grow 4×),
   * and replacing it then costs seconds of CPU to start another and compile its code again.
   */
  recycle: { taskGrowthBytes: number; heapBytes: number };
  /** The workers' nice value (./priority.ts; 0 leaves them as they are). */
  nice?: number;
  /** Told when a worker's thread has ended, however it ended (HSM signing lanes it held are reclaimed). */
  onThreadEnded?: (threadId: number) => void;
}

interface Task {
  kind: string;
  payload: unknown;
  /** Buffers in the payload moved to the worker rather than copied; the caller gives them up. */
  transfer: ArrayBuffer[];
  calls: MainCalls;
  signal?: AbortSignal;
  afterCancel?: () => void;
  resolve: (r: { value: unknown; threadId: number }) => void;
  reject: (e: unknown) => void;
  /** The prestart task run again on a replacement thread: nobody waits for it, and it never recycles its worker. */
  warmup?: true;
}

interface Slot {
  worker?: Worker;
  task?: Task;
  /** The first error a call into the main thread raised: the task fails with it, not with its echo. */
  callFailure?: unknown;
  onAbort?: () => void;
  /** Its worker was retired on purpose: the next one is started at once (a thread that died is not restarted in a loop). */
  replace?: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Task[] = [];
  private closed = false;
  /** What `prestart` ran on every thread, run again on each thread that replaces one. */
  private warmup?: { kind: string; payload: unknown };
  /** Thread ids that ran a task. */
  readonly ranOn = new Set<number>();
  /** Workers replaced (a cancelled task, memory grown by one task or past the limit, out of heap) whose thread has ended. */
  retired = 0;

  constructor(private readonly options: PoolOptions) {
    this.slots = Array.from({ length: options.size }, () => ({}));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Tasks running now. */
  get busy(): number {
    return this.slots.filter((s) => s.task).length;
  }

  /** Threads running a task, threads started and waiting for one, places not started yet; tasks queued. */
  get stats(): { busy: number; idle: number; notStarted: number; queued: number } {
    const busy = this.busy;
    const started = this.slots.filter((s) => s.worker).length;
    return { busy, idle: Math.max(0, started - busy), notStarted: this.slots.length - Math.max(started, busy), queued: this.queue.length };
  }

  run<T>(kind: string, payload: unknown, opts: { calls?: MainCalls; signal?: AbortSignal; transfer?: ArrayBuffer[]; afterCancel?: () => void } = {}): Promise<{ value: T; threadId: number }> {
    if (this.closed) return Promise.reject(new OneSealError('shutting-down', 'unavailable', 'The service is shutting down.', { retryAfter: 5 }));
    opts.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const task: Task = { kind, payload, transfer: opts.transfer ?? [], calls: opts.calls ?? {}, signal: opts.signal, afterCancel: opts.afterCancel, resolve: resolve as Task['resolve'], reject };
      this.queue.push(task);
      opts.signal?.addEventListener('abort', () => {
        const i = this.queue.indexOf(task);
        if (i >= 0) {
          this.queue.splice(i, 1);
          reject(opts.signal!.reason);
        }
      }, { once: true });
      this.dispatch();
    });
  }

  /**
   * Starts every worker now instead of at its first task, and runs `kind` once on each (the tasks,
   * queued together, take one free slot each): loading a worker's code and building its caches is
   * most of a second, which the first requests after a start would otherwise wait for.
   */
  async prestart(kind: string, payload: unknown): Promise<void> {
    this.warmup = { kind, payload };
    await Promise.all(this.slots.map(() => this.run(kind, payload)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new OneSealError('shutting-down', 'unavailable', 'The service is shutting down.', { retryAfter: 5 }));
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task) continue;
      const task = this.queue.shift() ?? this.warmupFor(slot);
      if (task) void this.start(slot, task);
    }
  }

  /**
   * A thread that replaces a retired one is started at once and warmed as at start-up, rather than by
   * the next request, which would wait most of a second for it: only in a prestarted pool, whose
   * threads all run, and only while no task is waiting (one would pay the start either way).
   */
  private warmupFor(slot: Slot): Task | undefined {
    if (!this.warmup || !slot.replace || this.closed) return undefined;
    const ignore = () => undefined;
    return { ...this.warmup, transfer: [], calls: {}, resolve: ignore, reject: ignore, warmup: true };
  }

  private async start(slot: Slot, task: Task): Promise<void> {
    slot.task = task;
    slot.replace = false; // whichever task comes first starts the new thread
    slot.callFailure = undefined;
    try {
      if (!slot.worker) slot.worker = await this.spawn(slot);
    } catch (e) {
      this.finish(slot, () => task.reject(e));
      return;
    }
    const worker = slot.worker;
    worker.ref(); // a task in flight keeps the process alive; an idle pool does not
    slot.onAbort = () => {
      // Terminating is the only way to stop synchronous work in a worker; a fresh one takes its place.
      void this.retire(slot).then(task.afterCancel);
      this.finish(slot, () => task.reject(task.signal!.reason));
    };
    task.signal?.addEventListener('abort', slot.onAbort, { once: true });
    worker.postMessage({ type: 'task', kind: task.kind, payload: task.payload } satisfies ToWorker, task.transfer);
  }

  private spawn(slot: Slot): Promise<Worker> {
    return this.options.entry().then((url) => {
      const worker = new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb }, workerData: { nice: this.options.nice ?? 0 } satisfies WorkerSetup });
      worker.on('message', (m: FromWorker) => this.onMessage(slot, worker, m));
      worker.on('error', (e: Error & { code?: string }) => this.onDeath(slot, worker, e));
      const { threadId } = worker;
      worker.on('exit', (code) => {
        this.onDeath(slot, worker, new Error(`worker exited with code ${code}`));
        this.options.onThreadEnded?.(threadId);
      });
      return worker;
    });
  }

  private onMessage(slot: Slot, worker: Worker, m: FromWorker): void {
    const task = slot.task;
    if (slot.worker !== worker || !task) return;
    if (m.type === 'call') {
      const fn = task.calls[m.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      const answer = fn ? fn(...m.args) : Promise.reject(new Error(`no main-thread call "${m.method}"`));
      answer.then(
        (value) => slot.worker === worker && worker.postMessage({ type: 'reply', callId: m.callId, value } satisfies ToWorker),
        (e: unknown) => {
          slot.callFailure ??= e;
          if (slot.worker === worker) worker.postMessage({ type: 'reply', callId: m.callId, error: toWire(e) } satisfies ToWorker);
        },
      );
      return;
    }
    const { recycle } = this.options;
    if (!task.warmup && (m.grewBytes > recycle.taskGrowthBytes || m.heapBytes > recycle.heapBytes)) void this.retire(slot);
    const failure = slot.callFailure;
    this.finish(slot, () => {
      if (m.type === 'done') task.resolve({ value: m.value, threadId: worker.threadId });
      else task.reject(failure ?? fromWire(m.error));
    });
    this.ranOn.add(worker.threadId);
  }

  private onDeath(slot: Slot, worker: Worker, e: Error & { code?: string }): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const task = slot.task;
    if (!task) return;
    const error = e.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new OneSealError('document-too-complex', 'unprocessable',
        `Working on this document needed more than ${this.options.maxHeapMb} MB; it was stopped. Split the document or simplify it.`)
      : new OneSealError('worker-failed', 'internal', `A worker thread failed: ${e.message}`, { cause: e });
    this.finish(slot, () => task.reject(error));
  }

  /** Resolves once the worker's thread has ended. */
  private retire(slot: Slot): Promise<void> {
    const worker = slot.worker;
    slot.worker = undefined;
    slot.replace = true;
    return worker ? worker.terminate().then(() => void this.retired++) : Promise.resolve();
  }

  private finish(slot: Slot, settle: () => void): void {
    slot.worker?.unref();
    if (slot.onAbort) slot.task?.signal?.removeEventListener('abort', slot.onAbort);
    slot.task = undefined;
    slot.onAbort = undefined;
    settle();
    this.dispatch();
  }
}
