/**
 * Licences issued per second (render, seal, certify at B-LT) in-process, and the public QR page
 * `/v/{id}` over loopback against a server in its own process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueLicence, licenceDeps } from '../src/licences/service.js';
import { findPackageRoot } from '../src/package-root.js';
import { creditCodeCheckChar } from '../src/standards/credit-code.js';
import { closeAgents, freePort, send, startServerProcess } from './http-client.js';
import { measure } from './measure.js';
import type { BenchContext } from './run.js';

export async function licenceSection(ctx: BenchContext): Promise<void> {
  const deps = licenceDeps(ctx.services);
  const data = JSON.parse(readFileSync(join(findPackageRoot(), 'fixtures', 'licences', 'business-licence.json'), 'utf8'));
  // A new holder each time: one current business licence per credit code (the duplicate check).
  let holder = 0;
  const issue = () => {
    const body = `91110000${String(100_000_000 + holder++).slice(-9)}`;
    return issueLicence(deps, { type: 'business-licence', data: { ...data, unifiedSocialCreditCode: body + creditCodeCheckChar(body) } }, 'bench');
  };
  const { id } = await issue();
  const issued = await measure('issue business licence (render, seal, certify B-LT)', { ops: ctx.n(200), concurrency: 4, warmup: 2 }, issue);
  ctx.rows.push(issued);
  ctx.targets.push({ description: 'licence issuance per second', actual: issued.perSecond, required: 50, kind: 'min' });

  const port = await freePort();
  const server = await startServerProcess({ ...ctx.env, ONESEAL_PORT: String(port) }, port);
  try {
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
