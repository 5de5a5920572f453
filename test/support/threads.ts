import { readdirSync, readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';

/** Field `n` (numbered as in proc(5)) of the /proc stat line of each of this process's threads, by thread id (Linux). */
function statFieldByThread(n: number): Map<number, number> {
  return new Map(readdirSync(`/proc/${process.pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [Number(tid), Number(fields[n - 3])] as const; // the first two fields precede ') '
  }));
}

export const niceByThread = () => statFieldByThread(19);

/** Scheduling policies as proc(5) shows them. */
export const SCHED_OTHER = 0;
export const SCHED_BATCH = 3;
export const policyByThread = () => statFieldByThread(41);

/** libuv's pool threads this test meets: each readlink of /proc/thread-self runs on one and names it. */
export async function threadPoolIdsMet(calls = 256): Promise<Set<number>> {
  const links = await Promise.all(Array.from({ length: calls }, () => readlink('/proc/thread-self')));
  return new Set(links.map((l) => Number(l.slice(l.lastIndexOf('/') + 1))));
}
