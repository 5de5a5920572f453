import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputAt, type FuzzInput } from './inputs.js';
import { makeBomb } from './mutators.js';
import type { SeedDoc } from './seeds.js';
import type { TargetName, TargetRun } from './targets.js';
import type { FromWorker, ToWorker } from './worker.js';

export interface CampaignOptions {
  count: number;
  /** Index of the first input (to split a run or resume one); 0 by default. */
  start?: number;
  /** Stops taking new inputs (the ones running finish); the result covers what was done. */
  signal?: AbortSignal;
  seed: number;
  targets: TargetName[];
  seeds: SeedDoc[];
  /** Child processes working in parallel (the boxes are small: 1 by default). */
  jobs: number;
  /** Per input and target; over it the child is killed and the input saved. */
  timeoutMs: number;
  /** V8 heap of each child (--max-old-space-size). */
  heapMb: number;
  /** A child whose RSS passes this after an input has used too much memory on it. */
  maxRssMb: number;
  /** Size the inflate bomb expands to. */
  bombBytes: number;
  /** Where failing inputs are saved (with a README line each); none when undefined. */
  regressionsDir?: string;
  progress?: (done: number, total: number, sofar: CampaignResult) => void;
}

export interface Failure {
  index: number;
  strategy: string;
  source: string;
  target: TargetName;
  kind: 'exception' | 'timeout' | 'crash' | 'memory';
  message: string;
  /** Where the input was saved. */
  file?: string;
}

export interface TargetStats {
  /** Inputs the target started on (a hang or crash ends the input without a run). */
  inputs: number;
  /** Inputs it finished. */
  runs: number;
  ok: number;
  rejected: number;
  failures: number;
  maxMs: number;
  slowestIndex: number;
  totalMs: number;
}

export interface CampaignResult {
  /** Inputs finished (fewer than asked when stopped early). */
  count: number;
  start: number;
  seed: number;
  seconds: number;
  peakRssMb: number;
  targets: Record<string, TargetStats>;
  /** Inputs per mutator or generator. */
  strategies: Record<string, number>;
  /** Refusal codes seen, per target (what the inputs mostly trigger). */
  rejections: Record<string, Record<string, number>>;
  failures: Failure[];
  childRestarts: number;
}

const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));

function emptyStats(): TargetStats {
  return { inputs: 0, runs: 0, ok: 0, rejected: 0, failures: 0, maxMs: 0, slowestIndex: -1, totalMs: 0 };
}

/** Saves a failing input as fixtures/regressions/<hash>.pdf and notes what it broke in the README. */
export function saveRegression(dir: string, input: FuzzInput, what: string): string {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(input.bytes).digest('hex').slice(0, 16);
  const file = join(dir, `${hash}.pdf`);
  if (!existsSync(file)) {
    writeFileSync(file, input.bytes);
    const readme = join(dir, 'README.md');
    if (!existsSync(readme)) writeFileSync(readme, '# Fuzz regressions\n\nInputs that once failed `npm run fuzz`; `test/fuzz.test.ts` replays each one.\n\n| File | Made by | What it broke |\n|---|---|---|\n');
    appendFileSync(readme, `| \`${hash}.pdf\` | ${input.strategy} on ${input.source} | ${what.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200)} |\n`);
  }
  return file;
}

/**
 * Runs `count` inputs through the targets in child processes, each watched: a target that takes
 * longer than `timeoutMs` gets its child killed, as does one that grows past `maxRssMb`; a child that
 * dies (heap exhausted, native crash) counts as a failure of the input it was on.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const bomb = await makeBomb(o.bombBytes);
  const start = o.start ?? 0;
  const result: CampaignResult = {
    count: 0,
    start,
    seed: o.seed,
    seconds: 0,
    peakRssMb: 0,
    targets: Object.fromEntries(o.targets.map((t) => [t, emptyStats()])),
    strategies: {},
    rejections: Object.fromEntries(o.targets.map((t) => [t, {}])),
    failures: [],
    childRestarts: 0,
  };
  let next = start;
  let finished = 0;

  const fail = (input: FuzzInput, target: TargetName, kind: Failure['kind'], message: string): void => {
    const f: Failure = { index: input.index, strategy: input.strategy, source: input.source, target, kind, message };
    if (o.regressionsDir) f.file = saveRegression(o.regressionsDir, input, `${target}: ${kind}: ${message}`);
    result.failures.push(f);
    result.targets[target]!.failures++;
  };

  const record = (input: FuzzInput, run: TargetRun): void => {
    const s = result.targets[run.target]!;
    s.runs++;
    s.totalMs += run.ms;
    if (run.ms > s.maxMs) {
      s.maxMs = run.ms;
      s.slowestIndex = input.index;
    }
    if (run.outcome.status === 'ok') s.ok++;
    else if (run.outcome.status === 'rejected') {
      s.rejected++;
      const r = result.rejections[run.target]!;
      r[run.outcome.code] = (r[run.outcome.code] ?? 0) + 1;
    } else fail(input, run.target, 'exception', run.outcome.error);
  };

  /** One lane: a child process fed inputs one at a time, replaced when it hangs, bloats or dies. */
  const lane = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    const spawn = async (): Promise<ChildProcess> => {
      const c = fork(workerPath, o.targets.includes('sign') ? ['--sign'] : [], {
        execArgv: [`--max-old-space-size=${o.heapMb}`],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      await new Promise<void>((resolve, reject) => {
        c.once('message', () => resolve());
        c.once('exit', (code) => {
          const hint = o.targets.includes('sign') ? ' (the sign target opens a SoftHSM token first; --targets read,verify runs without one)' : '';
          reject(new Error(`the fuzz worker exited (${code}) before it was ready${hint}: ${stderr.trim().slice(-1500)}`));
        });
      });
      c.removeAllListeners('exit');
      return c;
    };
    const runOne = (c: ChildProcess, input: FuzzInput): Promise<'ok' | 'restart'> =>
      new Promise((resolve) => {
        let current: TargetName = o.targets[0]!;
        let left = o.targets.length;
        let timer: NodeJS.Timeout | undefined;
        const finish = (how: 'ok' | 'restart'): void => {
          clearTimeout(timer);
          c.removeListener('message', onMessage);
          c.removeListener('exit', onExit);
          resolve(how);
        };
        const onExit = (code: number | null, signal: string | null): void => {
          fail(input, current, 'crash', `the process died (exit ${code}, signal ${signal}) while running it`);
          finish('restart');
        };
        const onMessage = (m: FromWorker): void => {
          if (m.type === 'start') {
            current = m.target;
            result.targets[m.target]!.inputs++;
            timer = setTimeout(() => {
              c.removeListener('exit', onExit);
              c.kill('SIGKILL');
              fail(input, current, 'timeout', `did not finish within ${o.timeoutMs} ms`);
              finish('restart');
            }, o.timeoutMs);
          } else if (m.type === 'done') {
            clearTimeout(timer);
            record(input, m.run);
            result.peakRssMb = Math.max(result.peakRssMb, m.peakRssMb);
            if (m.rssMb > o.maxRssMb) {
              fail(input, m.run.target, 'memory', `the process grew to ${m.rssMb.toFixed(0)} MB RSS (limit ${o.maxRssMb} MB)`);
              c.kill('SIGKILL');
              c.removeListener('exit', onExit);
              finish('restart');
            } else if (--left === 0) finish('ok');
          }
        };
        c.on('message', onMessage);
        c.on('exit', onExit);
        const msg: ToWorker = { type: 'input', index: input.index, bytes: input.bytes, targets: o.targets };
        c.send(msg);
      });

    try {
      while (next < start + o.count && !o.signal?.aborted) {
        const input = inputAt(next++, o.seed, o.seeds, bomb);
        result.strategies[input.strategy] = (result.strategies[input.strategy] ?? 0) + 1;
        child ??= await spawn();
        if ((await runOne(child, input)) === 'restart') {
          child.kill('SIGKILL');
          child = undefined;
          result.childRestarts++;
        }
        o.progress?.(++finished, o.count, result);
      }
    } finally {
      child?.disconnect();
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, lane));
  result.count = finished;
  result.seconds = (Date.now() - started) / 1000;
  result.failures.sort((a, b) => a.index - b.index);
  return result;
}
