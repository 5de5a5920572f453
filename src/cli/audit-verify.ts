import { verifyAuditChain } from '../audit/chain.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { printResult, type Command } from './command.js';

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'check the audit log hash chain; exit 1 naming the first bad entry',
  async run(ctx) {
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      const result = await verifyAuditChain(store.db);
      printResult(
        ctx,
        result,
        result.ok ? `audit log intact: ${result.count} entries, head ${result.lastHash}` : `audit log broken at entry ${result.seq} (${result.problem}): ${result.message}`,
      );
      return result.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};
