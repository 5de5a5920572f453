import { revokeClient } from '../access/clients.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const clientRevoke: CommandRunner = {
  async run(ctx) {
    const [ref] = ctx.positionals;
    if (!ref) throw new UsageError('name the client: oneseal client revoke NAME-OR-ID (see oneseal client list)');
    return actAs(ctx, async (services, actor) => {
      const client = await revokeClient(services, actor, ref);
      printResult(ctx, client, `revoked client ${client.id} (${client.name}) at ${client.revokedAt}`);
      return 0;
    });
  },
};
