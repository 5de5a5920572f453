/**
 * Thread scheduling. On two cores the event loop shares the CPU with the PDF workers and with libuv's
 * pool, which runs the HSM's signatures (pkcs11js), SQLite's statements, file calls and ECDSA checks.
 * Profiles showed the event loop "inside" `postMessage`, sqlite3 and pkcs11js calls that only queue
 * work: the thread it had just woken took its core.
 *
 * - The PDF workers run at a higher nice value: the event loop is not kept waiting behind PDF work,
 *   and they still get all it leaves.
 * - Where there are no PDF workers (in-process stamping: the CLI, the benchmark), the event loop does
 *   the PDF work itself, and libuv's pool threads run under SCHED_BATCH: a woken pool thread no
 *   longer preempts the event loop that woke it, yet keeps its full share of the CPU (in-process
 *   RSA stamps at c=8: 0.46–0.56 of the raw HSM rate before, 0.56–0.63 after). Beside PDF workers
 *   they stay as they are: their file and database calls are on a request's path, and without
 *   wakeup preemption they waited behind PDF work (POST /v1/stamps at c=8: 148–168/s fell to
 *   106–144/s). A higher nice value starved them likewise.
 * - V8's helper threads stay as they are: lowered too, its concurrent garbage collection fell behind
 *   the event loop and B-LT stamping in-process lost a sixth of its rate.
 *
 * Linux keeps a nice value and a policy per thread, so either changes that thread only; elsewhere it
 * would change the whole process, so nothing is done there. A system that refuses (a sandbox, no
 * chrt) leaves the threads as they were: slower under load, not wrong.
 */
import { execFile } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import { setPriority } from 'node:os';

const perThread = process.platform === 'linux';

/** The calling thread (a worker as it starts). */
export function lowerOwnPriority(nice: number): void {
  if (nice === 0 || !perThread) return;
  try {
    setPriority(0, nice);
  } catch {
    // Refused: see above.
  }
}

/** How many calls each round queues per pool thread: enough that every idle thread wakes for one. */
const CALLS_PER_THREAD = 4;
const MAX_ROUNDS = 200;

/**
 * The ids of libuv's pool threads. libuv gives no handle to them, so each is asked who it is: a
 * readlink of /proc/thread-self runs on a pool thread and names that thread. Rounds of such calls go
 * on until every thread of the pool (UV_THREADPOOL_SIZE, 4 by default) has answered or the rounds run
 * out.
 */
async function threadPoolIds(): Promise<number[]> {
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const found = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS && found.size < size; round++) {
    const links = await Promise.all(Array.from({ length: size * CALLS_PER_THREAD }, () => readlink('/proc/thread-self').catch(() => '')));
    for (const link of links) {
      const threadId = Number(link.slice(link.lastIndexOf('/') + 1));
      if (threadId > 0 && threadId !== process.pid) found.add(threadId);
    }
  }
  return [...found];
}

type Policy = 'batch' | 'other';

/** Node has no call for a thread's policy; util-linux's chrt (in every Debian) sets it. */
function setPolicy(threadId: number, policy: Policy): Promise<void> {
  return new Promise((resolve) => execFile('chrt', [`--${policy}`, '--pid', '0', String(threadId)], () => resolve()));
}

let poolPolicy: Promise<Policy> = Promise.resolve('other');
let pdfWorkersOpened = false;

/**
 * libuv's pool under SCHED_BATCH while this process's event loop does the PDF work (services opened
 * without PDF workers), under SCHED_OTHER for good once services with PDF workers are opened: a
 * process doing both is a test suite, its server beside its in-process CLI, and the server decides.
 */
export function scheduleThreadPool(options: { pdfWorkers: boolean }): Promise<void> {
  if (!perThread) return Promise.resolve();
  pdfWorkersOpened ||= options.pdfWorkers;
  const wanted: Policy = pdfWorkersOpened ? 'other' : 'batch';
  poolPolicy = poolPolicy.then(async (current) => {
    if (current !== wanted) await Promise.all((await threadPoolIds()).map((id) => setPolicy(id, wanted)));
    return wanted;
  });
  return poolPolicy.then(() => undefined);
}
