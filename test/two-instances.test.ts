/**
 * Issue 8, scale out: two OneSeal instances on one PostgreSQL schema and one SoftHSM token (one data
 * dir, two ports), as behind a load balancer. A rotation made through one is used by the other within
 * 5 s without a failed request; an Idempotency-Key holds across them; a due policy rotation happens
 * once however many schedulers see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DEFAULT_SEAL_ID } from '../src/init.js';
import { startServer, type RunningServer } from '../src/main.js';
import { runDueRotations } from '../src/seals/scheduler.js';
import { listSealVersions } from '../src/store/seals.js';
import { personWithSession } from './support/people.js';
import { addClient, bearer, call, countRows, type Reply } from './support/api-client.js';
import { PG_URL, pgTestDatabase, probePostgres, type TestDatabase } from './support/databases.js';
import { makePdf } from './support/pdfs.js';
import { openStack, type Stack } from './support/stamp-stack.js';

/** The promise: a rotation on one instance reaches every other within this (stamper caches material 2 s). */
const PROPAGATION_MS = 5000;

const probe = await probePostgres();

describe.skipIf(!probe.ok)(`two instances on one PostgreSQL schema${probe.ok ? '' : ` (skipped: ${probe.reason})`}`, () => {
  let database: TestDatabase;
  let a: Stack;
  let b: RunningServer;
  let admin: { key: string };
  let client: { key: string };
  let pdf: Uint8Array;

  beforeAll(async () => {
    database = pgTestDatabase();
    const url = new URL(PG_URL);
    if (database.database.client === 'pg' && database.database.schema) url.searchParams.set('schema', database.database.schema);
    const limits = { ONESEAL_RATE_LIMIT_PER_SECOND: '100000', ONESEAL_RATE_LIMIT_BURST: '100000' };
    // A is a whole stack (init, token, CA); B is a second server over A's data dir (token store) and schema.
    a = await openStack({ ONESEAL_DATABASE_URL: url.href, ...limits });
    b = await startServer(loadConfig({ ...a.env, ONESEAL_PORT: '0' }));
    admin = await personWithSession(a, 'ops', ['seal-admin']);
    client = await addClient(a, 'approvals', [DEFAULT_SEAL_ID]);
    pdf = await makePdf({ pages: 1 });
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database?.cleanup();
  });

  const stampOn = (base: string, headers: Record<string, string> = {}): Promise<Reply> =>
    call(`${base}/v1/stamps?seal=${DEFAULT_SEAL_ID}&page=1&x=150&y=60&level=B-B`, {
      method: 'POST',
      headers: bearer(client.key, { 'Content-Type': 'application/pdf', ...headers }),
      body: pdf,
    });

  it('are two servers on distinct ports over the same database', () => {
    expect(b.url).not.toBe(a.server.url);
    expect(a.services.config.database).toEqual(b.services.config.database);
    expect(b.services.config.database.client).toBe('pg');
  });

  it(`uses a seal rotated through A on B within ${PROPAGATION_MS / 1000} s, with no failed request on B`, async () => {
    const serials = async () => new Map((await listSealVersions(a.services.store.db, DEFAULT_SEAL_ID)).map((v) => [v.version, v.certSerial]));
    const stamps: { startedAt: number; status: number; version?: number; certSerial?: string; error?: string }[] = [];
    const stampAndLookUp = async () => {
      const startedAt = performance.now();
      const r = await stampOn(b.url);
      if (r.status !== 200) return stamps.push({ startedAt, status: r.status, error: r.bytes.toString() });
      const view = await call(`${b.url}/v1/stamps/${r.headers.get('stamp-id')}`, { headers: bearer(client.key) });
      const seal = view.json<{ seal: { version: number; certSerial: string } }>().seal;
      stamps.push({ startedAt, status: view.status, version: seal.version, certSerial: seal.certSerial });
    };

    // B has signed (and cached the material of) the current version before A rotates.
    await stampAndLookUp();
    const before = stamps[0]!.version!;
    let rotatedAt = Infinity;
    const rotation = call(`${a.server.url}/v1/admin/seals/${DEFAULT_SEAL_ID}/rotate`, { method: 'POST', headers: bearer(admin.key) }).then((r) => {
      rotatedAt = performance.now();
      return r;
    });
    // Two clients stamp on B continuously until stamps started a second after the promised window have answered.
    await Promise.all([0, 1].map(async () => {
      while (!(performance.now() > rotatedAt + PROPAGATION_MS + 1000)) await stampAndLookUp();
    }));
    const rotated = await rotation;
    expect(rotated.status, rotated.bytes.toString()).toBe(200);
    const after = rotated.json<{ result: { version: { version: number } } }>().result.version.version;
    expect(after).toBe(before + 1);

    expect(stamps.filter((s) => s.status !== 200)).toEqual([]);
    const serial = await serials();
    for (const s of stamps) expect(s.certSerial).toBe(serial.get(s.version!));
    const late = stamps.filter((s) => s.startedAt >= rotatedAt + PROPAGATION_MS);
    expect(late.length).toBeGreaterThan(0);
    expect(new Set(late.map((s) => s.version))).toEqual(new Set([after]));
    const firstNew = Math.min(...stamps.filter((s) => s.version === after).map((s) => s.startedAt));
    console.log(`B: ${stamps.length} stamps; first on version ${after} started ${Math.max(0, firstNew - rotatedAt).toFixed(0)} ms after the rotation answered`);
  }, 90_000);

  it('holds one Idempotency-Key across instances: concurrent repeats on A and B make one stamp, byte-identical', async () => {
    const rounds = 5;
    const before = await countRows(a, 'stamps');
    for (let i = 0; i < rounds; i++) {
      const key = `two-instances-${i}-${Date.now()}`;
      const [onA, onB] = await Promise.all([stampOn(a.server.url, { 'Idempotency-Key': key }), stampOn(b.url, { 'Idempotency-Key': key })]);
      expect([onA.status, onB.status], `${onA.bytes.toString().slice(0, 300)} | ${onB.bytes.toString().slice(0, 300)}`).toEqual([200, 200]);
      expect(onA.headers.get('stamp-id')).toBe(onB.headers.get('stamp-id'));
      expect(onA.bytes.equals(onB.bytes)).toBe(true);
      // Exactly one of them did the work; the other replayed its result.
      expect([onA.headers.get('idempotent-replayed'), onB.headers.get('idempotent-replayed')].filter((h) => h === 'true')).toHaveLength(1);
    }
    expect(await countRows(a, 'stamps')).toBe(before + rounds);
  }, 90_000);

  it('rotates a due seal once when both instances’ schedulers run at the same moment', async () => {
    const policy = await call(`${a.server.url}/v1/admin/seals/${DEFAULT_SEAL_ID}/rotation-policy`, {
      method: 'PUT',
      headers: bearer(admin.key, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ rotationPolicy: { afterSignatures: 1 } }),
    });
    expect(policy.status, policy.bytes.toString()).toBe(200);
    const versions = (await listSealVersions(a.services.store.db, DEFAULT_SEAL_ID)).length;
    const now = new Date();

    const runs = await Promise.all([runDueRotations(a.services, now), runDueRotations(b.services, now), runDueRotations(a.services, now), runDueRotations(b.services, now)]);
    expect(runs.flatMap((r) => r.failed)).toEqual([]);
    expect(runs.flatMap((r) => r.rotated).map((r) => r.sealId)).toEqual([DEFAULT_SEAL_ID]);
    expect((await listSealVersions(a.services.store.db, DEFAULT_SEAL_ID)).length).toBe(versions + 1);
    const audit = await a.services.store.db('audit_log').where({ action: 'seal.rotate', actor: 'system:scheduler (policy approved by person:ops)' }).count({ n: '*' });
    expect(Number((audit[0] as { n: number | string }).n)).toBe(1);

    // The new version has no signature yet: not due, so another round on both rotates nothing.
    const again = await Promise.all([runDueRotations(a.services), runDueRotations(b.services)]);
    expect(again.flatMap((r) => r.rotated)).toEqual([]);
  }, 90_000);
});
