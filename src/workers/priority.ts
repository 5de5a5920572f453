/**
 * The PDF workers' priority. On two cores the event loop shares the CPU with six workers. At equal
 * priority, each worker it woke could take its core, and every trip of a request through the event loop
 * (a statement, a file write, an HSM call) then waited behind PDF work. The workers run at a higher nice
 * value: the event loop is not kept waiting, and they still get all it leaves. libuv's pool and V8's
 * helpers stay as they are: lowered too, V8's concurrent garbage collection fell behind the event loop
 * and B-LT stamping in-process lost a sixth of its rate.
 *
 * Linux keeps a nice value per thread, so setpriority() from a thread changes that thread only;
 * elsewhere it would change the whole process, so nothing is done there. A system that refuses (a
 * sandbox) leaves the threads at normal priority: slower under load, not wrong.
 */
import { setPriority } from 'node:os';

/** The calling thread (a worker as it starts). */
export function lowerOwnPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    setPriority(0, nice);
  } catch {
    // Refused: see above.
  }
}
