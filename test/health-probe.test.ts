/**
 * /healthz probes the HSM and the database at most once per interval and answers from that probe in
 * between (monitors and balancers poll it; under load each probe costs an HSM session).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { openStore, type Store } from '../src/store/db.js';
import { sqliteTestDatabase, type TestDatabase } from './support/databases.js';
import { openTestHsm, type TestToken } from './support/token.js';

let token: TestToken;
let tdb: TestDatabase;
let store: Store;
const servers: Server[] = [];

beforeAll(async () => {
  token = await openTestHsm({ poolSize: 2 });
  tdb = sqliteTestDatabase();
  store = await openStore({ database: tdb.database });
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await store?.close();
  await token?.close();
  await tdb?.cleanup();
});

/** The app on a real port, with the real HSM behind a counter of its health probes (held while `hold` is pending). */
async function serve(healthProbeIntervalMs: number, hold?: () => Promise<void>): Promise<{ base: string; probes: () => number }> {
  let probes = 0;
  const hsm = { health: async () => { probes++; await hold?.(); return token.hsm.health(); } };
  const server = createApp({ db: store.db, hsm, healthProbeIntervalMs }).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, probes: () => probes };
}

describe('/healthz probing', () => {
  it('answers many requests, concurrent and one after another, from one probe within its interval', async () => {
    const app = await serve(60_000);
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => fetch(`${app.base}/healthz`)));
    for (let i = 0; i < 10; i++) concurrent.push(await fetch(`${app.base}/healthz`));
    expect(concurrent.map((r) => r.status)).toEqual(Array(30).fill(200));
    const bodies = await Promise.all(concurrent.map((r) => r.json() as Promise<{ checks: { hsm: { ok: boolean } } }>));
    expect(bodies.every((b) => b.checks.hsm.ok)).toBe(true);
    expect(app.probes()).toBe(1);
  });

  it('past half the interval, answers from the finished probe at once while the next one runs in the background', async () => {
    let release!: () => void;
    let held: Promise<void> = Promise.resolve();
    const app = await serve(4000, () => held);
    expect((await fetch(`${app.base}/healthz`)).status).toBe(200);
    held = new Promise((r) => (release = r));
    await new Promise((r) => setTimeout(r, 2100)); // the time that must pass: half the interval (the rest is slack for a busy machine)
    // The probe it starts cannot finish before `release`: this answer is the first probe's.
    const answered = await fetch(`${app.base}/healthz`);
    expect(answered.status).toBe(200);
    expect(app.probes()).toBe(2);
    release();
  });

  it('probes again once the interval has passed (0: every request)', async () => {
    const app = await serve(0);
    for (let i = 0; i < 3; i++) expect((await fetch(`${app.base}/healthz`)).status).toBe(200);
    expect(app.probes()).toBe(3);
  });
});
