/**
 * A plain keep-alive HTTP client and a child-process server for the load test and benchmarks: the
 * server runs in its own process so the load generator does not share its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
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
  // With a timeout of its own, node's agent also takes the server's `Keep-Alive: timeout=5` hint and
  // closes an idle connection a second before the server does; without one it ignores the hint, and a
  // request sent just as the server closed an idle connection failed with ECONNRESET (one GET in
  // 9,000 at `npm run load`'s base rate, enough to call the rate not sustained).
  if (!agent) agents.set(localAddress, (agent = new http.Agent({ keepAlive: true, maxSockets: 256, localAddress, timeout: REQUEST_TIMEOUT_MS })));
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

/**
 * One request, written out once and sent again and again over keep-alive connections of its own: for
 * figures of the server's throughput on a machine whose two cores the load generator shares. Node's
 * http client spent 0.4–0.9 ms of CPU per POST /v1/stamps (a 38 KB upload, a 53 KB answer), an eighth
 * of what the server spent; here the request is one write and the answer is read by its
 * Content-Length. Only for answers with one (koa gives every buffered body one); a chunked answer is
 * refused.
 */
export class RepeatedRequest {
  private readonly bytes: Buffer;
  /** Connections waiting for the next request, and since when (performance.now()). */
  private readonly idle: { socket: Socket; since: number }[] = [];
  private readonly open = new Set<Socket>();

  constructor(private readonly port: number, r: Omit<RawRequest, 'localAddress'>) {
    const body = r.body ?? Buffer.alloc(0);
    const headers = { Host: `${HOST}:${port}`, ...r.headers, 'Content-Length': String(body.length) };
    const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    this.bytes = Buffer.concat([Buffer.from(head, 'latin1'), body]);
  }

  /** Sends the request on an idle connection (a new one when all are busy); resolves to the answer. */
  async send(): Promise<{ status: number; body: Buffer }> {
    const socket = this.reusable() ?? (await this.connect());
    const answer = await readAnswer(socket, this.bytes);
    this.idle.push({ socket, since: performance.now() });
    return answer;
  }

  close(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
    this.idle.length = 0;
  }

  /**
   * The most recently used idle connection, unless it has been idle so long that the server may be
   * closing it (its keep-alive time-out, 5 s by default) just as the request goes out: such ones are
   * closed here instead, so a request never races the server's close.
   */
  private reusable(): Socket | undefined {
    const now = performance.now();
    for (let idle = this.idle.pop(); idle; idle = this.idle.pop()) {
      if (now - idle.since < IDLE_REUSE_MS) return idle.socket;
      idle.socket.destroy();
    }
    return undefined;
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, HOST, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.setNoDelay(true);
      socket.once('error', reject);
      this.open.add(socket);
      socket.once('close', () => {
        this.open.delete(socket);
        const i = this.idle.findIndex((idle) => idle.socket === socket);
        if (i >= 0) this.idle.splice(i, 1);
      });
    });
  }
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Well below the server's keep-alive time-out (ONESEAL_KEEPALIVE_TIMEOUT_SECONDS, 5 by default). */
const IDLE_REUSE_MS = 2000;

/** Writes `request` and reads one answer (status line, headers, Content-Length bytes) from the socket. */
function readAnswer(socket: Socket, request: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let head: { status: number; length: number; bodyStart: number } | undefined;
    const done = (e?: Error, answer?: { status: number; body: Buffer }) => {
      socket.off('data', onData).off('error', onError).off('close', onClose);
      clearTimeout(timer);
      if (e) {
        socket.destroy();
        reject(e);
      } else resolve(answer!);
    };
    const onError = (e: Error) => done(e);
    const onClose = () => done(new Error('the server closed the connection before answering'));
    const timer = setTimeout(() => done(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (!head) {
        const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        const end = all.indexOf(HEAD_END);
        if (end < 0) return;
        const lines = all.subarray(0, end).toString('latin1').split('\r\n');
        const length = lines.find((l) => /^content-length:/i.test(l));
        if (!length) return done(new Error(`an answer without Content-Length: ${lines[0]}`));
        head = { status: Number(lines[0]!.split(' ')[1]), length: Number(length.slice(length.indexOf(':') + 1)), bodyStart: end + HEAD_END.length };
        chunks.splice(0, chunks.length, all);
      }
      if (received >= head.bodyStart + head.length) {
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        done(undefined, { status: head.status, body: all.subarray(head.bodyStart, head.bodyStart + head.length) });
      }
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write(request);
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
