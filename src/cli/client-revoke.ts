import { revokeApiClient } from '../api/clients.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { printResult, UsageError, type Command } from './command.js';
import { osUser } from './stamp.js';

export const clientRevoke: Command = {
  name: 'client revoke',
  summary: 'revoke an API client: its key stops working at once',
  usage: 'ID ',
  positionals: 1,
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the client: oneseal client revoke ID (see oneseal client list)');
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      const client = await revokeApiClient(store.db, id, `cli:${osUser()}`);
      printResult(ctx, client, `revoked client ${client.id} (${client.name}) at ${client.revokedAt}`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
