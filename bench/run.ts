/**
 * `npm run bench`: OneSeal's performance beside its baselines, measured in the same run.
 * Prints a table and the targets, and writes bench/results/latest.json.
 *
 *   node dist/bench/run.js [--quick] [--only=SECTION,…]   --quick: fewer operations (a smoke run)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { initialise } from '../src/init.js';
import { findPackageRoot } from '../src/package-root.js';
import { createSeal, signingMaterial } from '../src/seals/service.js';
import { openServices, type Services } from '../src/services.js';
import type { StampRequest } from '../src/stamping/stamper.js';
import { benchDocuments, type BenchDocument } from './documents.js';
import { combineRounds, formatTable, formatTargets, keepBusyUpTo, measure, type Measurement, type Target } from './measure.js';
import { makeP12, signWithSignpdf } from './signpdf-baseline.js';
import { verifySection } from './verify.js';
import { startStampApi } from './http.js';
import { licenceSection } from './licences.js';
import { revocationSection } from './revocation.js';
import { cliSection } from './cli.js';
import { searchSection } from './search.js';

const quick = process.argv.includes('--quick');
/** `--only stamping,verification`: just those sections (stamping, signpdf, large, verification, revocation, licences, cli, search). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const n = (full: number, min = 3) => (quick ? Math.max(min, Math.round(full / 10)) : full);

export interface BenchContext {
  services: Services;
  docs: BenchDocument[];
  dataDir: string;
  env: Record<string, string>;
  rows: Measurement[];
  targets: Target[];
  n: typeof n;
  /** How long a server in its own process is loaded before its figure is taken (its worker threads warm up). */
  warmupSeconds: number;
}

const position = (sealId: string, level: StampRequest['level'] = 'B-B'): StampRequest => ({
  sealId,
  placement: { kind: 'position', page: 1, x: 150, y: 60 },
  level,
});

const SEALS = [['approval', 'RSA-2048'], ['bench-p256', 'P-256']] as const;
type Algorithm = (typeof SEALS)[number][1];

/** What the issue asks of one-page B-B stamps, as fractions of the rate they are compared with. */
const STAMP_TARGETS: Record<Algorithm, number> = { 'RSA-2048': 0.6, 'P-256': 0.25 };
const API_OF_IN_PROCESS = 0.5;
const API_OF_RAW = 0.3;

/** The raw HSM rate, and the CPU (ms) this process spent on it. */
async function rawSign(ctx: BenchContext, sealId: string, label: Algorithm, concurrency: number): Promise<{ m: Measurement; cpuMs: number }> {
  const digest = createHash('sha256').update('bench').digest();
  const { key } = await signingMaterial(ctx.services, sealId);
  const before = process.cpuUsage();
  const m = await measure(`HSM raw sign ${label} (pkcs11js)`, { ops: concurrency, concurrency, seconds: ROUND_SECONDS }, () => key.signDigest('SHA-256', digest));
  return { m, cpuMs: cpuMsSince(before) };
}

/** CPU (ms, all threads) this process used since `before`. */
function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const perAlgorithm = (): Record<Algorithm, number> => ({ 'RSA-2048': 0, 'P-256': 0 });

const ratio = (ctx: BenchContext, description: string, actual: number, required: number) =>
  ctx.targets.push({ description, actual, required, kind: 'min' });

/** In-process stamps of each key type before the ratios are measured (at most 5 warm-up periods each). */
const IN_PROCESS_WARMUP_STAMPS = 10_000;

/** Rounds each figure of the stamping ratios is taken in, in turn with the others. */
const ROUNDS = 3;
/** How long each round of a ratio's figure runs (at least): long enough that ramp-up and drain do not count. */
const ROUND_SECONDS = quick ? 0.1 : 1;

/**
 * At c=8 and c=32, in one run: the raw HSM rate per key type, one-page B-B stamps in-process against
 * it, and POST /v1/stamps over loopback (a server in its own process) against the in-process rate.
 * Each figure is taken in rounds interleaved with the others it is compared with.
 */
async function stampRatios(ctx: BenchContext): Promise<void> {
  const letter = ctx.docs[0]!.bytes;
  const api = await startStampApi(ctx);
  try {
    // The server's figure is taken after a long warm-up (bench/http.ts); the in-process figures get one
    // too, or their first rounds would still run code V8 has not optimised yet.
    for (const [sealId] of SEALS) {
      await keepBusyUpTo(ctx.n(IN_PROCESS_WARMUP_STAMPS), 8, ctx.warmupSeconds * 5, () => ctx.services.stamper.stamp(letter, position(sealId)));
    }
    for (const concurrency of [8, 32]) {
      const rounds = new Map<string, Measurement[]>();
      const take = (key: string, m: Measurement) => rounds.set(key, [...(rounds.get(key) ?? []), m]);
      const commitsBefore = await api.commits();
      // CPU (ms) of this process signing raw, stamping in-process (per key type) and sending POST /v1/stamps, and of the server answering them.
      const cpu = { raw: perAlgorithm(), inProcess: perAlgorithm(), client: 0, server: 0, serverMain: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [sealId, label] of SEALS) {
          const raw = await rawSign(ctx, sealId, label, concurrency);
          take(`raw ${label}`, raw.m);
          cpu.raw[label] += raw.cpuMs;
          const before = process.cpuUsage();
          take(`stamp ${label}`, await measure(`stamp 1 page B-B ${label}`, { ops: concurrency, concurrency, seconds: ROUND_SECONDS }, () =>
            ctx.services.stamper.stamp(letter, position(sealId))));
          cpu.inProcess[label] += cpuMsSince(before);
        }
        const before = api.cpuSeconds();
        const clientBefore = process.cpuUsage();
        take('http', await measure('POST /v1/stamps 1 page B-B RSA-2048 over loopback (auth, record, audit, group commit)',
          { ops: concurrency, concurrency, seconds: ROUND_SECONDS }, api.post));
        cpu.client += cpuMsSince(clientBefore);
        const after = api.cpuSeconds();
        cpu.server += (after.all - before.all) * 1000;
        cpu.serverMain += (after.main - before.main) * 1000;
      }
      const commitsAfter = await api.commits();
      const figure = (key: string) => combineRounds(rounds.get(key)!);
      const raws = {} as Record<Algorithm, Measurement>;
      const inProcess = {} as Record<Algorithm, Measurement>;
      for (const [, label] of SEALS) {
        const raw = (raws[label] = figure(`raw ${label}`));
        raw.notes = { ...raw.notes, cpuMsPerSign: cpu.raw[label] / raw.ops };
        const stamp = (inProcess[label] = figure(`stamp ${label}`));
        stamp.notes = { ...stamp.notes, ofRaw: stamp.perSecond / raw.perSecond, cpuMsPerStamp: cpu.inProcess[label] / stamp.ops };
        ctx.rows.push(raw, stamp);
        ratio(ctx, `in-process 1-page B-B ${label} / raw HSM ${label} (c=${concurrency})`, stamp.perSecond / raw.perSecond, STAMP_TARGETS[label]);
      }
      const http = figure('http');
      const serverStamps = commitsAfter.stamps - commitsBefore.stamps;
      const raw = raws['RSA-2048'];
      http.notes = {
        ...http.notes,
        ofInProcess: http.perSecond / inProcess['RSA-2048'].perSecond,
        ofRaw: http.perSecond / raw.perSecond,
        stampsPerCommit: serverStamps / Math.max(1, commitsAfter.commits - commitsBefore.commits),
        // Where a request's time goes in the server (ms, mean): signing (a worker waited for, PDF work, HSM), then committing.
        serverSignMs: ((commitsAfter.signSeconds - commitsBefore.signSeconds) * 1000) / Math.max(1, serverStamps),
        serverCommitMs: ((commitsAfter.commitSeconds - commitsBefore.commitSeconds) * 1000) / Math.max(1, serverStamps),
        // Where the server's CPU goes per stamp: beside the in-process stamp's, what HTTP and recording add.
        serverCpuMsPerStamp: cpu.server / http.ops,
        serverMainThreadCpuMsPerStamp: cpu.serverMain / http.ops,
        // The load generator shares the two cores: what it took per request (bench/http-client.ts RepeatedRequest).
        clientCpuMsPerStamp: cpu.client / http.ops,
      };
      ctx.rows.push(http);
      ratio(ctx, `POST /v1/stamps / in-process 1-page B-B RSA-2048 (c=${concurrency})`, http.perSecond / inProcess['RSA-2048'].perSecond, API_OF_IN_PROCESS);
      ratio(ctx, `POST /v1/stamps / raw HSM RSA-2048 (c=${concurrency})`, http.perSecond / raw.perSecond, API_OF_RAW);
    }
  } finally {
    api.close();
  }
}

async function stampSection(ctx: BenchContext): Promise<void> {
  const [onePage, hundred] = ctx.docs;
  const stamper = ctx.services.stamper;
  for (const [sealId, label] of SEALS) {
    ctx.rows.push(await measure(`stamp 1 page B-B ${label}`, { ops: n(200), concurrency: 1 }, () => stamper.stamp(onePage!.bytes, position(sealId))));
  }
  await stampRatios(ctx);
  ctx.rows.push(await measure('stamp 1 page B-T RSA-2048 (own TSA)', { ops: n(400), concurrency: 8 }, () => stamper.stamp(onePage!.bytes, position('approval', 'B-T'))));
  ctx.rows.push(await measure('stamp 1 page B-LT RSA-2048', { ops: n(200), concurrency: 8 }, () => stamper.stamp(onePage!.bytes, position('approval', 'B-LT'))));
  ctx.rows.push(
    await measure('stamp 1 page anchor "（盖章）" B-B RSA-2048', { ops: n(400), concurrency: 8 }, () =>
      stamper.stamp(onePage!.bytes, { sealId: 'approval', placement: { kind: 'anchor', text: '（盖章）' }, level: 'B-B' }),
    ),
  );
  for (const concurrency of [1, 8]) {
    ctx.rows.push(await measure('stamp 100 pages B-B RSA-2048', { ops: n(concurrency === 1 ? 50 : 200), concurrency }, () => stamper.stamp(hundred!.bytes, position('approval'))));
  }
}

async function signpdfSection(ctx: BenchContext): Promise<void> {
  const p12 = makeP12();
  const sizes: [BenchDocument, number][] = [
    [ctx.docs[0]!, n(100)],
    [ctx.docs[1]!, n(20)],
    [ctx.docs[2]!, n(3, 2)],
  ];
  for (const [doc, ops] of sizes) {
    const base = await measure(`@signpdf + pdf-lib, P12 software key, ${doc.name}`, { ops, concurrency: 1, warmup: 1 }, () => signWithSignpdf(doc.bytes, p12));
    const ours = await measure(`stamp ${doc.name} B-B RSA-2048 (same run, c=1)`, { ops, concurrency: 1, warmup: 1 }, () => ctx.services.stamper.stamp(doc.bytes, position('approval')));
    ctx.rows.push(base, ours);
    ctx.targets.push({
      description: `OneSeal / @signpdf speed, ${doc.name}`,
      actual: ours.perSecond / base.perSecond,
      required: doc.name === '50 MB' ? 5 : doc.name === '1 page' ? 2 : 0,
      kind: 'min',
    });
  }
}

/** Time of the best of three runs of `sha256sum` over the file: the floor for anything that reads it. */
function sha256sumSeconds(path: string): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync('sha256sum', [path], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error('sha256sum failed');
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/** Stamps the large document in a fresh process and reads its peak RSS. */
function stampInChild(ctx: BenchContext, path: string): { seconds: number; maxRssMb: number } {
  const script = join(findPackageRoot(), 'dist', 'bench', 'stamp-once.js');
  const r = spawnSync(process.execPath, [script, path], { env: { ...process.env, ...ctx.env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stamp-once failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function largeDocumentSection(ctx: BenchContext): Promise<void> {
  const big = ctx.docs[2]!;
  const hashFloor = sha256sumSeconds(big.path);
  const stamp = await measure('stamp 50 MB B-B RSA-2048', { ops: n(10, 3), concurrency: 1, warmup: 1 }, () => ctx.services.stamper.stamp(big.bytes, position('approval')));
  ctx.rows.push(stamp);
  const stampSeconds = stamp.p50ms / 1000;
  const child = stampInChild(ctx, big.path);
  const sizeMb = big.bytes.length / 1024 / 1024;
  ctx.rows.push({
    name: 'sha256sum over the 50 MB document (best of 3)',
    ops: 3,
    seconds: hashFloor,
    perSecond: 1 / hashFloor,
    p50ms: hashFloor * 1000,
    p99ms: hashFloor * 1000,
    concurrency: 1,
    notes: { sizeMb },
  });
  ctx.rows.push({
    name: 'stamp 50 MB in a fresh process (peak memory)',
    ops: 1,
    seconds: child.seconds,
    perSecond: 1 / child.seconds,
    p50ms: child.seconds * 1000,
    p99ms: child.seconds * 1000,
    concurrency: 1,
    notes: { maxRssMb: child.maxRssMb },
  });
  ctx.targets.push({ description: '50 MB stamp time / sha256sum time', actual: stampSeconds / hashFloor, required: 3, kind: 'max' });
  ctx.targets.push({ description: `50 MB stamp peak RSS MB (limit 2×${sizeMb.toFixed(0)} + 200)`, actual: child.maxRssMb, required: 2 * sizeMb + 200, kind: 'max' });
}


async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'oneseal-bench-'));
  const env = {
    ONESEAL_DATA_DIR: dataDir,
    ONESEAL_LOG_LEVEL: 'silent',
    ONESEAL_PORT: '0',
    // the benchmark measures throughput, not the per-client rate limiter
    ONESEAL_RATE_LIMIT_PER_SECOND: '100000',
    ONESEAL_RATE_LIMIT_BURST: '100000',
  };
  delete process.env.SOFTHSM2_CONF;
  const config = loadConfig({ ...process.env, ...env });
  console.error('bench: preparing a token, keys and documents…');
  await initialise(config, () => {});
  const services = await openServices(config);
  await createSeal(services, { id: 'bench-p256', organisation: config.seal.orgName, creditCode: config.seal.orgCreditCode, name: '测试专用章', keyAlgorithm: 'EC-P256', isTest: true }, 'bench');
  const ctx: BenchContext = { services, docs: await benchDocuments(dataDir), dataDir, env, rows: [], targets: [], n, warmupSeconds: quick ? 0.3 : 3 };
  try {
    const sections: [string, () => Promise<void>][] = [
      ['stamping', () => stampSection(ctx)],
      ['signpdf', () => signpdfSection(ctx)],
      ['large', () => largeDocumentSection(ctx)],
      ['verification', () => verifySection(ctx)],
      ['revocation', () => revocationSection(ctx)],
      ['licences', () => licenceSection(ctx)],
      ['cli', () => cliSection(ctx)],
      ['search', () => searchSection(ctx)],
    ];
    for (const [name, run] of sections) {
      if (only && !only.includes(name)) continue;
      console.error(`bench: ${name}…`);
      await run();
    }
  } finally {
    await services.close();
  }
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    quick,
    rows: ctx.rows,
    targets: ctx.targets.map((t) => ({ ...t, met: t.kind === 'min' ? t.actual >= t.required : t.actual <= t.required })),
  };
  console.log(formatTable(ctx.rows));
  console.log('\n' + formatTargets(ctx.targets));
  const outDir = join(findPackageRoot(), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2));
  console.log(`\nwrote ${join(outDir, 'latest.json')}`);
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
