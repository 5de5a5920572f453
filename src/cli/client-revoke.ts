import { revokeClient } from '../access/clients.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, UsageError, type Command } from './command.js';

export const clientRevoke: Command = {
  name: 'client revoke',
  summary: 'revoke a system client: its key stops working at once',
  usage: `NAME-OR-ID ${ACTING_USAGE}`,
  positionals: 1,
  options: ACTING_OPTIONS,
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
