import { writeFile } from 'node:fs/promises';
import { exportPackage, exportSelector } from '../archive/package.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const archiveExport: CommandRunner = {
  async run(ctx) {
    const out = text(ctx.values.out);
    if (!out) throw new UsageError('say where to write the package: -o FILE.asice');
    const given = { case: text(ctx.values.case), stamp: text(ctx.values.stamp), licence: text(ctx.values.licence) };
    if (Object.values(given).filter((v) => v !== undefined).length !== 1) throw new UsageError('give exactly one of --case, --stamp and --licence');
    const selector = exportSelector(given);
    return actAs(ctx, async (services, actor) => {
      const result = await exportPackage(services, actor, selector);
      await writeFile(out, result.asice);
      const lines = [
        `wrote ${out}: ${result.documents} document(s), ${result.asice.length} bytes`,
        ...result.raised.map((d) => `  raised to B-LTA: ${d}`),
        ...result.notRaised.map((n) => `  NOT raised to B-LTA: ${n.document}: ${n.why}`),
      ];
      printResult(ctx, { file: out, documents: result.documents, bytes: result.asice.length, raised: result.raised, notRaised: result.notRaised }, lines.join('\n'));
      return 0;
    });
  },
};
