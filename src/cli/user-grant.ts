import { requestChange } from '../access/two-person.js';
import { actAs, listFlag, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';
import { personName } from './user-input.js';

export const userGrant: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user grant NAME --roles ROLE[,ROLE…]');
    const roles = listFlag(ctx, 'roles');
    if (!roles?.length) throw new UsageError('name the roles: --roles ROLE[,ROLE…]');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.grant', { name, roles }), (r) => `${String(r.name)} now has ${(r.roles as string[]).join(', ')}`, { flat: true }));
  },
};
