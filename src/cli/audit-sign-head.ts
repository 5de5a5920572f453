import { signAuditHead } from '../audit/heads.js';
import { loadConfig } from '../config.js';
import { openServices } from '../services.js';
import { printResult, type CommandRunner } from './command.js';

export const auditSignHead: CommandRunner = {
  async run(ctx) {
    const services = await openServices(loadConfig(ctx.io.env));
    try {
      const { signer, certificate } = services.authority.audit;
      const signed = await signAuditHead({ db: services.store.db, signer, certificate });
      if (!signed) {
        printResult(ctx, { signed: false, head: null }, 'the audit log is empty: nothing to sign');
      } else {
        const { head, created } = signed;
        printResult(
          ctx,
          { signed: created, head },
          created ? `signed the audit chain head at entry ${head.seq} (${head.hash})` : `the audit chain head at entry ${head.seq} is signed already (at ${head.signedAt})`,
        );
      }
      return 0;
    } finally {
      await services.close();
    }
  },
};
