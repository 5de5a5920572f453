/**
 * The stamp API over loopback at concurrency 8, beside the in-process stamping figure from the same
 * run: the difference is what HTTP, authentication, idempotency and recording cost.
 */
import { requestChange } from '../src/access/two-person.js';
import { startServer } from '../src/main.js';
import { measure } from './measure.js';
import type { BenchContext } from './run.js';

export async function httpSection(ctx: BenchContext): Promise<void> {
  const server = await startServer(ctx.services.config);
  try {
    // Generous per-client limits: the benchmark measures throughput, not the rate limiter.
    // The benchmark sets itself up as the PIN holder would (break-glass), outside the policy.
    const added = await requestChange(ctx.services, { kind: 'break-glass', osUser: 'bench' }, 'client.create', { name: 'bench', seals: ['approval'] });
    const client = { key: String(added.executed && added.result.key) };
    const letter = ctx.docs[0]!.bytes;
    const url = `${server.url}/v1/stamps?seal=approval&page=1&x=150&y=60&level=B-B`;
    const post = async () => {
      const res = await fetch(url, { method: 'POST', body: letter, headers: { 'Content-Type': 'application/pdf', Authorization: `Bearer ${client.key}` } });
      if (res.status !== 200) throw new Error(`POST /v1/stamps answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    const inProcess = await measure('stamp 1 page B-B RSA-2048 in-process (beside HTTP)', { ops: ctx.n(400), concurrency: 8 }, () =>
      ctx.services.stamper.stamp(letter, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 150, y: 60 }, level: 'B-B' }),
    );
    const http = await measure('POST /v1/stamps 1 page B-B over loopback (auth, record, audit)', { ops: ctx.n(400), concurrency: 8 }, post);
    ctx.rows.push(inProcess, http);
    http.notes = { ofInProcess: http.perSecond / inProcess.perSecond };
  } finally {
    await server.close();
  }
}
