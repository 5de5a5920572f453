import { ungrantClient } from '../access/clients.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';
import { GRANT_OPTIONS, GRANT_USAGE, grantRequest, grantsText } from './client-grants.js';

export const clientUngrant: Command = {
  name: 'client ungrant',
  summary: 'take seals, scopes or licence types from a system client (at once)',
  usage: `${GRANT_USAGE}${ACTING_USAGE}`,
  positionals: 1,
  options: { ...GRANT_OPTIONS, ...ACTING_OPTIONS },
  async run(ctx) {
    const request = grantRequest(ctx, 'ungrant');
    return actAs(ctx, async (services, actor) => {
      const client = await ungrantClient(services, actor, request);
      printResult(ctx, client, grantsText(client));
      return 0;
    });
  },
};
