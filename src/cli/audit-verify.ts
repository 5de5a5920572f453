import { verifyAuditLog } from '../audit/heads.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { getPkiKey } from '../store/pki.js';
import { printResult, type Command } from './command.js';

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'check the audit log hash chain and its signed heads; exit 1 naming the first bad entry or head',
  async run(ctx) {
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      // Only the database is needed: the heads are checked with the audit certificate, not the HSM.
      const auditKey = await getPkiKey(store.db, 'audit');
      const result = await verifyAuditLog(store.db, auditKey ? [auditKey.certificate] : []);
      let text: string;
      if (!result.ok) {
        text = `audit log broken at entry ${result.seq} (${result.problem}): ${result.message}`;
      } else {
        const { checked, latestSignedSeq } = result.heads;
        const signed = latestSignedSeq === null ? 'no signed heads yet' : `${checked} signed head${checked === 1 ? '' : 's'} verified, latest signed entry ${latestSignedSeq}`;
        text = `audit log intact: ${result.count} entries, head ${result.lastHash}; ${signed}`;
      }
      printResult(ctx, result, text);
      return result.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};
