import { actorLabel } from '../access/actors.js';
import { authorizeLicence } from '../access/policy.js';
import { licenceView, requireLicence, revokeLicence } from '../licences/service.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const licenceRevoke: CommandRunner = {
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence revoke ID --reason TEXT');
    const { reason } = ctx.values;
    if (typeof reason !== 'string') throw new UsageError('give the reason with --reason TEXT');
    return actAs(ctx, async (services, actor) => {
      authorizeLicence(actor, 'licence.revoke', await requireLicence(services.store.db, id));
      const record = await revokeLicence({ db: services.store.db }, id, reason, actorLabel(actor));
      printResult(ctx, licenceView(services.config.publicUrl, record), `revoked ${record.id} at ${record.revokedAt}: ${record.revocationReason}`);
      return 0;
    });
  },
};
