/**
 * The worker side of the pool: runs one task at a time with the handler registered for its kind.
 * A handler reaches back to the main thread (the HSM, the database) only through `call`.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { fromWire, toWire, type FromWorker, type ToWorker } from './wire.js';

export type CallMain = (method: string, ...args: unknown[]) => Promise<unknown>;
export type TaskHandler = (payload: never, call: CallMain) => Promise<unknown>;

/**
 * What this thread's memory grew to: the heap as sized (its used part may already be collected back
 * down) and the buffers outside it (a big document's bytes). It decides whether the worker is recycled.
 */
function grownTo(): number {
  const h = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return h.total_heap_size + (h.external_memory ?? 0);
}

export function serveTasks(handlers: Record<string, TaskHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks runs in a worker thread only');
  const send = (m: FromWorker) => port.postMessage(m);
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
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
      (value) => send({ type: 'done', value, heapBytes: grownTo() }),
      (e: unknown) => send({ type: 'failed', error: toWire(e), heapBytes: grownTo() }),
    );
  });
}
