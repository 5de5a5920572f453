/**
 * POST /v1/verifications: anyone may ask whether a PDF is genuine. No authentication, so the
 * upload limit and a per-address rate limit bound what a stranger can make us do.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Report } from '../../verify/index.js';
import { signatureLines, VERDICT_WORDS } from '../../verify/text-report.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { readBody } from '../body.js';
import { readMultipartFile } from '../multipart.js';
import { problemResponse } from '../openapi.js';
import { takeOrRefuse } from '../rate-limit.js';

const BILINGUAL = { type: 'object', required: ['zh', 'en'], properties: { zh: { type: 'string' }, en: { type: 'string' } } };
const LEVEL = { enum: ['none', 'lta-updates', 'form-filling', 'annotations', 'other'], description: 'Ordered: none < lta-updates < form-filling < annotations < other' };
const VERDICT = {
  enum: ['valid', 'invalid', 'indeterminate', 'not-sealed'],
  description: 'not-sealed: no seal signature at all (unsigned, or document time-stamps only: a time-stamp proves a time, not approval)',
};

const REPORT_SCHEMA = {
  type: 'object',
  required: ['verdict', 'signatures', 'findings', 'revisions', 'seals'],
  properties: {
    verdict: VERDICT,
    revisions: { type: 'integer' },
    seals: { type: 'integer', description: 'Seal signatures among `signatures` (document time-stamps and TSA-made signatures are not seals)' },
    signatures: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          fieldName: { type: 'string' },
          kind: { enum: ['signature', 'doc-timestamp'] },
          verdict: VERDICT,
          reasons: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: BILINGUAL } } },
          signer: { type: 'object', description: 'The seal holder, for seal signatures only; a time-stamp names its TSA under timestamp.tsa' },
          reason: { type: 'string', description: 'The signature\'s /Reason: for OneSeal stamps, the item and who handled it (受托办理：…（item）)' },
          location: { type: 'string', description: 'The signature\'s /Location: the handling body (a service centre, or the bureau)' },
          signingTime: { type: 'string' },
          provenTime: { type: 'string' },
          timestamp: { type: 'object' },
          level: { enum: ['B-B', 'B-T', 'B-LT', 'B-LTA', null] },
          revision: { type: 'integer', description: '0-based revision the signature covers' },
          coversWholeDocument: { type: 'boolean' },
          coverage: {
            type: 'object',
            properties: { revision: { type: 'integer' }, revisions: { type: 'integer' }, laterLevel: LEVEL, message: BILINGUAL },
            description: '"covers revision 1 of 2; revision 2 adds validation data only"',
          },
          modifications: {
            type: 'array',
            items: {
              type: 'object',
              properties: { revision: { type: 'integer' }, level: LEVEL, kind: { type: 'string' }, message: BILINGUAL, permitted: { type: 'boolean' }, refusal: BILINGUAL },
            },
          },
          docMdp: { enum: [1, 2, 3] },
        },
      },
    },
    findings: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: BILINGUAL } } },
  },
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:46rem;padding:0 1rem}h1{font-size:1.4rem}.valid{color:#0a7a2f}.invalid,.not-sealed{color:#b00020}.indeterminate{color:#9a6700}pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border-radius:6px}';
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'`;

function htmlReport(report: Report, sha256: string): string {
  const v = VERDICT_WORDS[report.verdict];
  const signatures = report.signatures.map((s, i) => `<pre>${escapeHtml(signatureLines(s, i).join('\n'))}</pre>`).join('\n');
  const findings = report.findings.map((f) => `<li>${escapeHtml(`${f.code}: ${f.message.zh} ${f.message.en}`)}</li>`).join('');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>验证报告 Verification report</title><style>${STYLE}</style></head><body>
<h1 class="${report.verdict}">${escapeHtml(v.zh)} · ${escapeHtml(v.en)}</h1>
<p>SHA-256: <code>${sha256}</code> · ${report.seals} 个签章 seal signature(s) · ${report.signatures.filter((s) => s.kind === 'doc-timestamp').length} 个文档时间戳 document time-stamp(s) · ${report.revisions} 个版本 revision(s)</p>
${signatures}${findings ? `<ul>${findings}</ul>` : ''}
</body></html>`;
}

async function readDocument(ctx: Context, limit: number): Promise<Buffer> {
  if (ctx.is('multipart/form-data')) return readMultipartFile(ctx, { limit, field: 'document' });
  return readBody(ctx, { limit, types: ['application/pdf'] });
}

export const registerVerificationRoutes: ServiceRouteRegistrar = (router, { services, openapi, publicLimiter }) => {
  router.post('/v1/verifications', async (ctx) => {
    takeOrRefuse(publicLimiter, ctx.ip);
    const bytes = await readDocument(ctx, services.config.maxUploadBytes);
    const report = await services.verifier.verifyWithin(services.config.requestTimeoutMs, bytes);
    if (ctx.accepts('application/json', 'text/html') === 'text/html') {
      ctx.set('Content-Security-Policy', CSP);
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = htmlReport(report, createHash('sha256').update(bytes).digest('hex'));
    } else {
      ctx.body = report;
    }
  });

  openapi.add(
    {
      '/v1/verifications': {
        post: {
          operationId: 'verifyDocument',
          summary: 'Verify the signatures of a PDF',
          description:
            "Structure, integrity, trust (OneSeal's roots), time-stamps, revocation at the proven time, and every change made after each signature, judged by whitelisting (anything no rule explains is MODIFIED_AFTER_SIGNING). Valid needs at least one seal signature; a document with time-stamps only is not-sealed. No authentication; rate-limited per address. `Accept: text/html` returns a readable report.",
          requestBody: {
            required: true,
            content: {
              'application/pdf': { schema: { type: 'string', format: 'binary' }, example: '(the bytes of sealed.pdf)' },
              'multipart/form-data': {
                schema: { type: 'object', properties: { document: { type: 'string', format: 'binary' } }, required: ['document'] },
                example: { document: '(the bytes of sealed.pdf)' },
              },
            },
          },
          responses: {
            200: { description: 'The report', content: { 'application/json': { schema: { $ref: '#/components/schemas/VerificationReport' } }, 'text/html': {} } },
            413: problemResponse('The upload is over the size limit'),
            415: problemResponse('Not a PDF or multipart body'),
            422: problemResponse('The file is not a PDF OneSeal can read (broken, encrypted)'),
            429: problemResponse('Too many requests from this address (shared with POST /v/{id}/check)'),
            503: problemResponse('The verification ran past the request time-out and was stopped (`outcome: cancelled`); retry later'),
          },
        },
      },
    },
    { VerificationReport: REPORT_SCHEMA },
  );
};
