/**
 * The public page a licence's QR code opens (GET /v/{id}) and its "check the file you hold" form
 * (POST /v/{id}/check). Browsers get HTML for every answer they can act on, a missing licence included.
 * The plain view is one primary-key read without the PDF column and no PDF work, kept for a second
 * (src/licences/record-cache.ts): a revocation shows at once here and within a second on other instances.
 * Its HTML is rendered once per record read, language and status (src/licences/record-memo.ts).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { OneSealError, type ErrorKind } from '../../errors.js';
import { checkResultPage, licencePage, notFoundPage, PAGE_CSP, pageLang, uploadErrorPage } from '../../licences/page.js';
import { LicenceRecordCache } from '../../licences/record-cache.js';
import { RecordMemo } from '../../licences/record-memo.js';
import { checkLicenceCopy, licenceDeps, licenceHandling, publicStatus } from '../../licences/service.js';
import { getLicence } from '../../store/licences.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { readMultipartFile } from '../multipart.js';
import { toProblem } from '../problem.js';
import { takeOrRefuse } from '../rate-limit.js';

/**
 * Issued licences are a few hundred kilobytes; anyone may post here and each upload is verified, so a
 * far smaller cap than the API's keeps the public page from being a cheap way to burn CPU.
 */
const CHECK_UPLOAD_LIMIT = 10 * 1024 * 1024;
const PAGE_ERRORS: ReadonlySet<ErrorKind> = new Set(['bad-request', 'too-large', 'unsupported-media', 'rate-limited', 'timeout']);

function sendHtml(ctx: Context, status: number, html: string | Buffer): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.body = html;
}

export const registerVerifyPageRoutes: ServiceRouteRegistrar = (router: Router, { services, openapi, publicLimiter }) => {
  const deps = licenceDeps(services);
  const records = new LicenceRecordCache();
  const derived = new RecordMemo();

  router.get('/v/:id', async (ctx) => {
    const lang = pageLang(ctx.query.lang);
    const record = await records.get(ctx.params.id!, (id) => getLicence(deps.db, id));
    if (!record) return sendHtml(ctx, 404, notFoundPage(ctx.params.id!, lang));
    const handling = await derived.get(record, 'handling', () => licenceHandling(deps.db, record));
    // The status is worked out per request (a licence expires by the calendar) and picks the page.
    const status = publicStatus(deps.registry, record, new Date(), handling);
    sendHtml(ctx, 200, derived.get(record, `page ${lang} ${status.status}`, () => Buffer.from(licencePage(status, lang))));
  });

  router.post('/v/:id/check', async (ctx) => {
    const lang = pageLang(ctx.query.lang);
    // Taken before anything else: a request for an unknown id still counts.
    let refused: unknown;
    try {
      takeOrRefuse(publicLimiter, ctx.ip);
    } catch (e) {
      refused = e;
    }
    const record = await getLicence(deps.db, ctx.params.id!);
    if (!record) return sendHtml(ctx, 404, notFoundPage(ctx.params.id!, lang));
    const status = publicStatus(deps.registry, record, new Date(), await licenceHandling(deps.db, record));
    let check;
    try {
      if (refused) throw refused;
      const upload = await readMultipartFile(ctx, { limit: Math.min(services.config.maxUploadBytes, CHECK_UPLOAD_LIMIT), field: 'document', alsoAccepted: ['file'] });
      check = await checkLicenceCopy((bytes) => services.verifier.verifyWithin(services.config.requestTimeoutMs, bytes), record, upload);
    } catch (e) {
      // A person at a browser gets a page with the way back, not problem+json.
      if (!(e instanceof OneSealError) || !PAGE_ERRORS.has(e.kind)) throw e;
      const problem = toProblem(e, ctx.state.requestId as string, ctx.path);
      if (problem.retryAfter !== undefined) ctx.set('Retry-After', String(problem.retryAfter));
      return sendHtml(ctx, problem.status, uploadErrorPage(status, problem.body.detail, lang));
    }
    services.metrics.verifications.inc({ verdict: check.verdict });
    sendHtml(ctx, 200, checkResultPage(status, check, lang));
  });

  const checkUpload = {
    type: 'string',
    format: 'binary',
    description: 'The PDF to check (the part is named `document`, as on POST /v1/verifications; `file`, the page form\'s name, is accepted too)',
  };
  const page = (operationId: string, summary: string) => ({
    operationId,
    summary,
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'lang', in: 'query', schema: { type: 'string', enum: ['zh', 'en'] }, description: 'Page language (default Chinese)' },
    ],
  });
  openapi.add({
    '/v/{id}': {
      get: {
        ...page('licencePage', 'The public licence page behind the QR code (HTML for phones): status, masked holder, issuer, dates, seal, upload form'),
        responses: { 200: { description: 'HTML page', content: { 'text/html': {} } }, 404: { description: 'HTML "not found" page', content: { 'text/html': {} } } },
      },
    },
    '/v/{id}/check': {
      post: {
        ...page('checkLicenceCopy', 'Checks an uploaded PDF: identical to the issued licence (SHA-256) and signatures valid (verification engine)'),
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { document: checkUpload } }, example: { document: '(the bytes of licence.pdf)' } } } },
        responses: {
          200: { description: 'HTML verdict page', content: { 'text/html': {} } },
          400: { description: 'HTML page leading back: the form has no `document` file, or is malformed', content: { 'text/html': {} } },
          404: { description: 'HTML "not found" page', content: { 'text/html': {} } },
          413: { description: 'HTML page leading back: the file is over 10 MB', content: { 'text/html': {} } },
          415: { description: 'HTML page leading back: the body is not multipart/form-data', content: { 'text/html': {} } },
          429: { description: 'HTML page: too many checks from this address (one limit shared with POST /v1/verifications)', content: { 'text/html': {} } },
          503: { description: 'HTML page leading back: the check ran past the request time-out and was stopped', content: { 'text/html': {} } },
        },
      },
    },
  });
};
