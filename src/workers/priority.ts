/**
 * Thread priorities. On two cores the event loop shares the CPU with the PDF workers, libuv's pool (HSM
 * signatures, SQLite, files) and V8's helper threads. At equal priority, each thread the event loop woke
 * (a task posted, a statement or a signature queued) could take its core, and every trip of a request
 * through the event loop then waited behind PDF work. Every other thread runs at a higher nice value:
 * the event loop is not kept waiting, and the others still get all it leaves.
 *
 * Linux keeps a nice value per thread, so setpriority() on a thread id changes that thread only;
 * elsewhere it would change the whole process, so nothing is done there. A system that refuses (a
 * sandbox) leaves the threads at normal priority: slower under load, not wrong.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

const perThread = process.platform === 'linux';

function lower(threadId: number, nice: number): void {
  try {
    setPriority(threadId, nice);
  } catch {
    // Refused, or the thread ended meanwhile: see above.
  }
}

/** The calling thread (a worker as it starts: 0 is the caller). */
export function lowerOwnPriority(nice: number): void {
  if (nice !== 0 && perThread) lower(0, nice);
}

/**
 * Every thread of the process now running except the main one: libuv's pool and V8's helpers, which
 * exist once the database is open. Worker threads started later lower themselves (lowerOwnPriority).
 */
export function lowerHelperThreads(nice: number): void {
  if (nice === 0 || !perThread) return;
  for (const threadId of readdirSync('/proc/self/task').map(Number)) {
    if (threadId !== process.pid) lower(threadId, nice);
  }
}
