/**
 * Licences issued per second (render, seal, certify at B-LT) and the public QR page `/v/{id}`, both over
 * loopback against `oneseal serve` in its own process: issuing is what a deployment does through
 * POST /v1/licences, where the PDF work of each licence (rendering, QR code, seal) runs in the server's
 * worker threads and the main thread keeps the HSM and the database.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestChange } from '../src/access/two-person.js';
import { findPackageRoot } from '../src/package-root.js';
import { creditCodeCheckChar } from '../src/standards/credit-code.js';
import { closeAgents, freePort, send, startServerProcess } from './http-client.js';
import { keepBusyUpTo, measure } from './measure.js';
import type { BenchContext } from './run.js';

/**
 * Licences the server issues before its figures are taken (at most ten warm-up periods), for the
 * reason bench/http.ts gives: a server warmed for 3 s was measured while its workers' code was still
 * being optimised (two such servers side by side, warmed for 8 s: 55–71 licences/s at c=4; the 3 s
 * figure moved between 42 and 60).
 */
const SERVER_WARMUP_LICENCES = 1000;

export async function licenceSection(ctx: BenchContext): Promise<void> {
  // The benchmark sets itself up as the PIN holder would (break-glass), outside the policy.
  const added = await requestChange(ctx.services, { kind: 'break-glass', osUser: 'bench' }, 'client.create',
    { name: 'bench-licences', seals: ['approval'], scopes: ['licences'], licenceTypes: ['business-licence'] });
  const key = String(added.executed && added.result.key);
  const data = JSON.parse(readFileSync(join(findPackageRoot(), 'fixtures', 'licences', 'business-licence.json'), 'utf8'));
  const port = await freePort();
  const server = await startServerProcess({ ...ctx.env, ONESEAL_PORT: String(port) }, port);
  try {
    // A new holder each time: one current business licence per credit code (the duplicate check).
    let holder = 0;
    const issue = async (): Promise<string> => {
      const body = `91110000${String(100_000_000 + holder++).slice(-9)}`;
      const r = await send(port, {
        method: 'POST',
        path: '/v1/licences',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: Buffer.from(JSON.stringify({ type: 'business-licence', data: { ...data, unifiedSocialCreditCode: body + creditCodeCheckChar(body) } })),
      });
      if (r.status !== 201) throw new Error(`POST /v1/licences answered ${r.status}: ${r.body.toString('utf8')}`);
      return (JSON.parse(r.body.toString('utf8')) as { id: string }).id;
    };
    const id = await issue();
    await keepBusyUpTo(ctx.n(SERVER_WARMUP_LICENCES), 4, ctx.warmupSeconds * 10, issue);
    const issued = await measure('POST /v1/licences business licence (render, seal, certify B-LT) over loopback', { ops: ctx.n(200), concurrency: 4 }, issue);
    ctx.rows.push(issued);
    ctx.targets.push({ description: 'licence issuance per second', actual: issued.perSecond, required: 50, kind: 'min' });

    const path = `/v/${encodeURIComponent(id)}`;
    const page = await measure('GET /v/{id} status page over loopback (server in its own process)', { ops: ctx.n(20000, 200), concurrency: 32, warmup: 50 }, async () => {
      const r = await send(port, { method: 'GET', path });
      if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
    });
    ctx.rows.push(page);
    ctx.targets.push({ description: 'GET /v/{id} requests/s', actual: page.perSecond, required: 3000, kind: 'min' });
    ctx.targets.push({ description: 'GET /v/{id} p99 ms', actual: page.p99ms, required: 50, kind: 'max' });
  } finally {
    closeAgents();
    server.kill('SIGTERM');
  }
}
