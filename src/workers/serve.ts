/**
 * The worker side of the pool: runs one task at a time with the handler registered for its kind.
 * A handler reaches back to the main thread (the HSM, the database) only through `call`.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerOwnPriority } from './priority.js';
import { fromWire, toWire, type FromWorker, type TaskMemory, type ToWorker, type WorkerSetup } from './wire.js';

export type CallMain = (method: string, ...args: unknown[]) => Promise<unknown>;
export type TaskHandler = (payload: never, call: CallMain) => Promise<unknown>;

/**
 * This thread's memory: the heap as sized (its used part may already be collected back down) and the
 * buffers outside it (a big document's bytes). What a task adds to it decides whether the worker is recycled.
 */
function memoryInUse(): number {
  const h = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return h.total_heap_size + (h.external_memory ?? 0);
}

/**
 * The buffers of a task's result (its top-level byte arrays, such as a signed PDF) that can be moved
 * to the main thread rather than copied: those that are the whole of their memory. A small Buffer
 * may sit in Node's shared pool, and moving that would take its neighbours with it.
 */
function movableBuffers(value: unknown): ArrayBuffer[] {
  if (typeof value !== 'object' || value === null) return [];
  const out = new Set<ArrayBuffer>();
  for (const v of [value, ...Object.values(value)]) {
    if (v instanceof Uint8Array && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  }
  return [...out];
}

export function serveTasks(handlers: Record<string, TaskHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks runs in a worker thread only');
  lowerOwnPriority((workerData as WorkerSetup | undefined)?.nice ?? 0);
  const send = (m: FromWorker) => port.postMessage(m);
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  // One task runs at a time, so what the previous one left is where this one starts (one reading per task: ~6 µs each).
  let afterLastTask = memoryInUse();
  const memory = (): TaskMemory => {
    const heapBytes = memoryInUse();
    const grewBytes = heapBytes - afterLastTask;
    afterLastTask = heapBytes;
    return { heapBytes, grewBytes };
  };
  let nextCall = 0;
  const call: CallMain = (method, ...args) => new Promise((resolve, reject) => {
    const callId = nextCall++;
    waiting.set(callId, { resolve, reject });
    send({ type: 'call', callId, method, args });
  });
  port.on('message', (m: ToWorker) => {
    if (m.type === 'reply') {
      const w = waiting.get(m.callId);
      waiting.delete(m.callId);
      if (m.error) w?.reject(fromWire(m.error));
      else w?.resolve(m.value);
      return;
    }
    const handler = handlers[m.kind];
    const run = handler ? handler(m.payload as never, call) : Promise.reject(new Error(`no handler for task "${m.kind}"`));
    run.then(
      (value) => port.postMessage({ type: 'done', value, ...memory() } satisfies FromWorker, movableBuffers(value)),
      (e: unknown) => send({ type: 'failed', error: toWire(e), ...memory() }),
    );
  });
}
