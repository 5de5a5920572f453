/**
 * POST /v1/stamp-batches: all documents of a case stamped and recorded together, or none; the ZIP
 * checked with unzip and each PDF with pdfsig; a broken document leaves the database untouched.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { zip } from '../src/zip/write.js';
import { activeSealVersion } from '../src/store/seals.js';
import { addClient, bearer, call, countRows, stampForm } from './support/api-client.js';
import { openStack, type Stack } from './support/stamp-stack.js';
import { pdfsig } from './support/validators.js';
import { scrape, storedOutputCount } from './support/ops.js';

let stack: Stack;
let key: string;
const url = (p: string) => `${stack.server.url}${p}`;
const scratch = mkdtempSync(path.join(tmpdir(), 'oneseal-batch-test-'));

async function letter(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  page.drawText(text, { x: 80, y: 500, size: 14, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save({ useObjectStreams: false });
}

function unzipAll(bytes: Buffer): { dir: string; names: string[] } {
  const dir = mkdtempSync(path.join(scratch, 'zip-'));
  writeFileSync(path.join(dir, 'batch.zip'), bytes);
  // -t: unzip's own CRC and structure check; then extract.
  expect(execFileSync('unzip', ['-t', 'batch.zip'], { cwd: dir, encoding: 'utf8' })).toMatch(/No errors detected/);
  execFileSync('unzip', ['-q', 'batch.zip', '-d', 'out'], { cwd: dir });
  return { dir: path.join(dir, 'out'), names: readdirSync(path.join(dir, 'out')).sort() };
}

beforeAll(async () => {
  stack = await openStack({ ONESEAL_RATE_LIMIT_PER_SECOND: '1000', ONESEAL_RATE_LIMIT_BURST: '1000' });
  ({ key } = await addClient(stack, 'one-stop', ['approval']));
}, 120_000);
afterAll(async () => {
  await stack?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('POST /v1/stamp-batches', () => {
  it('stamps every document of a case and answers a ZIP of signed PDFs with a manifest', async () => {
    const docs = [
      { data: await letter('Licence decision'), filename: '准予许可决定书.pdf' },
      { data: await letter('Receipt'), filename: 'receipt.pdf' },
      { data: await letter('Notice'), filename: 'notice.pdf' },
    ];
    const countBefore = (await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount;
    const r = await call(url('/v1/stamp-batches'), {
      method: 'POST',
      headers: bearer(key),
      body: stampForm(docs, { seal: 'approval', page: '1', x: '150', y: '80', level: 'B-T', caseNumber: 'YJS-2026-0042', 'documents[1].anchor': 'Receipt', 'documents[1].page': '1', 'documents[1].x': '', 'documents[1].y': '' }),
    });
    // documents[1] overriding x/y with empty strings is invalid; the batch must say so by field.
    expect(r.status).toBe(400);
    expect(r.json<{ errors: { field: string }[] }>().errors.map((e) => e.field).sort()).toEqual(['documents[1].x', 'documents[1].y']);

    const stageCount = (m: Map<string, number>, stage: string) => m.get(`oneseal_stamp_stage_seconds_count{stage="${stage}"}`) ?? 0;
    const metricsBefore = await scrape(stack.server.url);
    const ok = await call(url('/v1/stamp-batches'), {
      method: 'POST',
      headers: bearer(key),
      body: stampForm(docs, { seal: 'approval', page: '1', x: '150', y: '80', level: 'B-T', caseNumber: 'YJS-2026-0042', 'documents[2].x': '60' }),
    });
    expect(ok.status, ok.bytes.toString()).toBe(200);
    // The batch is one request in the stage metric, whatever its documents.
    const metricsAfter = await scrape(stack.server.url);
    for (const stage of ['sign', 'commit']) expect(stageCount(metricsAfter, stage) - stageCount(metricsBefore, stage)).toBe(1);
    expect(ok.headers.get('content-type')).toBe('application/zip');
    const batchId = ok.headers.get('stamp-batch-id')!;
    expect(ok.headers.get('location')).toBe(`/v1/stamp-batches/${batchId}`);

    const { dir, names } = unzipAll(ok.bytes);
    expect(names).toEqual(['01-准予许可决定书-stamped.pdf', '02-receipt-stamped.pdf', '03-notice-stamped.pdf', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: batchId, caseNumber: 'YJS-2026-0042', documentCount: 3 });
    for (const [i, name] of names.slice(0, 3).entries()) {
      const signed = readFileSync(path.join(dir, name));
      const report = await pdfsig(stack.trust, signed);
      expect(report.out).toContain('Signature is Valid.');
      expect(report.out).toContain('Certificate is Trusted.');
      const stamp = manifest.stamps[i];
      const stored = await call(url(`/v1/stamps/${stamp.id}/pdf`), { headers: bearer(key) });
      expect(stored.bytes.equals(signed)).toBe(true);
      expect(stamp).toMatchObject({ caseNumber: 'YJS-2026-0042', batchId, filename: docs[i]!.filename });
    }
    expect(manifest.stamps[2].placement.requested).toMatchObject({ x: 60 });

    const record = await call(url(`/v1/stamp-batches/${batchId}`), { headers: bearer(key) });
    expect(record.json()).toMatchObject({ id: batchId, documentCount: 3 });
    expect((await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount).toBe(countBefore + 3);
    const audit = await stack.services.store.db('audit_log').where({ action: 'stamp-batch.create', subject: batchId }).first();
    expect(JSON.parse(audit.details).stamps).toEqual(manifest.stamps.map((s: { id: string }) => s.id));
  });

  it('lets each document place its seal its own way (anchor, field or coordinates), the batch\'s placement the default', async () => {
    const form = readFileSync(path.resolve('fixtures/form-empty-signature-field.pdf'));
    const docs = [
      { data: await letter('Decision'), filename: 'decision.pdf' },
      { data: await letter('Receipt'), filename: 'receipt.pdf' },
      { data: form, filename: 'form.pdf' },
    ];
    const r = await call(url('/v1/stamp-batches'), {
      method: 'POST',
      headers: bearer(key),
      // The batch places by coordinates; document 1 by an anchor, document 2 into its signature field — neither clears the batch's x/y.
      body: stampForm(docs, { seal: 'approval', page: '1', x: '150', y: '80', level: 'B-B', 'documents[1].anchor': 'Receipt', 'documents[2].field': 'approverSignature' }),
    });
    expect(r.status, r.bytes.toString().slice(0, 400)).toBe(200);
    const { dir, names } = unzipAll(r.bytes);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.stamps.map((st: { placement: { requested: { kind: string } } }) => st.placement.requested.kind)).toEqual(['position', 'anchor', 'field']);
    expect(manifest.stamps[0].placement.requested).toMatchObject({ page: 1, x: 150, y: 80 });
    expect(manifest.stamps[2].placement.fieldName).toBe('approverSignature');
    for (const name of names.slice(0, 3)) expect((await pdfsig(stack.trust, readFileSync(path.join(dir, name)))).out).toContain('Signature is Valid.');
  });

  it('names the document (index and filename) in every error that is not the whole batch\'s', async () => {
    const docs = [{ data: await letter('One'), filename: 'one.pdf' }, { data: await letter('Two'), filename: 'two.pdf' }];
    // Only document 0 says where its seal goes.
    const missing = await call(url('/v1/stamp-batches'), { method: 'POST', headers: bearer(key), body: stampForm(docs, { seal: 'approval', 'documents[0].anchor': 'One' }) });
    expect(missing.status).toBe(400);
    const errors = missing.json<{ errors: { field: string; message: string }[] }>().errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('documents[1].placement');
    expect(errors[0]!.message).toMatch(/^document 1 \("two\.pdf"\): say where the seal goes/);
    // A problem of the batch's own options is reported once, under the option.
    const shared = await call(url('/v1/stamp-batches'), { method: 'POST', headers: bearer(key), body: stampForm(docs, { seal: 'approval', page: '1', x: '100', y: '100', level: 'B-Z' }) });
    expect(shared.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['level']);
    // A document's anchor that is not in it: 422 naming the document; nothing recorded.
    const before = await countRows(stack, 'stamps');
    const notFound = await call(url('/v1/stamp-batches'), { method: 'POST', headers: bearer(key), body: stampForm(docs, { seal: 'approval', page: '1', x: '100', y: '100', level: 'B-B', 'documents[1].anchor': 'Nowhere' }) });
    expect(notFound.status).toBe(422);
    expect(notFound.json()).toMatchObject({ documentIndex: 1, filename: 'two.pdf', reason: { code: 'anchor-not-found' } });
    expect(await countRows(stack, 'stamps')).toBe(before);
  });

  it('records nothing when one document is broken, and names it and why', async () => {
    const stampsBefore = await countRows(stack, 'stamps');
    const batchesBefore = await countRows(stack, 'stamp_batches');
    const auditBefore = await countRows(stack, 'audit_log');
    const countBefore = (await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount;
    const outputsBefore = await storedOutputCount(stack.services.store.db, stack.dir);
    const good = await letter('fine');
    // A scan saved under the wrong name: not a PDF at all.
    const broken = Buffer.from('GIF89a\u0001\u0000\u0001\u0000 this is an image, not a PDF');
    const r = await call(url('/v1/stamp-batches'), {
      method: 'POST',
      headers: bearer(key),
      body: stampForm([{ data: good, filename: 'first.pdf' }, { data: broken, filename: 'torn.pdf' }, { data: good, filename: 'third.pdf' }],
        { seal: 'approval', page: '1', x: '100', y: '100', level: 'B-B', caseNumber: 'YJS-2026-0043' }),
    });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = r.json<{ detail: string; documentIndex: number; filename: string; reason: { code: string } }>();
    expect(problem.documentIndex).toBe(1);
    expect(problem.filename).toBe('torn.pdf');
    expect(problem.reason.code).toBe('invalid-pdf');
    expect(problem.detail).toMatch(/document 1 \("torn\.pdf"\) failed: .+ Nothing was recorded\./);

    expect(await countRows(stack, 'stamps')).toBe(stampsBefore);
    expect(await countRows(stack, 'stamp_batches')).toBe(batchesBefore);
    expect(await countRows(stack, 'audit_log')).toBe(auditBefore);
    expect((await activeSealVersion(stack.services.store.db, 'approval'))!.signatureCount).toBe(countBefore);
    expect(await storedOutputCount(stack.services.store.db, stack.dir)).toBe(outputsBefore);
  });

  it('replays a batch for a repeated Idempotency-Key without stamping again', async () => {
    // Built once: pdf-lib writes the creation time, so rebuilding could change the bytes between requests.
    const [a, b] = [await letter('a'), await letter('b')];
    const form = async () => stampForm([{ data: a, filename: 'a.pdf' }, { data: b, filename: 'b.pdf' }],
      { seal: 'approval', page: '1', x: '100', y: '100', level: 'B-B' });
    const headers = bearer(key, { 'Idempotency-Key': 'batch-1' });
    const first = await call(url('/v1/stamp-batches'), { method: 'POST', headers, body: await form() });
    expect(first.status).toBe(200);
    const stampsAfterFirst = await countRows(stack, 'stamps');
    const again = await call(url('/v1/stamp-batches'), { method: 'POST', headers, body: await form() });
    expect(again.status, again.bytes.toString().slice(0, 300)).toBe(200);
    expect(again.headers.get('stamp-batch-id')).toBe(first.headers.get('stamp-batch-id'));
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(await countRows(stack, 'stamps')).toBe(stampsAfterFirst);
  });
});

describe('zip writer', () => {
  it('writes archives that unzip checks and extracts byte for byte, UTF-8 names included', () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const { dir, names } = unzipAll(zip([{ name: '许可证.bin', data }, { name: 'empty.txt', data: new Uint8Array(0) }]));
    expect(names).toEqual(['empty.txt', '许可证.bin']);
    expect(readFileSync(path.join(dir, '许可证.bin')).equals(data)).toBe(true);
  });
});
