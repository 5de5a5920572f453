/**
 * Signing lanes (src/hsm/lanes.ts): the shared table's rules on their own, then the server's PDF
 * workers signing on them through a real SoftHSM token — what they sign verifies, and sessions ended
 * underneath them (as a failover or reconnect does) neither crash the process nor lose a stamp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningLanes } from '../src/hsm/lanes.js';
import { bearer, call } from './support/api-client.js';
import { LETTER, postStamp, scrape, waitFor } from './support/ops.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { opensslCmsVerify, signaturesIn } from './support/validators.js';

const session = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);

/** Three lanes with sessions 11, 12, 13 and the gate open, as the Hsm leaves them after connecting. */
function openLanes(count = 3): SigningLanes {
  const lanes = SigningLanes.create(count);
  let next = 11;
  lanes.mend(() => session(next++), () => undefined);
  lanes.openGate();
  return lanes;
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  // a promise already resolved has run its reactions after one turn of the microtask queue and a macrotask
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('the lane table', () => {
  it('hands out each lane once, with its session, and refuses once all are taken', () => {
    const lanes = openLanes();
    const g = lanes.generation;
    const taken = [lanes.take(g, 5, 1), lanes.take(g, 6, 2), lanes.take(g, 7, 3)];
    expect(taken.map((t) => t?.lane)).toEqual([0, 1, 2]);
    expect(taken.map((t) => t!.session.readBigUInt64LE(0))).toEqual([11n, 12n, 13n]);
    expect(lanes.take(g, 8, 4)).toBeUndefined();
    lanes.release(1, { failed: false });
    expect(lanes.take(g, 8, 4)?.lane).toBe(1);
    expect(lanes.stats).toEqual({ size: 3, taken: 3, free: 0, signed: 1 });
  });

  it('refuses a ticket of an earlier generation (a key handle read before a reset) and any ticket while the gate is shut', async () => {
    const lanes = openLanes();
    const before = lanes.generation;
    lanes.invalidateTickets();
    expect(lanes.take(before, 5, 1)).toBeUndefined();
    expect(lanes.stats.taken).toBe(0); // the refused take left the lane free
    await lanes.closeGate();
    expect(lanes.take(lanes.generation, 5, 1)).toBeUndefined();
    lanes.openGate();
    expect(lanes.take(lanes.generation, 5, 1)?.lane).toBe(0);
  });

  it('closing the gate waits for every lane inside the module, and no lane is taken after it', async () => {
    const lanes = openLanes();
    const g = lanes.generation;
    const a = lanes.take(g, 5, 1)!;
    const b = lanes.take(g, 6, 2)!;
    const closed = lanes.closeGate();
    expect(await settled(closed)).toBe(false);
    lanes.release(a.lane, { failed: false });
    expect(await settled(closed)).toBe(false);
    expect(lanes.take(g, 7, 3)).toBeUndefined(); // a worker arriving now stays out
    lanes.release(b.lane, { failed: true });
    expect(await settled(closed)).toBe(true);
    expect(lanes.stats.taken).toBe(0);
  });

  it('gives a failed lane a new session, closing the old one; sessions ended by the module are not closed again', () => {
    const lanes = openLanes();
    const taken = lanes.take(lanes.generation, 5, 1)!;
    lanes.release(taken.lane, { failed: true });
    expect(lanes.needsMending).toBe(true);
    const closed: bigint[] = [];
    expect(lanes.mend(() => session(21), (s) => closed.push(s.readBigUInt64LE(0)))).toEqual({ hadBroken: true });
    expect(closed).toEqual([11n]);
    expect(lanes.take(lanes.generation, 5, 2)!.session.readBigUInt64LE(0)).toBe(21n);

    lanes.forgetSessions();
    closed.length = 0;
    let next = 31;
    expect(lanes.mend(() => session(next++), (s) => closed.push(s.readBigUInt64LE(0)))).toEqual({ hadBroken: false });
    expect(closed).toEqual([]); // a handle the module ended may already name another session
    expect(lanes.stats).toMatchObject({ free: 3, taken: 0 });
  });

  it('takes back the lanes of a thread that ended inside the module, and only those', () => {
    const lanes = openLanes();
    const g = lanes.generation;
    lanes.take(g, 5, 1);
    lanes.take(g, 6, 2);
    lanes.reclaimFrom(5);
    expect(lanes.stats).toMatchObject({ taken: 1, free: 1 });
    expect(lanes.needsMending).toBe(true);
    expect(lanes.longestCallMs()).toBeGreaterThanOrEqual(0);
    lanes.reclaimFrom(5); // nothing more of thread 5's
    expect(lanes.stats.taken).toBe(1);
  });

  it('names the calls held past the time-out', () => {
    const lanes = openLanes();
    const g = lanes.generation;
    const now = Date.now();
    lanes.take(g, 5, 41);
    lanes.take(g, 6, 42);
    expect(lanes.overdue(1000, now)).toEqual([]);
    expect(lanes.overdue(1000, now + 5000)).toEqual([41, 42]);
    lanes.release(0, { failed: false });
    expect(lanes.overdue(1000, now + 5000)).toEqual([42]);
  });
});

describe('the server\'s PDF workers sign on lanes', () => {
  let stack: Stack;
  let key: string;
  let url: string;
  const laneSignatures = async () => (await scrape(url)).get('oneseal_hsm_lanes{state="signed"}') ?? 0;

  beforeAll(async () => {
    stack = await openStack();
    url = stack.server.url;
    const added = await stack.cli(['client', 'add', '--name', 'lanes', '--seals', 'approval', '--break-glass', '--json']);
    key = (JSON.parse(added.out) as { key: string }).key;
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('makes stamps that verify, their signatures made on lanes and counted in the HSM latency metric', async () => {
    // the first signature with a key goes through the event loop, which looks the key up and caches it
    expect((await postStamp(url, key, LETTER())).status).toBe(200);
    const before = await scrape(url);
    const answers = await Promise.all(Array.from({ length: 8 }, () => postStamp(url, key, LETTER())));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    const after = await scrape(url);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('oneseal_hsm_lanes{state="signed"}')).toBe(8);
    // B-T (the API's default): beside each seal signature on a lane, a time-stamp token signed on the event loop
    expect(delta('oneseal_hsm_sign_seconds_count{outcome="ok"}')).toBe(16);
    const pdf = Buffer.from(await answers[3]!.arrayBuffer());
    const report = await stack.services.verifier.verify(pdf);
    expect(report.verdict).toBe('valid');
    const [sig] = signaturesIn(pdf);
    const openssl = opensslCmsVerify(stack.trust, sig!);
    expect(openssl.status, openssl.out).toBe(0);
  }, 120_000);

  it('loses no stamp and crashes nothing when every session, lanes included, is ended underneath stamps in flight', async () => {
    const { hsm } = stack.services;
    const before = await laneSignatures();
    let answered = 0;
    const requests = Array.from({ length: 12 }, () => postStamp(url, key, LETTER()).finally(() => answered++));
    await waitFor(() => hsm.stats.lanes.taken > 0 || answered === requests.length);
    await hsm.closeAllSessionsUnderneath();
    await waitFor(() => hsm.stats.lanes.taken > 0 || hsm.stats.pool.inUse > 0 || answered === requests.length);
    await hsm.closeAllSessionsUnderneath();
    const answers = await Promise.all(requests.map(async (r) => {
      const res = await r;
      return res.status === 200 ? 200 : `${res.status} ${await res.text()}`;
    }));
    expect(answers).toEqual(Array(12).fill(200));
    // the lanes got new sessions: stamps are signed on them again
    const again = await laneSignatures();
    expect((await postStamp(url, key, LETTER())).status).toBe(200);
    expect(await laneSignatures()).toBe(again + 1);
    expect(again).toBeGreaterThanOrEqual(before);
    expect((await call(`${url}/healthz`, { headers: bearer(key) })).status).toBe(200);
  }, 120_000);
});
