/**
 * Electronic archives over HTTP: GET /v1/archive packages a case, stamp or licence as ASiC-E;
 * POST /v1/admin/archive/renew runs the long-term renewal now (as the daily job does), e.g. after
 * the TSA got a new certificate.
 */
import { actorLabel } from '../../access/actors.js';
import { authorize } from '../../access/policy.js';
import { exportPackage, exportSelector } from '../../archive/package.js';
import { renewArchiveOnce, renewDeps } from '../../archive/renew.js';
import { OneSealError } from '../../errors.js';
import type { ServiceRouteRegistrar } from '../app.js';
import { authenticate, requireActor } from '../auth.js';
import { readJsonObject } from '../body.js';
import { problemResponse } from '../openapi.js';

const MAX_DAYS = 10 * 366;

function dueWithin(body: Record<string, unknown>, fallback: number): number {
  const v = body.dueWithinDays;
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_DAYS) {
    throw new OneSealError('invalid-field', 'bad-request', `dueWithinDays must be a whole number of days from 0 to ${MAX_DAYS}.`, { fields: [{ field: 'dueWithinDays', message: 'not a number of days' }] });
  }
  return v;
}

export const registerArchiveRoutes: ServiceRouteRegistrar = (router, { services, openapi }) => {
  const auth = authenticate(services);

  router.get('/v1/archive', auth, async (ctx) => {
    const actor = requireActor(ctx);
    const pick = (k: string): string | undefined => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string) : undefined);
    const selector = exportSelector({ case: pick('case'), stamp: pick('stamp'), licence: pick('licence') });
    const result = await exportPackage(services, actor, selector);
    ctx.type = 'application/vnd.etsi.asic-e+zip';
    ctx.set('Content-Disposition', 'attachment; filename="archive.asice"');
    ctx.body = result.asice;
  });

  router.post('/v1/admin/archive/renew', auth, async (ctx) => {
    const actor = requireActor(ctx);
    authorize(actor, 'archive.renew');
    const body = await readJsonObject(ctx, 4096, { optional: true });
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') {
      throw new OneSealError('invalid-field', 'bad-request', 'dryRun must be true or false.', { fields: [{ field: 'dryRun', message: 'not a boolean' }] });
    }
    const run = await renewArchiveOnce(renewDeps(services), {
      horizonDays: dueWithin(body, services.config.archive.horizonDays),
      weakDigests: services.config.archive.weakDigests,
      dryRun: body.dryRun === true,
      actor: actorLabel(actor),
    }, `api:${process.pid}`);
    if (!run) throw new OneSealError('archive-renewal-running', 'conflict', 'A renewal is running already (on this or another instance); try again when it has finished.');
    ctx.body = run;
  });

  openapi.add({
    '/v1/archive': {
      get: {
        tags: ['Archive'],
        operationId: 'exportArchive',
        summary: 'Export a case, stamp or licence as an ASiC-E archive package',
        description: 'A ZIP (ETSI EN 319 162-1 ASiC-E): `mimetype` first and stored; each document in its newest copy (a B-T one raised to B-LTA first; metadata.json says why a B-B one could not be); per document a validation report as JSON and as a printable PDF in Chinese; '
          + 'the audit entries about the documents with the hash-chain proof up to a chain head signed by the audit key; metadata.json (case, item codes, clients, dates, retention); '
          + 'META-INF/ASiCManifest.xml (URI and SHA-256 of every file) and META-INF/signature.p7s, a detached CAdES-B-T signature over the manifest by the archive key in the HSM. '
          + '`oneseal archive verify` checks it offline. Auditors and licence officers export anything; a system client only documents it made itself.',
        security: [{ bearer: [] }],
        parameters: [
          { name: 'case', in: 'query', required: false, schema: { type: 'string', maxLength: 64 }, example: 'SP-2026-0001', description: 'A case number: every stamp and licence recorded with it.' },
          { name: 'stamp', in: 'query', required: false, schema: { type: 'string', format: 'uuid' } },
          { name: 'licence', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: {
          200: { description: 'The package.', content: { 'application/vnd.etsi.asic-e+zip': { schema: { type: 'string', contentMediaType: 'application/vnd.etsi.asic-e+zip' } } } },
          400: problemResponse('Not exactly one of case, stamp and licence.'),
          401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
          403: problemResponse('Needs the auditor or licence-officer role, or the stamps scope.'),
          404: problemResponse('No stored documents for it among yours.'),
        },
      },
    },
    '/v1/admin/archive/renew': {
      post: {
        tags: ['Admin: archive'],
        operationId: 'renewArchive',
        summary: 'Renew the long-term validation of stored documents now',
        description: 'Finds stamped documents and licences whose newest time-stamp relies on a TSA certificate expiring within `dueWithinDays` (default ONESEAL_ARCHIVE_HORIZON_DAYS) or on a digest ONESEAL_ARCHIVE_WEAK_DIGESTS names, and appends validation data and a document time-stamp to each (PAdES B-LTA). Each renewal is audited; downloads return the newest copy. `dryRun` lists what is due without changing anything. `blocked` says why nothing was renewed: the TSA certificate ends within the horizon, or a new time-stamp would rely on a weakening digest. (Exported packages are renewed by `oneseal archive renew --packages DIR`, where they are kept.)',
        security: [{ bearer: [] }],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', properties: { dueWithinDays: { type: 'integer', minimum: 0, maximum: MAX_DAYS }, dryRun: { type: 'boolean' } } }, example: { dueWithinDays: 365, dryRun: true } } },
        },
        responses: {
          200: { description: 'What was due, renewed and failed.', content: { 'application/json': { schema: { type: 'object', properties: { indexed: { type: 'integer' }, due: { type: 'array' }, renewed: { type: 'array' }, failed: { type: 'array' }, blocked: { type: 'string' } } } } } },
          400: problemResponse('dueWithinDays or dryRun is not valid.'),
          401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
          403: problemResponse('Needs the seal-admin or operator role.'),
          409: problemResponse('A renewal is running already.'),
        },
      },
    },
  });
};
