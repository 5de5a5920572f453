import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { pemToDer } from '../pki/der.js';
import { ownVerifyOptions } from '../pki/verification.js';
import { openStore } from '../store/db.js';
import { verifyPdf, type Verdict } from '../verify/index.js';
import { textReport } from '../verify/text-report.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

/** 0 valid; 1 invalid, or not sealed (no seal signature, time-stamps at most); 3 indeterminate; 2 is usage and I/O. */
const EXIT: Record<Verdict, number> = { valid: 0, invalid: 1, 'not-sealed': 1, indeterminate: 3 };

export const verify: CommandRunner = {
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new UsageError('name the PDF to verify');
    const trustFiles = (ctx.values.trust as unknown as string[] | undefined) ?? [];
    const extraTrust = trustFiles.map((f) => pemToDer(readFileSync(f)));
    const bytes = readFileSync(file);
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      const report = await verifyPdf(bytes, await ownVerifyOptions(store.db, extraTrust));
      printResult(ctx, { file, ...report }, textReport(file, report));
      return EXIT[report.verdict];
    } finally {
      await store.close();
    }
  },
};
