import { ungrantClient } from '../access/clients.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';
import { grantRequest, grantsText } from './client-grants.js';

export const clientUngrant: CommandRunner = {
  async run(ctx) {
    const request = grantRequest(ctx, 'ungrant');
    return actAs(ctx, async (services, actor) => {
      const client = await ungrantClient(services, actor, request);
      printResult(ctx, client, grantsText(client));
      return 0;
    });
  },
};
