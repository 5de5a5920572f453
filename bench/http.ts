/**
 * POST /v1/stamps over loopback, for the stamping section: `oneseal serve` in its own process (its
 * worker threads, its event loop, its group commit), a keep-alive client here. Beside the in-process
 * figure of the same run, the difference is what HTTP, authentication and durable recording cost.
 */
import { requestChange } from '../src/access/two-person.js';
import { closeAgents, cpuSeconds, freePort, RepeatedRequest, send, startServerProcess } from './http-client.js';
import { keepBusyUpTo } from './measure.js';
import type { BenchContext } from './run.js';

/**
 * Stamps the server makes before its figures are taken (at most twenty warm-up periods on a machine too
 * slow for that). Each of its isolates (the event loop and each worker) optimises its code over
 * its own share of the traffic, and with one V8 helper thread (src/node-flags.ts) their compilations
 * queue behind each other: in 6 s windows at c=8 from its start, one server (six workers) made 273–307 stamps/s in
 * its 7th to 24th second (~4000 stamps, the warm-up used before) and 329–342/s from its 37th on, when
 * that thread had little left to compile. The figures are those of a server that has been up a while.
 */
const SERVER_WARMUP_STAMPS = 12_000;

export interface StampApi {
  /** One one-page B-B stamp with the `approval` seal; throws unless answered 200. */
  post(): Promise<void>;
  /**
   * From the server's /metrics, so far: its group commits and the stamps they made durable, and the
   * seconds its stamp requests spent signing and committing (oneseal_stamp_stage_seconds).
   */
  commits(): Promise<{ commits: number; stamps: number; signSeconds: number; commitSeconds: number }>;
  /** CPU the server process used so far (s): all its threads, and its main thread. */
  cpuSeconds(): { all: number; main: number };
  close(): void;
}

function sample(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

export async function startStampApi(ctx: BenchContext): Promise<StampApi> {
  // The benchmark sets itself up as the PIN holder would (break-glass), outside the policy.
  const added = await requestChange(ctx.services, { kind: 'break-glass', osUser: 'bench' }, 'client.create', { name: 'bench', seals: ['approval'] });
  const key = String(added.executed && added.result.key);
  const port = await freePort();
  const server = await startServerProcess({ ...ctx.env, ONESEAL_PORT: String(port) }, port);
  const stamp = new RepeatedRequest(port, {
    method: 'POST',
    path: '/v1/stamps?seal=approval&page=1&x=150&y=60&level=B-B',
    headers: { 'Content-Type': 'application/pdf', Authorization: `Bearer ${key}` },
    body: ctx.docs[0]!.bytes,
  });
  const api: StampApi = {
    async post() {
      const r = await stamp.send();
      if (r.status !== 200) throw new Error(`POST /v1/stamps answered ${r.status}: ${r.body.toString('utf8')}`);
    },
    async commits() {
      const r = await send(port, { method: 'GET', path: '/metrics' });
      const text = r.body.toString('utf8');
      return {
        commits: sample(text, 'oneseal_stamp_commit_size_count'),
        stamps: sample(text, 'oneseal_stamp_commit_size_sum'),
        signSeconds: sample(text, 'oneseal_stamp_stage_seconds_sum{stage="sign"}'),
        commitSeconds: sample(text, 'oneseal_stamp_stage_seconds_sum{stage="commit"}'),
      };
    },
    cpuSeconds: () => cpuSeconds(server.pid!),
    close() {
      stamp.close();
      closeAgents();
      server.kill('SIGTERM');
    },
  };
  await keepBusyUpTo(ctx.n(SERVER_WARMUP_STAMPS), 8, ctx.warmupSeconds * 20, api.post);
  return api;
}
