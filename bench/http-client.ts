/**
 * A plain keep-alive HTTP client and a child-process server for the load test and benchmarks: the
 * server runs in its own process so the load generator does not share its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NODE_ENV_VARS, NODE_FLAGS } from '../src/node-flags.js';
import { findPackageRoot } from '../src/package-root.js';

const HOST = '127.0.0.1';
const REQUEST_TIMEOUT_MS = 30_000;

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Source address (127.0.0.x), so per-address rate limits see several clients. */
  localAddress?: string;
}

const agents = new Map<string, http.Agent>();
const agentFor = (localAddress = HOST) => {
  let agent = agents.get(localAddress);
  if (!agent) agents.set(localAddress, (agent = new http.Agent({ keepAlive: true, maxSockets: 256, localAddress })));
  return agent;
};

/** Closes the keep-alive connections, so the process can exit. */
export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export function send(port: number, r: RawRequest): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, method: r.method, path: r.path, headers: r.headers, agent: agentFor(r.localAddress), timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * `oneseal serve` on the prepared data dir, with node's flags as bin/oneseal gives them; resolves once
 * /healthz answers 200 (bounded). `nodeArgs`: more options for node (e.g. --cpu-prof, which
 * NODE_OPTIONS does not take).
 */
export async function startServerProcess(env: Record<string, string>, port: number, nodeArgs: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, join(findPackageRoot(), 'bin', 'oneseal'), 'serve'], { env: { ...process.env, ...NODE_ENV_VARS, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`oneseal serve exited with ${code} before answering /healthz`);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await Promise.race([send(port, { method: 'GET', path: '/healthz' }).then((r) => r.status === 200, () => false), exited]);
    if (ready) return child;
    if (Date.now() > deadline) throw new Error('oneseal serve did not answer /healthz within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * CPU time so far (user + system) in seconds from /proc (Linux): the whole process, threads that
 * ended included, and its main (event loop) thread.
 */
export function cpuSeconds(pid: number): { all: number; main: number } {
  const read = (file: string) => {
    const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  };
  return { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}
