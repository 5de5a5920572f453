import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import type { CommandRunner } from './command.js';
import { grantRequest, grantsText } from './client-grants.js';

export const clientGrant: CommandRunner = {
  async run(ctx) {
    const request = grantRequest(ctx, 'grant');
    return actAs(ctx, async (services, actor) => printChange(ctx, await requestChange(services, actor, 'client.grant', request), grantsText, { flat: true }));
  },
};
