import { statSync } from 'node:fs';
import { actorLabel } from '../access/actors.js';
import { authorize } from '../access/policy.js';
import { renewArchiveOnce, renewDeps } from '../archive/renew.js';
import { OneSealError } from '../errors.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const archiveRenew: CommandRunner = {
  async run(ctx) {
    const raw = ctx.values['due-within'];
    if (raw !== undefined && (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw))) throw new UsageError('--due-within takes a number of days');
    const packagesDir = ctx.values.packages;
    if (packagesDir !== undefined && (typeof packagesDir !== 'string' || !statSync(packagesDir, { throwIfNoEntry: false })?.isDirectory())) {
      throw new UsageError('--packages takes the directory the exported *.asice packages are kept in');
    }
    return actAs(ctx, async (services, actor) => {
      authorize(actor, 'archive.renew');
      const run = await renewArchiveOnce(renewDeps(services), {
        horizonDays: raw === undefined ? services.config.archive.horizonDays : Number(raw),
        weakDigests: services.config.archive.weakDigests,
        dryRun: ctx.values['dry-run'] === true,
        ...(packagesDir === undefined ? {} : { packagesDir }),
        actor: actorLabel(actor),
        // Progress on stderr, so --json output stays one document.
        onProgress: (p) => ctx.io.err(`renewed ${p.done}/${p.total}: ${p.what}`),
      }, `cli:${process.pid}`);
      if (!run) throw new OneSealError('archive-renewal-running', 'conflict', 'A renewal is running already (the server’s daily job or another command); try again when it has finished.');
      const lines = [
        `${run.indexed} document(s) newly indexed; ${run.due.length} due${ctx.values['dry-run'] ? ' (dry run: nothing renewed)' : ''}`,
        ...run.due.map((d) => `  due: ${d.kind} ${d.recordId} (${d.reason}, time-stamp certificate expires ${d.timestampExpiresAt})`),
        ...run.renewed.map((r) => `  renewed: ${r.kind} ${r.recordId} → copy ${r.copySeq} (sha256 ${r.sha256})`),
        ...run.failed.map((f) => `  FAILED: ${f.kind} ${f.recordId}: ${f.error}`),
        ...(run.packages ? [
          `${run.packages.due.length} package(s) due`,
          ...run.packages.due.map((d) => `  due: ${d.file} (${d.reason}, time-stamp certificate expires ${d.timestampExpiresAt})`),
          ...run.packages.renewed.map((r) => `  renewed: ${r.file} → ${r.timestamp} (sha256 ${r.sha256})`),
          ...run.packages.failed.map((f) => `  FAILED: ${f.file}: ${f.error}`),
        ] : []),
        ...(run.blocked ? [`  BLOCKED: ${run.blocked}`] : []),
      ];
      printResult(ctx, run, lines.join('\n'));
      return run.failed.length > 0 || (run.packages?.failed.length ?? 0) > 0 || run.blocked ? 1 : 0;
    });
  },
};
