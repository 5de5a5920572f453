import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLicence, licenceDeps } from '../src/licences/service.js';
import { timestampRequestFor } from '../src/pki/tsa.js';
import { getLicencePdf } from '../src/store/licences.js';
import { docTimeStampDict } from '../src/signing/signature-dict.js';
import { freshSample } from './licences-samples.js';
import { makePdf } from './support/pdfs.js';
import { fixture, openStack, OTHER_SIGNER_PDF, type Stack } from './support/stamp-stack.js';
import { invisibleSignatureField, signRevision } from './verify-shadow-attacks.js';
import { makeIndependentSigner } from './verify-victims.js';

let stack: Stack;
let signedPath: string;
let signed: Buffer;
let tamperedPath: string;
/** A plain PDF whose only "signature" is a document time-stamp from this server's public TSA. */
let stampedOnly: Buffer;
let stampedOnlyPath: string;

/** What anyone can do without a key: ask POST /pki/tsa for a token over some bytes. */
async function tokenFromPublicTsa(digest: Uint8Array): Promise<Uint8Array> {
  const res = await fetch(`${stack.server.url}/pki/tsa`, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: timestampRequestFor({ digest }) });
  expect(res.status).toBe(200);
  const reply = pkijs.TimeStampResp.fromBER(new Uint8Array(await res.arrayBuffer()));
  return new Uint8Array(reply.timeStampToken!.toSchema().toBER());
}

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
  stampedOnly = await signRevision(await makePdf(), { dict: docTimeStampDict(16_384), hash: 'sha256', contents: tokenFromPublicTsa }, invisibleSignatureField('Stamp'));
  stampedOnlyPath = path.join(stack.dir, 'stamped-only.pdf');
  writeFileSync(stampedOnlyPath, stampedOnly);
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

  it("exits 1 NOT SEALED for a document whose only signature is a time-stamp from OneSeal's own public TSA, naming no signer", async () => {
    const json = await stack.cli(['verify', stampedOnlyPath, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report).toMatchObject({ verdict: 'not-sealed', seals: 0 });
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(['NO_SEAL_SIGNATURE']);
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]).toMatchObject({ kind: 'doc-timestamp', verdict: 'valid' });
    expect(report.signatures[0].signer).toBeUndefined();
    expect(report.signatures[0].timestamp.tsa).toContain('OneSeal Time-Stamping Authority');
    const text = await stack.cli(['verify', stampedOnlyPath]);
    expect(text.code).toBe(1);
    expect(text.out).toContain('未签章 NOT SEALED');
    expect(text.out).not.toContain('有效 VALID');
    expect(text.out).not.toMatch(/签章人: OneSeal Time-Stamping Authority/);
    expect(text.out).toContain('NO_SEAL_SIGNATURE');
  });

  it('escapes control characters from certificates and documents in text and JSON output', async () => {
    const evil = 'Seal\u001b[2J\u001b[31m\u009b31m\u202eLAVNI\n有效 VALID';
    const forged = path.join(stack.dir, 'evil-name.pdf');
    writeFileSync(forged, await makeIndependentSigner(evil).sign(Buffer.from(await makePdf())));
    for (const args of [[], ['--json']]) {
      const { out } = await stack.cli(['verify', forged, ...args]);
      expect(out).toContain('Seal');
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      if (args.length === 0) {
        expect(out).toContain('Seal\\u{1b}[2J\\u{1b}[31m\\u{9b}31m\\u{202e}LAVNI\\u{a}有效 VALID');
        // The name cannot start a line of its own: no forged verdict line.
        expect(out.split('\n').filter((l) => l.includes('VALID'))).toEqual([expect.stringContaining('signer 签章人: Seal')]);
      } else expect(JSON.parse(out).signatures[0].signer.commonName).toBe(evil);
    }
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
    // Hashed after the verification: the upload the worker was handed is a copy, the route's own stays whole.
    expect(html).toContain(`SHA-256: <code>${createHash('sha256').update(signed).digest('hex')}</code>`);
  });

  it('answers not-sealed for time-stamps only, in JSON and on the readable page, never naming the TSA as signer', async () => {
    const report = await json(await post(stampedOnly, { 'Content-Type': 'application/pdf' }));
    expect(report).toMatchObject({ verdict: 'not-sealed', seals: 0 });
    expect(report.signatures[0].signer).toBeUndefined();
    const page = await post(stampedOnly, { 'Content-Type': 'application/pdf', Accept: 'text/html' });
    const html = await page.text();
    expect(html).toContain('<h1 class="not-sealed">未签章 · not sealed</h1>');
    expect(html).toContain('0 个签章 seal signature(s) · 1 个文档时间戳 document time-stamp(s)');
    expect(html).not.toMatch(/签章人: OneSeal Time-Stamping Authority/);
    expect(html).not.toContain('class="valid"');
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

describe('POST /v/{id}/check', () => {
  it('tells a time-stamped file without a seal apart from the licence: not genuine, no seal, no TSA named', async () => {
    const licence = await issueLicence(licenceDeps(stack.services), { type: 'business-licence', data: freshSample('business-licence') }, 'test');
    const check = async (file: Buffer, lang: string): Promise<string> => {
      const form = new FormData();
      form.append('file', new Blob([file], { type: 'application/pdf' }), 'licence.pdf');
      const res = await fetch(`${stack.server.url}/v/${licence.id}/check?lang=${lang}`, { method: 'POST', body: form });
      expect(res.status).toBe(200);
      return res.text();
    };
    for (const [lang, noSeal] of [['zh', '文件没有电子签章（时间戳只证明时间，不是签章）'], ['en', 'The file carries no electronic seal (a time-stamp proves a time, it is not a seal)']] as const) {
      const page = await check(stampedOnly, lang);
      expect(page).toContain(noSeal);
      expect(page).not.toContain('OneSeal Time-Stamping Authority');
    }
    const genuine = await check((await getLicencePdf(stack.services.store.db, licence.id))!, 'en');
    expect(genuine).toContain('Electronic seal signature verifies');
  });
});
