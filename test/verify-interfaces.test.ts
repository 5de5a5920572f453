import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, openStack, OTHER_SIGNER_PDF, type Stack } from './support/stamp-stack.js';

let stack: Stack;
let signedPath: string;
let signed: Buffer;
let tamperedPath: string;

beforeAll(async () => {
  stack = await openStack({ ONESEAL_MAX_UPLOAD_MB: '1' });
  const result = await stack.services.stamper.stamp(fixture('approval-letter.pdf'), {
    sealId: 'approval',
    placement: { kind: 'anchor', text: '（盖章）' },
    level: 'B-T',
  });
  signed = result.pdf;
  signedPath = path.join(stack.dir, 'signed.pdf');
  writeFileSync(signedPath, signed);
  // One byte of page content changed inside the signed range: the digest no longer matches.
  const tampered = Buffer.from(signed);
  const at = tampered.indexOf('stream', 2000);
  tampered[at + 20] ^= 0x01;
  tamperedPath = path.join(stack.dir, 'tampered.pdf');
  writeFileSync(tamperedPath, tampered);
});
afterAll(async () => {
  await stack?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const post = (body: Uint8Array | string, headers: Record<string, string>) =>
  fetch(`${stack.server.url}/v1/verifications`, { method: 'POST', body, headers });

describe('oneseal verify', () => {
  it('exits 0 for a OneSeal-signed document and reports signer, level and proven time', async () => {
    const { code, out } = await stack.cli(['verify', signedPath, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.verdict).toBe('valid');
    expect(report.signatures).toHaveLength(1);
    const [sig] = report.signatures;
    expect(sig).toMatchObject({ verdict: 'valid', level: 'B-T', coversWholeDocument: true });
    expect(sig.signer.commonName).toContain('行政审批专用章');
    expect(sig.provenTime).toBeTruthy();
  });

  it('prints a readable bilingual report', async () => {
    const { code, out } = await stack.cli(['verify', signedPath]);
    expect(code).toBe(0);
    expect(out).toContain('有效 VALID');
    expect(out).toContain('行政审批专用章');
  });

  it('exits 1 with DIGEST_MISMATCH for a tampered copy', async () => {
    const { code, out } = await stack.cli(['verify', tamperedPath, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.verdict).toBe('invalid');
    expect(report.signatures[0].reasons.map((r: { code: string }) => r.code)).toContain('DIGEST_MISMATCH');
  });

  it('exits 3 (indeterminate) for another signer whose root it does not trust', async () => {
    const { code, out } = await stack.cli(['verify', OTHER_SIGNER_PDF, '--json']);
    expect(code).toBe(3);
    expect(JSON.parse(out).signatures[0].reasons.map((r: { code: string }) => r.code)).toContain('NO_TRUST_ANCHOR');
  });

  it('exits 2 for a file that is not a PDF, and for a missing file', async () => {
    const junk = path.join(stack.dir, 'junk.pdf');
    writeFileSync(junk, 'not a pdf at all');
    expect((await stack.cli(['verify', junk])).code).toBe(2);
    expect((await stack.cli(['verify', path.join(stack.dir, 'missing.pdf')])).code).toBe(2);
  });
});

describe('POST /v1/verifications', () => {
  it('answers the JSON report for an application/pdf body', async () => {
    const res = await post(signed, { 'Content-Type': 'application/pdf' });
    expect(res.status).toBe(200);
    const report = await json(res);
    expect(report.verdict).toBe('valid');
    expect(report.signatures[0].level).toBe('B-T');
  });

  it('takes multipart uploads and answers a readable page to browsers', async () => {
    const form = new FormData();
    form.append('document', new Blob([signed], { type: 'application/pdf' }), 'signed.pdf');
    const res = await fetch(`${stack.server.url}/v1/verifications`, { method: 'POST', body: form, headers: { Accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('有效');
    expect(html).toContain('行政审批专用章');
  });

  it('reports a tampered copy as invalid', async () => {
    const res = await post(readFileSync(tamperedPath), { 'Content-Type': 'application/pdf' });
    expect((await json(res)).verdict).toBe('invalid');
  });

  it('refuses uploads over the limit with 413 problem+json', async () => {
    const res = await post(Buffer.alloc(2 * 1024 * 1024, 0x20), { 'Content-Type': 'application/pdf' });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 422 problem+json for a non-PDF body', async () => {
    const res = await post(Buffer.from('hello'), { 'Content-Type': 'application/pdf' });
    expect(res.status).toBe(422);
    expect((await json(res)).detail).toMatch(/PDF/);
  });

  it('rate-limits each address with 429 and Retry-After', async () => {
    // More than the burst (40) at once: the bucket cannot refill that fast.
    const burst = await Promise.all(Array.from({ length: 80 }, () => post('x', { 'Content-Type': 'text/plain' })));
    const statuses = burst.map((r) => r.status);
    expect(statuses).toContain(429);
    const limited = burst.find((r) => r.status === 429)!;
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
