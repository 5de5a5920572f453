import { readdirSync, readFileSync } from 'node:fs';

/** The nice value of each of this process's threads, by thread id (Linux: /proc). */
export function niceByThread(): Map<number, number> {
  return new Map(readdirSync(`/proc/${process.pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [Number(tid), Number(fields[16])] as const; // field 19 of stat; the first two precede ') '
  }));
}
