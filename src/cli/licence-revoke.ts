import { loadConfig } from '../config.js';
import { licenceView, revokeLicence } from '../licences/service.js';
import { openStore } from '../store/db.js';
import { printResult, UsageError, type Command } from './command.js';
import { osUser } from './stamp.js';

export const licenceRevoke: Command = {
  name: 'licence revoke',
  summary: 'revoke a licence; the reason is shown on its public page',
  usage: 'ID --reason TEXT ',
  positionals: 1,
  options: { reason: { type: 'string' } },
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence revoke ID --reason TEXT');
    if (typeof ctx.values.reason !== 'string') throw new UsageError('give the reason with --reason TEXT');
    const config = loadConfig(ctx.io.env);
    const store = await openStore(config);
    try {
      const record = await revokeLicence({ db: store.db }, id, ctx.values.reason, `cli:${osUser()}`);
      printResult(ctx, licenceView(config.publicUrl, record), `revoked ${record.id} at ${record.revokedAt}: ${record.revocationReason}`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
