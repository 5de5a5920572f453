/**
 * POST /v1/stamps and the stamp record, against the whole service: real HTTP on 127.0.0.1, SoftHSM,
 * a SQLite file; outputs checked with pdfsig (trusting the development root) and by their bytes.
 */
import { acquireLease } from '../src/store/leases.js';
import { isPostgres } from '../src/store/db.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormDataParser } from '../src/api/form-data.js';
import { completeReservations, idempotent } from '../src/stamping/idempotency.js';
import { activeSealVersion } from '../src/store/seals.js';
import { personWithSession } from './support/people.js';
import { addClient, bearer, call, countRows, stampForm } from './support/api-client.js';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig } from './support/validators.js';
import { checkStampRecords, scrape, storedOutputCount } from './support/ops.js';
import { latch } from './support/latch.js';
import { niceByThread, policyByThread, SCHED_OTHER, threadPoolIdsMet } from './support/threads.js';
import { GroupCommit } from '../src/stamping/group-commit.js';
import { commitStamps, outputsFirst, type PendingStamp } from '../src/stamping/stamp-commits.js';
import { OUTPUT_IN_DATABASE, readStampOutput } from '../src/stamping/outputs.js';


/** One A4 page with an anchor text mid-page (the seal must fit around it). */
async function onePagePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  page.drawText('Approved by', { x: 250, y: 400, size: 14, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save({ useObjectStreams: false });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let stack: Stack;
let key: string;
let clientId: string;
let pdf: Uint8Array;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000' });
  ({ key, id: clientId } = await addClient(stack, '审批系统', ['approval']));
  pdf = await onePagePdf();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const url = (p: string) => `${stack.server.url}${p}`;

describe('POST /v1/stamps', () => {
  it('returns a PDF that pdfsig validates, and GET /v1/stamps/{id} returns its record', async () => {
    const sent = Date.now();
    const r = await call(url('/v1/stamps'), {
      method: 'POST',
      headers: bearer(key),
      body: stampForm([{ data: pdf, filename: '批复.pdf' }], { seal: 'approval', page: '1', x: '150', y: '60', level: 'B-T', caseNumber: 'SP-2026-0001', itemCode: '11110105MB0123456F-XK-001', reason: '审批同意' }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/pdf');
    const id = r.headers.get('stamp-id')!;
    // Time-ordered (UUIDv7, src/store/ids.ts): new stamps land on the last page of the id index.
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const madeAt = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(madeAt).toBeGreaterThanOrEqual(sent);
    expect(madeAt).toBeLessThanOrEqual(Date.now());
    expect(r.headers.get('location')).toBe(`/v1/stamps/${id}`);

    const report = await pdfsig(stack.trust, r.bytes);
    expect(report.out).toContain('Signature Validation: Signature is Valid.');
    expect(report.out).toContain('Certificate Validation: Certificate is Trusted.');

    const rec = await call(url(`/v1/stamps/${id}`), { headers: bearer(key) });
    expect(rec.status).toBe(200);
    const version = await activeSealVersion(stack.services.store.db, 'approval');
    expect(rec.json()).toMatchObject({
      id,
      client: { id: clientId, name: '审批系统' },
      seal: { id: 'approval', version: version!.version, certSerial: version!.certSerial },
      sha256: { before: sha256(pdf), after: sha256(r.bytes) },
      level: 'B-T',
      caseNumber: 'SP-2026-0001',
      itemCode: '11110105MB0123456F-XK-001',
      filename: '批复.pdf',
      placement: { requested: { kind: 'position', page: 1, x: 150, y: 60, unit: 'mm' }, placed: { page: 1 } },
    });
    expect(Date.parse(rec.json<{ createdAt: string }>().createdAt)).toBeGreaterThan(Date.now() - 120_000);

    const stored = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(key) });
    expect(stored.status).toBe(200);
    expect(stored.bytes.equals(r.bytes)).toBe(true);

    const audit = await stack.services.store.db('audit_log').where({ action: 'stamp.create', subject: id }).first();
    expect(JSON.parse(audit.details)).toMatchObject({ seal: 'approval', sealVersion: version!.version, sha256In: sha256(pdf), sha256Out: sha256(r.bytes), caseNumber: 'SP-2026-0001' });
  });

  it('takes an application/pdf body with the options in the query string', async () => {
    const r = await call(url('/v1/stamps?seal=approval&anchor=Approved%20by&level=B-B'), {
      method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf,
    });
    expect(r.status, r.bytes.toString()).toBe(200);
    expect((await pdfsig(stack.trust, r.bytes)).out).toContain('Signature is Valid.');
    const rec = (await call(url(`/v1/stamps/${r.headers.get('stamp-id')}`), { headers: bearer(key) })).json();
    expect(rec).toMatchObject({ level: 'B-B', placement: { requested: { kind: 'anchor', text: 'Approved by' } } });
  });

  it('names every bad field in a 400 problem', async () => {
    const r = await call(url('/v1/stamps'), {
      method: 'POST', headers: bearer(key),
      body: stampForm([{ data: pdf, filename: 'a.pdf' }], { seal: 'approval', page: 'one', x: '10', y: '10', level: 'B-X', pgae: '2', straddle: 'maybe' }),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const fields = r.json<{ errors: { field: string }[] }>().errors.map((e) => e.field).sort();
    expect(fields).toEqual(['level', 'page', 'pgae', 'straddle']);
    expect(r.json<{ detail: string }>().detail).toMatch(/level: must be one of B-B, B-T, B-LT, B-LTA/);
  });

  it('says where the seal should go when no placement is given', async () => {
    const r = await call(url('/v1/stamps?seal=approval'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ errors: [{ field: 'placement' }] });
  });

  it('refuses a 骑缝章 on a one-page PDF naming the options the API has, and malformed straddle options', async () => {
    const before = await countRows(stack, 'stamps');
    const one = await call(url('/v1/stamps?seal=approval&straddle=true'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
    expect(one.status).toBe(422);
    const problem = one.json<{ detail: string; errors: { field: string }[] }>();
    expect(problem.errors.map((e) => e.field)).toEqual(['straddle']);
    expect(problem.detail).toContain('the document has 1');
    expect(one.bytes.toString()).not.toMatch(/"field":"pages"/);
    const bad = await call(url('/v1/stamps?seal=approval&straddlePages=3-1&straddlePagesPerSeal=1'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
    expect(bad.status).toBe(400);
    expect(bad.json<{ errors: { field: string }[] }>().errors.map((e) => e.field).sort()).toEqual(['straddlePages', 'straddlePagesPerSeal']);
    expect(await countRows(stack, 'stamps')).toBe(before);
  });

  it('answers 422 naming the problem for a broken PDF and for an anchor not in the text', async () => {
    const broken = await call(url('/v1/stamps?seal=approval&page=1&x=10&y=10'), {
      method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: Buffer.from('%PDF-1.7\nnot really a pdf'),
    });
    expect(broken.status).toBe(422);
    expect(broken.json<{ type: string }>().type).toMatch(/invalid-pdf$/);
    const anchor = await call(url('/v1/stamps?seal=approval&anchor=%E7%9B%96%E7%AB%A0'), {
      method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf,
    });
    expect(anchor.status).toBe(422);
    expect(anchor.json<{ detail: string }>().detail).toContain('"盖章" was not found');
  });

  it('answers 403 naming an unknown seal, as for one not granted (grants do not reveal which seals exist)', async () => {
    const r = await call(url('/v1/stamps?seal=no-such-seal&page=1&x=10&y=10'), {
      method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf,
    });
    expect(r.status).toBe(403);
    expect(r.json<{ detail: string }>().detail).toContain('may not use seal "no-such-seal"');
  });

  it('answers 415 for a body that is neither multipart nor PDF', async () => {
    const r = await call(url('/v1/stamps'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'text/plain' }), body: 'hello' });
    expect(r.status).toBe(415);
  });

  it('keeps stamps private to their client (auditors read every record and document, operators records only)', async () => {
    const r = await call(url('/v1/stamps?seal=approval&invisible=true&level=B-B'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
    const other = await addClient(stack, 'other system', ['approval']);
    const id = r.headers.get('stamp-id')!;
    expect((await call(url(`/v1/stamps/${id}`), { headers: bearer(other.key) })).status).toBe(404);
    expect((await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(other.key) })).status).toBe(404);
    const auditor = await personWithSession(stack, 'audrey', ['auditor']);
    const seen = await call(url(`/v1/stamps/${id}`), { headers: bearer(auditor.key) });
    expect(seen.json()).toMatchObject({ id, client: { id: clientId } });
    // Auditors examine what was sealed (issue 15: the console's 用印记录 downloads it); operators may not.
    const examined = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(auditor.key) });
    expect(examined.status).toBe(200);
    expect(examined.bytes.equals(r.bytes)).toBe(true);
    const operator = await personWithSession(stack, 'opal', ['operator']);
    const pdfRefused = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(operator.key) });
    expect(pdfRefused.status).toBe(403);
    expect(pdfRefused.json<{ detail: string }>().detail).toMatch(/person:opal may not download a stamped PDF/);
  });
});

describe('Idempotency-Key', () => {
  const form = (fields: Record<string, string>) => stampForm([{ data: pdf, filename: 'x.pdf' }], { seal: 'approval', page: '1', x: '100', y: '100', level: 'B-B', ...fields });

  it('returns the same stamp and identical bytes for a repeat, and 422 for the key reused with another request', async () => {
    const headers = bearer(key, { 'Idempotency-Key': 'repeat-me-1' });
    const first = await call(url('/v1/stamps'), { method: 'POST', headers, body: form({}) });
    expect(first.status).toBe(200);
    const stampsBefore = await countRows(stack, 'stamps');
    const again = await call(url('/v1/stamps'), { method: 'POST', headers, body: form({}) });
    expect(again.status).toBe(200);
    expect(again.headers.get('stamp-id')).toBe(first.headers.get('stamp-id'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore);

    const other = await call(url('/v1/stamps'), { method: 'POST', headers, body: form({ x: '101' }) });
    expect(other.status).toBe(422);
    expect(other.json<{ detail: string }>().detail).toContain('already used for a different request');
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore);
  });

  it('makes exactly 180 stamps from 200 concurrent requests of which 20 repeat a key, repeats byte-identical', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const auditBefore = await countRows(stack, 'audit_log');
    const countBefore = (await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount;
    // Keys 0..179 once each; 20 more requests repeat keys 0..19 at the same time as the originals.
    const keys = [...Array.from({ length: 180 }, (_, i) => `burst-${i}`), ...Array.from({ length: 20 }, (_, i) => `burst-${i}`)];
    const replies = await Promise.all(keys.map((k) => call(url('/v1/stamps?seal=approval&page=1&x=100&y=100&level=B-B'), {
      method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf', 'Idempotency-Key': k }), body: pdf,
    })));
    expect(replies.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const ids = replies.map((r) => r.headers.get('stamp-id')!);
    expect(new Set(ids).size).toBe(180);
    for (let i = 0; i < 20; i++) {
      expect(ids[180 + i]).toBe(ids[i]);
      expect(replies[180 + i]!.bytes.equals(replies[i]!.bytes)).toBe(true);
    }
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore + 180);
    expect(await countRows(stack, 'audit_log')).toBe(auditBefore + 180);
    expect((await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount).toBe(countBefore + 180);
    const byKey = await stack.services.store.db('stamps').where('idempotency_key', 'like', 'burst-%').count({ n: '*' });
    expect(Number(byKey[0]!.n)).toBe(180);
    // Every recorded output is kept (one-page letters: in the database), and nothing else was left behind.
    expect((await checkStampRecords(stack.services.store.db, stack.dir)).problems).toEqual([]);
    expect(await storedOutputCount(stack.services.store.db, stack.dir)).toBe(await countRows(stack, 'stamps'));
  }, 600_000);
});

/** Runs `work` with every output kept as a file (ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB=0), as a deployment may choose. */
async function withOutputsAsFiles<T>(work: () => Promise<T>): Promise<T> {
  const { config } = stack.services;
  const kept = config.outputsInDatabaseMaxBytes;
  config.outputsInDatabaseMaxBytes = 0;
  try {
    return await work();
  } finally {
    config.outputsInDatabaseMaxBytes = kept;
  }
}

describe('outputs', () => {
  const postLetter = () => call(url('/v1/stamps?seal=approval&page=1&x=100&y=100&level=B-B'), {
    method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf,
  });

  it('small enough are kept in the database with their record, not as files, read back checked against their SHA-256', async () => {
    const r = await postLetter();
    expect(r.status).toBe(200);
    const id = r.headers.get('stamp-id')!;
    const db = stack.services.store.db;
    const record = await db('stamps').where({ id }).first('output_path', 'sha256_out');
    expect(record.output_path).toBe(OUTPUT_IN_DATABASE);
    const row = await db('stamp_outputs').where({ stamp_id: id }).first('pdf');
    expect(Buffer.from(row.pdf).equals(r.bytes)).toBe(true);
    expect(existsSync(path.join(stack.dir, 'stamps', `${id}.pdf`))).toBe(false);
    const stored = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(key) });
    expect(stored.status).toBe(200);
    expect(stored.bytes.equals(r.bytes)).toBe(true);
    // Changed in the database behind the service's back: refused, not served.
    const altered = Buffer.from(r.bytes);
    altered[altered.length - 10] ^= 1;
    await db('stamp_outputs').where({ stamp_id: id }).update({ pdf: altered });
    const refused = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(key) });
    expect(refused.status).toBe(500);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await expect(readStampOutput({ db, dataDir: stack.dir }, { id, outputPath: OUTPUT_IN_DATABASE, sha256Out: record.sha256_out }))
      .rejects.toMatchObject({ code: 'stamp-output-altered' });
  });

  it('larger than ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB are files the worker put in place, recorded by path', async () => {
    const r = await withOutputsAsFiles(postLetter);
    expect(r.status).toBe(200);
    const id = r.headers.get('stamp-id')!;
    const record = await stack.services.store.db('stamps').where({ id }).first('output_path');
    expect(record.output_path).toBe(`stamps/${id}.pdf`);
    expect(await stack.services.store.db('stamp_outputs').where({ stamp_id: id }).first()).toBeUndefined();
    expect(readFileSync(path.join(stack.dir, 'stamps', `${id}.pdf`)).equals(r.bytes)).toBe(true);
    const stored = await call(url(`/v1/stamps/${id}/pdf`), { headers: bearer(key) });
    expect(stored.bytes.equals(r.bytes)).toBe(true);
  });
  it('too large for the database are written, synced and renamed into place by the worker that signed them, for the commit point to record', async () => {
    expect(stack.services.stamper.pool).toBeDefined();
    const dir = path.join(stack.dir, 'placing-test');
    const target = path.join(dir, 'one.pdf');
    const request = { sealId: 'approval', placement: { kind: 'position' as const, page: 1, x: 100, y: 100 }, level: 'B-B' as const };
    const placed = await stack.services.stamper.stamp(pdf, request, undefined, { file: target, databaseMaxBytes: 0 });
    const { dev, ino } = statSync(dir, { bigint: true });
    expect(placed.placedIn).toBe(`${dev}:${ino}`);
    expect(readFileSync(target).equals(placed.pdf)).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    // Small enough for the database, or asked to put it nowhere, the worker writes nothing.
    const small = await stack.services.stamper.stamp(pdf, request, undefined, { file: path.join(dir, 'two.pdf'), databaseMaxBytes: placed.pdf.byteLength });
    expect(small.placedIn).toBeUndefined();
    const plain = await stack.services.stamper.stamp(pdf, request);
    expect(plain.placedIn).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['one.pdf']);
  });

  it('that cannot be stored give 503 naming the storage, not a 500, record nothing, and stamping resumes once they can', () => withOutputsAsFiles(async () => {
    const stamps = path.join(stack.dir, 'stamps');
    const post = postLetter;
    expect((await post()).status).toBe(200);
    const before = await countRows(stack, 'stamps');
    // A file where the outputs' directory should be: every write into it fails (ENOTDIR), even as root.
    renameSync(stamps, `${stamps}.aside`);
    writeFileSync(stamps, 'not a directory');
    try {
      const r = await post();
      expect(r.status).toBe(503);
      const problem = r.json<{ type: string; detail: string; component: string }>();
      expect(problem.type).toMatch(/output-not-stored$/);
      expect(problem.component).toBe('storage');
      expect(problem.detail).toMatch(/could not be stored \(ENOTDIR\), so nothing was recorded/);
      expect(problem.detail).not.toContain(stack.dir);
      expect(await countRows(stack, 'stamps')).toBe(before);
    } finally {
      rmSync(stamps);
      renameSync(`${stamps}.aside`, stamps);
    }
    expect((await post()).status).toBe(200);
    expect(await countRows(stack, 'stamps')).toBe(before + 1);
  }));
});

describe('group commit', () => {
  const post = (k: string) => call(url('/v1/stamps?seal=approval&page=1&x=100&y=100&level=B-B'), {
    method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf', 'Idempotency-Key': k }), body: pdf,
  });

  it('records the stamps that queued during one commit together in the next, and one that fails there fails alone', async () => {
    const N = 6;
    const keys = Array.from({ length: N }, (_, i) => `group-${i}`);
    const victim = keys[2]!;
    const { db } = stack.services.store;
    // A commit held open until all N requests are queued behind it: then they must share the next one.
    const allQueued = latch();
    const blocker: PendingStamp = { outputs: [], record: async () => undefined };
    const sizes: number[] = [];
    const commits = new GroupCommit<PendingStamp>(async (items) => {
      if (items.includes(blocker)) await allQueued.promise;
      return commitStamps(db, items);
    }, { onCommit: (n) => sizes.push(n) });
    const held = commits.submit(blocker);
    let queued = 0;
    const real = stack.services.stampCommits;
    stack.services.stampCommits = outputsFirst(stack.dir, {
      submit(item) {
        const done = commits.submit(item);
        if (++queued === N) {
          // One of them loses its Idempotency-Key meanwhile: its records must fail, the others' not. On
          // PostgreSQL another instance takes its pending reservation over; on SQLite, where the
          // reservation is held in the process, another process records the key first (for another request).
          const lose = isPostgres(db)
            ? db('idempotency_keys').where({ client_id: clientId, idempotency_key: victim }).update({ owner: 'another-instance' })
            : db('idempotency_keys').insert({ client_id: clientId, idempotency_key: victim, request_hash: 'f'.repeat(64), status: 'done', result_id: 'elsewhere', owner: 'another-process', created_at: new Date().toISOString() });
          void lose.then(allQueued.open);
        }
        return done;
      },
    });
    const stampsBefore = await countRows(stack, 'stamps');
    try {
      const replies = await Promise.all(keys.map(post));
      await held;
      expect(sizes).toEqual([1, N]);
      const [status, problem] = isPostgres(db) ? [409, /idempotency-reservation-lost$/] : [422, /idempotency-key-reused$/];
      expect(replies.map((r) => r.status)).toEqual(keys.map((k) => (k === victim ? status : 200)));
      expect(replies[2]!.json<{ type: string }>().type).toMatch(problem);
    } finally {
      stack.services.stampCommits = real;
    }
    const recorded = (await db('stamps').whereIn('idempotency_key', keys).select('idempotency_key')) as { idempotency_key: string }[];
    expect(recorded.map((r) => r.idempotency_key).sort()).toEqual(keys.filter((k) => k !== victim));
    expect(await countRows(stack, 'stamps')).toBe(stampsBefore + N - 1);
    // Every stamp has its audit entry and output, the chain verifies, and the failed one left no output.
    expect((await checkStampRecords(db, stack.dir)).problems).toEqual([]);
    expect(await storedOutputCount(db, stack.dir)).toBe(await countRows(stack, 'stamps'));
  }, 120_000);

  it('counts at /metrics the commits and the stamps they made durable, and each request\'s time signing and committing', async () => {
    const commitsOf = (m: Map<string, number>) => ({ commits: m.get('oneseal_stamp_commit_size_count') ?? 0, stamps: m.get('oneseal_stamp_commit_size_sum') ?? 0 });
    const stage = (m: Map<string, number>, name: string) => ({
      count: m.get(`oneseal_stamp_stage_seconds_count{stage="${name}"}`) ?? 0,
      sum: m.get(`oneseal_stamp_stage_seconds_sum{stage="${name}"}`) ?? 0,
    });
    const metricsBefore = await scrape(stack.server.url);
    const before = commitsOf(metricsBefore);
    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => post(`metrics-${i}`)));
    const wall = (performance.now() - started) / 1000;
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const metricsAfter = await scrape(stack.server.url);
    const after = commitsOf(metricsAfter);
    expect(after.stamps - before.stamps).toBe(4);
    expect(after.commits - before.commits).toBeGreaterThanOrEqual(1);
    expect(after.commits - before.commits).toBeLessThanOrEqual(4);
    for (const name of ['sign', 'commit']) {
      const [b, a] = [stage(metricsBefore, name), stage(metricsAfter, name)];
      expect(a.count - b.count).toBe(4);
      // Each request's stage took some time, and no more than the four requests took together.
      expect(a.sum - b.sum).toBeGreaterThan(0);
      expect(a.sum - b.sum).toBeLessThanOrEqual(4 * wall);
    }
  }, 120_000);
});

describe('the server\'s PDF workers', () => {
  it.runIf(process.platform === 'linux')('run at ONESEAL_WORKER_NICE (default 10), the event loop at 0', async () => {
    const reply = await call(url('/v1/stamps?seal=approval&page=1&x=100&y=100&level=B-B'), { method: 'POST', headers: bearer(key, { 'Content-Type': 'application/pdf' }), body: pdf });
    expect(reply.status).toBe(200);
    const nice = niceByThread();
    expect(nice.get(process.pid)).toBe(0);
    expect(stack.services.config.workerNice).toBe(10);
    expect([...nice.values()].filter((n) => n === 10).length).toBeGreaterThanOrEqual(1);
  });

  it.runIf(process.platform === 'linux')('leave libuv\'s pool threads under SCHED_OTHER: their file and database calls are on a request\'s path and must preempt PDF work', async () => {
    const pool = await threadPoolIdsMet();
    const policy = policyByThread();
    expect(pool.size).toBeGreaterThanOrEqual(1);
    for (const id of pool) expect(policy.get(id)).toBe(SCHED_OTHER);
  });
});

describe('Idempotency-Key held by another instance', () => {
  const reserve = (key: string, createdAt: string) => stack.services.store.db('idempotency_keys').insert({
    client_id: clientId, idempotency_key: key, request_hash: 'h'.repeat(64), status: 'pending', result_id: null, owner: 'other-instance', created_at: createdAt,
  });

  const scopeOf = (k: string) => ({ db: stack.services.store.db, reads: stack.services.store.reads, clientId, key: k, requestHash: 'h'.repeat(64), waitMs: 1000, staleMs: 60_000 });
  /** Which database the stack runs on is chosen before it opens (test/support/stamp-stack.ts). */
  const onSqlite = () => process.env.ONESEAL_TEST_DATABASE !== 'pg';

  it.runIf(onSqlite())('on SQLite holds a new key in this process: no row while the work runs, one row, done, with its result', async () => {
    const { db } = stack.services.store;
    const rowsOf = (k: string) => db('idempotency_keys').where({ client_id: clientId, idempotency_key: k });
    const result = await idempotent(scopeOf('held-here'), async (reservation) => {
      expect(await rowsOf('held-here')).toEqual([]);
      await db.transaction((trx) => completeReservations(trx, [{ reservation, resultId: 'result-here' }]));
      return 'done';
    }, async () => 'replayed');
    expect(result).toEqual({ value: 'done', replayed: false });
    expect(await rowsOf('held-here')).toMatchObject([{ status: 'done', result_id: 'result-here', request_hash: 'h'.repeat(64) }]);
    expect(await idempotent(scopeOf('held-here'), async () => 'again', async (id) => `replayed ${id}`)).toEqual({ value: 'replayed result-here', replayed: true });
  });

  it.runIf(onSqlite())('on SQLite answers as a repeat when another process recorded the key while the work ran, and records nothing of its own', async () => {
    const { db } = stack.services.store;
    let runs = 0;
    const result = await idempotent(scopeOf('recorded-elsewhere'), async (reservation) => {
      runs++;
      await db('idempotency_keys').insert({ client_id: clientId, idempotency_key: 'recorded-elsewhere', request_hash: 'h'.repeat(64), status: 'done', result_id: 'theirs', owner: 'another-process', created_at: new Date().toISOString() });
      await db.transaction((trx) => completeReservations(trx, [{ reservation, resultId: 'mine' }]));
      return 'mine';
    }, async (id) => `replayed ${id}`);
    expect(result).toEqual({ value: 'replayed theirs', replayed: true });
    expect(runs).toBe(1);
    expect(await db('idempotency_keys').where({ client_id: clientId, idempotency_key: 'recorded-elsewhere' })).toMatchObject([{ result_id: 'theirs' }]);
  });

  it.runIf(onSqlite())('on SQLite reports a record that failed on the key when no row explains it, instead of working again', async () => {
    let runs = 0;
    const failure = Object.assign(new Error('UNIQUE constraint failed: stamps.client_id, stamps.idempotency_key'), { code: 'SQLITE_CONSTRAINT' });
    const err = await idempotent(scopeOf('no-row'), async () => {
      runs++;
      throw failure;
    }, async () => 'replayed').catch((e: unknown) => e);
    expect(err).toBe(failure);
    expect(runs).toBe(1);
  });

  it('waits a bounded time for a live reservation, then answers 409 without doing the work', async () => {
    // the other instance is alive: it holds its instance lease
    await acquireLease(stack.services.store.db, 'instance:other-instance', 'other-instance', new Date(), 60_000);
    await reserve('held-elsewhere', new Date().toISOString());
    let ran = false;
    const scope = { ...scopeOf('held-elsewhere'), waitMs: 100 };
    const err = await idempotent(scope, async () => { ran = true; }, async () => undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'idempotency-key-in-progress', kind: 'conflict', retryAfter: 1 });
    expect(ran).toBe(false);
  });

  it('takes over at once a reservation whose instance lease lapsed (its process died)', async () => {
    await stack.services.store.db('idempotency_keys').insert({
      client_id: clientId, idempotency_key: 'killed', request_hash: 'h'.repeat(64), status: 'pending', result_id: null, owner: 'killed-instance', created_at: new Date().toISOString(),
    });
    await acquireLease(stack.services.store.db, 'instance:killed-instance', 'killed-instance', new Date(Date.now() - 120_000), 10_000);
    const scope = scopeOf('killed');
    const result = await idempotent(scope, async (reservation) => {
      await stack.services.store.db.transaction((trx) => completeReservations(trx, [{ reservation, resultId: 'result-k' }]));
      return 'done';
    }, async () => 'replayed');
    expect(result).toEqual({ value: 'done', replayed: false });
  });

  it('marks a group commit\'s reservations done in one statement, each with its own result, and fails if one was taken over', async () => {
    const { db } = stack.services.store;
    const mine = (k: string) => ({ clientId, key: k, owner: 'this-instance' });
    for (const k of ['done-a', 'done-b', 'taken-c']) {
      await db('idempotency_keys').insert({ client_id: clientId, idempotency_key: k, request_hash: 'h'.repeat(64), status: 'pending', result_id: null, owner: 'this-instance', created_at: new Date().toISOString() });
    }
    await db.transaction((trx) => completeReservations(trx, [{ reservation: mine('done-a'), resultId: 'result-a' }, { reservation: mine('done-b'), resultId: 'result-b' }]));
    const rows = (await db('idempotency_keys').whereIn('idempotency_key', ['done-a', 'done-b']).orderBy('idempotency_key')) as { status: string; result_id: string }[];
    expect(rows.map((r) => [r.status, r.result_id])).toEqual([['done', 'result-a'], ['done', 'result-b']]);
    // Another instance took over taken-c: its completion fails, and with it everything in that transaction.
    await db('idempotency_keys').where({ idempotency_key: 'taken-c' }).update({ owner: 'other-instance' });
    const lost = await db.transaction(async (trx) => {
      await trx('idempotency_keys').where({ idempotency_key: 'done-a' }).update({ result_id: 'overwritten' });
      await completeReservations(trx, [{ reservation: mine('taken-c'), resultId: 'result-c' }]);
    }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: 'idempotency-reservation-lost', kind: 'conflict' });
    expect((lost as Error).message).toContain('"taken-c"');
    expect(await db('idempotency_keys').where({ idempotency_key: 'done-a' }).first()).toMatchObject({ result_id: 'result-a' });
    expect(await db('idempotency_keys').where({ idempotency_key: 'taken-c' }).first()).toMatchObject({ status: 'pending', result_id: null });
  });

  it('takes over a reservation whose owner died (older than staleMs) and completes it', async () => {
    await reserve('orphaned', '2020-01-01T00:00:00.000Z');
    const scope = scopeOf('orphaned');
    const result = await idempotent(scope, async (reservation) => {
      await stack.services.store.db.transaction((trx) => completeReservations(trx, [{ reservation, resultId: 'result-1' }]));
      return 'done';
    }, async () => 'replayed');
    expect(result).toEqual({ value: 'done', replayed: false });
    const row = await stack.services.store.db('idempotency_keys').where({ client_id: clientId, idempotency_key: 'orphaned' }).first();
    expect(row).toMatchObject({ status: 'done', result_id: 'result-1' });
    expect(await idempotent(scope, async () => 'again', async (id) => `replayed ${id}`)).toEqual({ value: 'replayed result-1', replayed: true });
  });
});

describe('multipart parser', () => {
  it('parses a body fed one byte at a time, boundary-like bytes inside the file included', () => {
    const boundary = 'XyZ';
    const file = Buffer.from('%PDF-1.7\r\nx--XyZ is no delimiter without a CRLF just before it\r\n-\r\n--Xy\r\n\r\n--XyQ\r\nend');
    const body = Buffer.concat([
      Buffer.from(`preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="seal"\r\n\r\napproval\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="document"; filename="a \\"b\\".pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\nepilogue`),
    ]);
    const parser = new FormDataParser(boundary, { fieldLimit: 1024, maxParts: 10 });
    for (const byte of body) parser.write(Buffer.from([byte]));
    const parts = parser.end();
    expect(parts.map((p) => p.name)).toEqual(['seal', 'document']);
    expect(parts[0]!.data.toString()).toBe('approval');
    expect(parts[1]!.filename).toBe('a "b".pdf');
    expect(parts[1]!.data.equals(file)).toBe(true);
  });

  it('refuses a body cut off before its closing boundary', () => {
    const parser = new FormDataParser('b', { fieldLimit: 1024, maxParts: 10 });
    parser.write(Buffer.from('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nvalue'));
    expect(() => parser.end()).toThrow(/ends before the closing boundary/);
  });
});
