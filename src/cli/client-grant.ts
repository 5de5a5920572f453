import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, printChange } from './acting.js';
import type { Command } from './command.js';
import { GRANT_OPTIONS, GRANT_USAGE, grantRequest, grantsText } from './client-grants.js';

export const clientGrant: Command = {
  name: 'client grant',
  summary: 'grant a system client more seals, scopes or licence types (under two-person control)',
  usage: `${GRANT_USAGE}${ACTING_USAGE}`,
  positionals: 1,
  options: { ...GRANT_OPTIONS, ...ACTING_OPTIONS },
  async run(ctx) {
    const request = grantRequest(ctx, 'grant');
    return actAs(ctx, async (services, actor) => printChange(ctx, await requestChange(services, actor, 'client.grant', request), grantsText, { flat: true }));
  },
};
