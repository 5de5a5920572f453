/**
 * OneSeal as an operator runs it: `oneseal …` in a child process with only the environment given,
 * against a data dir `oneseal init` prepared. For tests that kill, restart or slow down the server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NODE_ENV_VARS, NODE_FLAGS } from '../../src/node-flags.js';
import { repoRoot } from './pdfs.js';

const BIN = path.join(repoRoot, 'bin/oneseal');

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** The signal or exit code the process ended with. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** What it wrote to stderr so far (the JSON logs of warnings and errors). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs `oneseal <args>` to completion; throws with its stderr unless it exits 0. Returns stdout. */
export function runOneseal(env: NodeJS.ProcessEnv, args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`oneseal ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Starts `oneseal serve --json` (with node's flags and environment, as bin/oneseal's #! line gives them) and resolves with its URL once it listens. */
export async function serveChild(env: NodeJS.ProcessEnv): Promise<ChildServer> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--json'], { env: { ...NODE_ENV_VARS, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    // `--json` prints {"url": …} (pretty-printed) once the server listens
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /"url":\s*"([^"]+)"/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then((how) => reject(new Error(`oneseal serve exited (${how}) before listening: ${stderr}`)));
  });
  return {
    url,
    child,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
