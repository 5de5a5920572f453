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
    return actAs(ctx, async (services, actor) => {
      authorize(actor, 'archive.renew');
      const run = await renewArchiveOnce(renewDeps(services), {
        horizonDays: raw === undefined ? services.config.archive.horizonDays : Number(raw),
        weakDigests: services.config.archive.weakDigests,
        dryRun: ctx.values['dry-run'] === true,
        actor: actorLabel(actor),
        // Progress on stderr, so --json output stays one document.
        onProgress: (p) => ctx.io.err(`renewed ${p.done}/${p.total}: ${p.kind} ${p.recordId}`),
      }, `cli:${process.pid}`);
      if (!run) throw new OneSealError('archive-renewal-running', 'conflict', 'A renewal is running already (the server’s daily job or another command); try again when it has finished.');
      const lines = [
        `${run.indexed} document(s) newly indexed; ${run.due.length} due${ctx.values['dry-run'] ? ' (dry run: nothing renewed)' : ''}`,
        ...run.due.map((d) => `  due: ${d.kind} ${d.recordId} (${d.reason}, time-stamp certificate expires ${d.timestampExpiresAt})`),
        ...run.renewed.map((r) => `  renewed: ${r.kind} ${r.recordId} → copy ${r.copySeq} (sha256 ${r.sha256})`),
        ...run.failed.map((f) => `  FAILED: ${f.kind} ${f.recordId}: ${f.error}`),
        ...(run.blocked ? [`  BLOCKED: ${run.blocked}`] : []),
      ];
      printResult(ctx, run, lines.join('\n'));
      return run.failed.length > 0 || run.blocked ? 1 : 0;
    });
  },
};
